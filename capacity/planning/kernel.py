"""Planner: forecast + capacity model + mandates → replicas per slot, each number with its reasons.

Pure: no clock, no I/O. For every component of every plaque:
  need     replicas for the slot's own forecast demand (sizing.replicas_for_users);
  wish     need pre-warmed: the most any slot in the next `prewarm_s` needs (reason `prewarm`); where the
           forecast climbs faster than a reactive HPA follows (the rush), need is sized on the forecast's
           upper band instead of its mean (reason `rush-band`): an under-forecast rush cannot be caught
           within the start-up delay, a plateau can;
  shares   the wish split between funders pro rata of the users each funds at the slot that drove it;
  replicas each share clamped by its funder's mandate — floor, ceiling, budget ceiling, maintenance
           hold (reasons `floor:<id>`, `ceiling:<id>`, `budget:<id>`, `maintenance:<id>`; see
           capacity/planning/combine.py) — then summed, so every replica is attributable to one
           collectivité and none pays beyond its mandate;
  cost     each funder's replicas priced with the operator's prices (euros per slot);
  shortfall where clamps leave a funder's users without capacity, who is kept out, per profile, by its
           admission quotas (capacity/planning/shortfall.py).
Budgets are monthly, so a day's budget ceilings come from the month's plan (capacity/planning/budget.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import Calendar, DayInfo, Place
from capacity.common.arrays import forward_argmax
from capacity.common.errors import ConfigError, french
from capacity.planning import reasons
from capacity.planning.combine import (
    ComponentLimitsDay,
    budget_levels,
    clamp,
    constant_limits,
    slot_minutes,
    span_limits,
)
from capacity.planning.demand import DayForecast, UsageRates
from capacity.planning.reasons import ReasonKind
from capacity.planning.shortfall import Shortfall, funders_shortfall
from capacity.policy.bundle import Funder, Policies
from capacity.policy.mandates.problems import LEVELS_FR
from capacity.policy.prices import Prices
from capacity.policy.sizing import prewarm, prewarm_window_slots, replicas_for_users, users_served
from capacity.policy.topology import Component, Plaque

#: A rise the reactive HPA cannot follow: more than its default tolerance (0.1) within one pod lead time.
RUSH_RISE = 0.1
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ComponentPlan:
    """Per-slot numbers for one component. Funder axes follow `funder_ids`.

    `floor`/`ceiling` are the plaque's (sums over funders); `budget_ceiling` is the sum of what each
    funder's budget allows (equal to `ceiling` when no budget binds). Every field is always filled.
    """

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
    budget_hit: BoolArray  # [funder, slot] the budget ceiling cut the share
    hold_hit: BoolArray  # [funder, slot] a maintenance window kept replicas up
    funder_floor: IntArray  # [funder, slot]
    funder_cap: IntArray  # [funder, slot] min(ceiling, budget ceiling), never under the floor
    funder_clamped: IntArray  # [funder, slot] after floor and ceiling, before budget
    funder_cost_eur: FloatArray  # [funder, slot] (zeros without operator prices)
    budget_ceiling: IntArray  # [slot]
    funder_ceiling: IntArray  # [funder] the mandates' ceilings
    maintenance: BoolArray  # [funder, slot] inside one of the funder's maintenance windows
    band_hit: BoolArray  # [slot] the wish was sized on the forecast's upper band (rush)

    def reasons(self, slot: int) -> tuple[str, ...]:
        """Why slot `slot` has the number it has, in the order the steps applied."""
        out = [ReasonKind.PREWARM.value if self.wish[slot] > self.need[slot] else ReasonKind.FORECAST.value]
        if self.band_hit[slot]:
            out.append(ReasonKind.RUSH_BAND.value)
        for f, fid in enumerate(self.funder_ids):
            if self.floor_hit[f, slot]:
                out.append(reasons.floor(fid))
            if self.ceiling_hit[f, slot]:
                out.append(reasons.ceiling(fid))
            if self.budget_hit[f, slot]:
                out.append(reasons.budget(fid))
            if self.hold_hit[f, slot]:
                out.append(reasons.maintenance(fid))
        return tuple(out)


@dataclass(frozen=True)
class PlaquePlan:
    plaque: Plaque
    forecast: DayForecast
    components: tuple[ComponentPlan, ...]
    shortfall: Shortfall | None = None  # users kept out per funder and profile (None: not computed)

    def funder_cost_eur(self) -> FloatArray:
        """[funder, slot] euros over every component."""
        costs = [cp.funder_cost_eur for cp in self.components]
        if not costs:
            return np.zeros((0, len(self.forecast.users)))  # no component: no funder axis to cost
        return np.asarray(np.sum(costs, axis=0), dtype=np.float64)

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
    policy_files: Mapping[str, str] = field(default_factory=dict)  # file → sha256 (audit trail)
    budget_levels: Mapping[str, float] = field(default_factory=dict)  # mandate → θ applied (binding only)


def rates_for(rates: UsageRates | Mapping[str, UsageRates], plaque_id: str | None) -> UsageRates:
    """The usage rates of one plaque (None: any one, e.g. to name their source)."""
    if isinstance(rates, UsageRates):
        return rates
    return rates[plaque_id] if plaque_id is not None else next(iter(rates.values()))


def segment_infos(calendar: Calendar, plaque: Plaque, day: date) -> tuple[DayInfo, ...]:
    """The calendar's answer for each segment of `plaque` on `day`."""
    return tuple(calendar.day(day, Place(departement=s.departement), s.level) for s in plaque.segments)


def make_plan(
    day: date,
    step_s: int,
    plaques: Sequence[PlaquePlan],
    policies: Policies,
    rates: UsageRates | Mapping[str, UsageRates],
    budget: Mapping[str, float] | None,
) -> Plan:
    """The Plan value with its audit trail (policy hashes) and the binding budget levels."""
    return Plan(
        day=day,
        step_s=step_s,
        plaques=tuple(plaques),
        policy_sha256=policies.sha256,
        rates_source=rates_for(rates, None).source,
        policy_files=dict(policies.files),
        budget_levels={k: v for k, v in (budget or {}).items() if v < 1.0},
    )


def funders_on(policies: Policies, plaque: Plaque, day: date) -> tuple[Funder, ...]:
    """The funders in force on `day`; a segment left without one is a policy error (said in French)."""
    funders = policies.funders(plaque, day)
    covered = {i for f in funders for i in f.segments}
    missing = [s for i, s in enumerate(plaque.segments) if i not in covered]
    if missing:
        seg = missing[0]
        raise french(
            ConfigError(
                f"le {day}, aucun mandat en vigueur ne finance les {LEVELS_FR[seg.level.value]} du département "
                f"{seg.departement} sur la plaque {plaque.id} ; prolongez ou ajoutez un mandat (validite)",
                path=policies.root,
            )
        )
    return funders


def plan_plaque(
    plaque: Plaque,
    today: DayForecast,
    tomorrow: DayForecast | None,
    funders: Sequence[Funder],
    prices: Prices | None = None,
    budget: Mapping[str, float] | None = None,
) -> PlaquePlan:
    """Plan every component of one plaque for `today`; `tomorrow` lets late slots pre-warm across midnight.

    `budget` gives the month's budget level θ per mandate id (missing: not binding).
    """
    return plan_span(plaque, [today], tomorrow, funders, prices, budget).day_plans()[0]


@dataclass(frozen=True)
class SpanPlan:
    """Consecutive days of one plaque planned in one pass; `bounds[i]:bounds[i+1]` are day i's slots."""

    plaque: Plaque
    days: tuple[DayForecast, ...]
    bounds: tuple[int, ...]
    components: tuple[ComponentPlan, ...]
    shortfall: Shortfall | None

    def day_plans(self) -> tuple[PlaquePlan, ...]:
        b = self.bounds
        return tuple(
            PlaquePlan(
                plaque=self.plaque,
                forecast=fc,
                components=tuple(_cut(cp, b[i], b[i + 1]) for cp in self.components),
                shortfall=None if self.shortfall is None else self.shortfall.cut(b[i], b[i + 1], i),
            )
            for i, fc in enumerate(self.days)
        )

    def day_of_slot(self) -> IntArray:
        return np.repeat(np.arange(len(self.days)), np.diff(self.bounds))


def plan_span(
    plaque: Plaque,
    days: Sequence[DayForecast],
    after: DayForecast | None,
    funders: Sequence[Funder],
    prices: Prices | None = None,
    budget: Mapping[str, float] | None = None,
    *,
    shortfall: bool = True,
) -> SpanPlan:
    """Plan consecutive days of one plaque (same funders throughout) in one vectorised pass.

    The days' slots are laid end to end, so pre-warm and maintenance holds cross midnight; `after`
    (the next day's forecast, if known) lets the last slots pre-warm. `shortfall=False` skips who the
    clamps keep out (a third of the work; the budget search only needs replicas and costs).
    """
    lengths = [len(d.users) for d in days]
    n = sum(lengths)
    parts = [*days, after] if after is not None else list(days)
    users = np.concatenate([d.users for d in parts])
    high = np.concatenate([d.high for d in parts])
    by_seg = np.concatenate([d.users_by_segment for d in parts], axis=1)
    funder_users = np.array([by_seg[list(f.segments)].sum(axis=0) for f in funders]).reshape(len(funders), -1)
    limits = span_limits(plaque, funders, [d.grid for d in days], [d.infos for d in days])
    levels = budget_levels(funders, budget)
    step_s = days[0].grid.step_s
    comps = tuple(
        plan_component(
            c,
            users,
            funder_users,
            funders,
            step_s,
            n,
            high=high,
            limits=limits[c.name],
            levels=levels,
            eur_per_slot=prices.replica_hour_eur(c) * step_s / 3600 if prices else 0.0,
        )
        for c in plaque.components
    )
    bounds = tuple(int(x) for x in np.concatenate([[0], np.cumsum(lengths)]))
    day_idx = np.repeat(np.arange(len(days)), lengths)
    kept_out = _shortfall(days, funders, comps, day_idx) if shortfall else None
    return SpanPlan(plaque, tuple(days), bounds, comps, kept_out)


_PER_SPAN = ("component", "funder_ids", "funder_ceiling")
_PER_SLOT = tuple(f.name for f in fields(ComponentPlan) if f.name not in _PER_SPAN)


def _cut(cp: ComponentPlan, a: int, b: int) -> ComponentPlan:
    """The slots [a, b) of a span's component plan."""
    sliced: dict[str, Any] = {}
    for k in _PER_SLOT:
        v = getattr(cp, k)
        sliced[k] = None if v is None else v[..., a:b]
    return ComponentPlan(component=cp.component, funder_ids=cp.funder_ids, funder_ceiling=cp.funder_ceiling, **sliced)


def _shortfall(
    days: Sequence[DayForecast], funders: Sequence[Funder], comps: Sequence[ComponentPlan], day_idx: IntArray
) -> Shortfall | None:
    """Who each funder's clamped capacity keeps out, per profile (None without a per-profile forecast)."""
    profiles = [d.users_by_segment_profile for d in days]
    if not funders or any(p is None for p in profiles):
        return None
    by_profile = np.concatenate([p for p in profiles if p is not None], axis=2)
    served = [users_served(cp.funder_replicas, cp.component) for cp in comps]
    limited = [cp.funder_replicas < cp.funder_wish for cp in comps]
    budget = [cp.budget_hit for cp in comps]
    minutes = np.concatenate([slot_minutes(d.grid) for d in days])
    return funders_shortfall(by_profile, funders, served, limited, budget, minutes, day_idx)


def plan_component(
    component: Component,
    users: FloatArray,
    funder_users: FloatArray,
    funders: Sequence[Funder],
    step_s: int,
    n: int,
    *,
    high: FloatArray | None = None,
    limits: ComponentLimitsDay | None = None,
    levels: FloatArray | None = None,
    eur_per_slot: float = 0.0,
) -> ComponentPlan:
    """Need → wish (pre-warm) → funder shares → clamped replicas, for the first `n` slots of `users`.

    With `high` (the forecast's upper band), slots where the forecast rises are sized on the band (see
    `rush_need`): the reactive HPA cannot catch an under-forecast rush within the start-up delay.
    """
    need_all = replicas_for_users(users, component)
    sized = need_all if high is None else rush_need(users, high, component, step_s)
    window = prewarm_window_slots(component, step_s)
    most, at = forward_argmax(sized, window, n)
    source = np.minimum(at + np.arange(n), len(users) - 1)
    wish = most.astype(np.int64)
    need = need_all[:n]
    mean_wish = prewarm(need_all, window)[:n]

    shares = _shares(funder_users[:, source], users[source])
    funder_wish = apportion(wish, shares)
    limits = limits if limits is not None else constant_limits(component, funders, n)
    levels = levels if levels is not None else np.ones(len(funders))
    c = clamp(funder_wish, limits, levels)
    replicas = c.replicas.sum(axis=0).astype(np.int64)
    return ComponentPlan(
        component=component,
        need=need,
        wish=wish,
        replicas=replicas,
        floor=limits.floor.sum(axis=0).astype(np.int64),
        ceiling=np.full(n, limits.ceiling.sum(), dtype=np.int64),
        funder_ids=tuple(f.mandate.id for f in funders),
        funder_wish=funder_wish,
        funder_replicas=c.replicas,
        floor_hit=c.floor_hit,
        ceiling_hit=c.ceiling_hit,
        budget_hit=c.budget_hit,
        hold_hit=c.hold_hit,
        funder_floor=limits.floor,
        funder_cap=c.cap,
        funder_clamped=c.clamped,
        funder_cost_eur=np.asarray(c.replicas * eur_per_slot, dtype=np.float64),
        budget_ceiling=c.cap.sum(axis=0).astype(np.int64),
        funder_ceiling=limits.ceiling,
        maintenance=limits.hold,
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
