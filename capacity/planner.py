"""Planner: forecast + capacity model + mandates → replicas per slot, each number with its reasons.

Pure: no clock, no I/O. For every component of every plaque:
  need     replicas for the slot's own forecast demand (sizing.replicas_for_users);
  wish     need pre-warmed: the most any slot in the next `prewarm_s` needs (reason `prewarm`); where the
           forecast climbs faster than a reactive HPA follows (the rush), need is sized on the forecast's
           upper band instead of its mean (reason `rush-band`): an under-forecast rush cannot be caught
           within the start-up delay, a plateau can;
  shares   the wish split between funders pro rata of the users each funds at the slot that drove it;
  replicas each share clamped by its funder's floor and ceiling (reasons `floor:<id>`, `ceiling:<id>`),
           then summed, so every replica is attributable to one collectivité and none pays beyond its
           mandate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import DayInfo, Level, Place
from capacity.demand import DayForecast, UsageRates, forecast_day
from capacity.errors import InputError
from capacity.policies import Funder, Policies
from capacity.sizing import prewarm, prewarm_window_slots, replicas_for_users
from capacity.topology import Component, Plaque

#: A rise the reactive HPA cannot follow: more than its default tolerance (0.1) within one pod lead time.
RUSH_RISE = 0.1
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


class Calendar(Protocol):
    @property
    def supported_range(self) -> tuple[date, date]: ...

    def day(self, d: date, place: Place, level: Level) -> DayInfo: ...


@dataclass(frozen=True)
class ComponentPlan:
    """Per-slot numbers for one component. Funder axes follow `funder_ids`."""

    component: Component
    need: IntArray
    wish: IntArray
    replicas: IntArray
    floor: IntArray
    ceiling: IntArray
    funder_ids: tuple[str, ...]
    funder_wish: IntArray  # [funder, slot]
    funder_replicas: IntArray  # [funder, slot]
    floor_hit: BoolArray  # [funder, slot]
    ceiling_hit: BoolArray  # [funder, slot]
    band_hit: BoolArray | None = None  # [slot] the wish was sized on the forecast's upper band (rush)

    def reasons(self, slot: int) -> tuple[str, ...]:
        """Why slot `slot` has the number it has, in the order the steps applied."""
        out = ["prewarm" if self.wish[slot] > self.need[slot] else "forecast"]
        if self.band_hit is not None and self.band_hit[slot]:
            out.append("rush-band")
        for f, fid in enumerate(self.funder_ids):
            if self.floor_hit[f, slot]:
                out.append(f"floor:{fid}")
            if self.ceiling_hit[f, slot]:
                out.append(f"ceiling:{fid}")
        return tuple(out)


@dataclass(frozen=True)
class PlaquePlan:
    plaque: Plaque
    forecast: DayForecast
    components: tuple[ComponentPlan, ...]

    def component(self, name: str) -> ComponentPlan:
        for c in self.components:
            if c.component.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Plan:
    day: date
    step_s: int
    plaques: tuple[PlaquePlan, ...]
    policy_sha256: str
    rates_source: str


def segment_infos(calendar: Calendar, plaque: Plaque, day: date) -> tuple[DayInfo, ...]:
    """The calendar's answer for each segment of `plaque` on `day`."""
    return tuple(calendar.day(day, Place(departement=s.departement), s.level) for s in plaque.segments)


def plan_day(
    day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: UsageRates | Mapping[str, UsageRates],
    plaque_ids: Sequence[str] | None = None,
) -> Plan:
    """Plan one local day for the given plaques (all by default).

    `rates` is shared by every plaque, or given per plaque id (a fitted model: `Model.rates_by_plaque`).
    """
    return next(iter(plan_range(day, day, step_s, policies, calendar, rates, plaque_ids)))


def plan_range(
    first_day: date,
    last_day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: UsageRates | Mapping[str, UsageRates],
    plaque_ids: Sequence[str] | None = None,
) -> Iterator[Plan]:
    """Plan every day from `first_day` to `last_day` inclusive, forecasting each day once."""
    plaques = [policies.topology.plaque(p) for p in plaque_ids] if plaque_ids else list(policies.topology.plaques)
    first, last = calendar.supported_range
    for d in (first_day, last_day):
        if not first <= d <= last:
            raise InputError(f"date {d} is outside the supported range {first} to {last}")
    funders = {p.id: policies.funders(p) for p in plaques}
    source = rates.source if isinstance(rates, UsageRates) else next(iter(rates.values())).source

    def forecast(plaque: Plaque, d: date) -> DayForecast | None:
        if d > last:
            return None
        mine = rates if isinstance(rates, UsageRates) else rates[plaque.id]
        return forecast_day(mine, plaque, d, segment_infos(calendar, plaque, d), step_s)

    carried: dict[str, DayForecast | None] = {p.id: forecast(p, first_day) for p in plaques}
    day = first_day
    while day <= last_day:
        out = []
        for plaque in plaques:
            today = carried[plaque.id]
            assert today is not None  # day <= last_day <= last
            tomorrow = forecast(plaque, day + timedelta(days=1))
            carried[plaque.id] = tomorrow
            out.append(plan_plaque(plaque, today, tomorrow, funders[plaque.id]))
        yield Plan(day=day, step_s=step_s, plaques=tuple(out), policy_sha256=policies.sha256, rates_source=source)
        day += timedelta(days=1)


def plan_plaque(
    plaque: Plaque, today: DayForecast, tomorrow: DayForecast | None, funders: Sequence[Funder]
) -> PlaquePlan:
    """Plan every component of one plaque for `today`; `tomorrow` lets late slots pre-warm across midnight."""
    n = len(today.users)
    users = today.users if tomorrow is None else np.concatenate([today.users, tomorrow.users])
    high = today.high if tomorrow is None else np.concatenate([today.high, tomorrow.high])
    by_seg = (
        today.users_by_segment
        if tomorrow is None
        else np.concatenate([today.users_by_segment, tomorrow.users_by_segment], axis=1)
    )
    funder_users = np.array([by_seg[list(f.segments)].sum(axis=0) for f in funders]).reshape(len(funders), -1)
    comps = tuple(
        plan_component(c, users, funder_users, funders, today.grid.step_s, n, high=high) for c in plaque.components
    )
    return PlaquePlan(plaque=plaque, forecast=today, components=comps)


def plan_component(
    component: Component,
    users: FloatArray,
    funder_users: FloatArray,
    funders: Sequence[Funder],
    step_s: int,
    n: int,
    high: FloatArray | None = None,
) -> ComponentPlan:
    """Need → wish (pre-warm) → funder shares → clamped replicas, for the first `n` slots of `users`.

    With `high` (the forecast's upper band), slots where the forecast rises are sized on the band (see
    `rush_need`): the reactive HPA cannot catch an under-forecast rush within the start-up delay.
    """
    need_all = replicas_for_users(users, component)
    sized = need_all if high is None else rush_need(users, high, component, step_s)
    window = prewarm_window_slots(component, step_s)
    padded = np.concatenate([sized, np.full(window, sized[-1], dtype=np.int64)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window + 1)[:n]
    source = np.minimum(windows.argmax(axis=1) + np.arange(n), len(users) - 1)
    wish = windows.max(axis=1).astype(np.int64)
    need = need_all[:n]
    mean_wish = prewarm(need_all, window)[:n]

    shares = _shares(funder_users[:, source], users[source])
    funder_wish = apportion(wish, shares)
    floors = np.array([f.limits(component.name).floor for f in funders], dtype=np.int64)
    ceils = np.array([f.limits(component.name).ceiling for f in funders], dtype=np.int64)
    clamped = np.clip(funder_wish, floors[:, None], ceils[:, None])
    return ComponentPlan(
        component=component,
        need=need,
        wish=wish,
        replicas=clamped.sum(axis=0).astype(np.int64),
        floor=np.full(n, floors.sum(), dtype=np.int64),
        ceiling=np.full(n, ceils.sum(), dtype=np.int64),
        funder_ids=tuple(f.mandate.id for f in funders),
        funder_wish=funder_wish,
        funder_replicas=clamped.astype(np.int64),
        floor_hit=funder_wish < floors[:, None],
        ceiling_hit=funder_wish > ceils[:, None],
        band_hit=wish > mean_wish,
    )


def rising_slots(users: FloatArray, component: Component, step_s: int) -> BoolArray:
    """Slots whose forecast climbs more than `RUSH_RISE` within one lead time (at least one slot): the rush."""
    lag = max(1, math.ceil(component.lead_time_s / step_s))
    earlier = np.concatenate([np.full(lag, users[0]), users[:-lag]])
    return np.asarray(users > earlier * (1 + RUSH_RISE))


def rush_need(users: FloatArray, high: FloatArray, component: Component, step_s: int) -> IntArray:
    """Replicas per slot: the upper band where the forecast rises, the mean elsewhere."""
    need = replicas_for_users(users, component)
    band = replicas_for_users(high, component)
    return np.where(rising_slots(users, component, step_s), np.maximum(need, band), need).astype(np.int64)


def _shares(funder_users: FloatArray, total: FloatArray) -> FloatArray:
    """Fraction of demand each funder carries per slot; equal split when there is no demand at all."""
    k = funder_users.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total > 0, funder_users / np.where(total > 0, total, 1), 1.0 / max(k, 1))
    return np.asarray(shares, dtype=np.float64)


def apportion(total: IntArray, shares: FloatArray) -> IntArray:
    """Split integer `total[slot]` into integer parts ∝ `shares[funder, slot]` (largest remainder)."""
    exact = shares * total[None, :]
    base = np.floor(exact).astype(np.int64)
    remainder = total - base.sum(axis=0)
    frac = exact - base
    order = np.argsort(-frac, axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[0])[:, None].repeat(shares.shape[1], axis=1), axis=0)
    parts: IntArray = base + (rank < remainder[None, :]).astype(np.int64)
    return parts
