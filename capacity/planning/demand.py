"""Demand model: users connected on a plaque, per time slot, from the school calendar.

users(t) = Σ over segments (level × département) and profiles of
           population × rate[profile, day state, weekday, local time of day] × surge(flags, state, time).
Rates are per state × time slot (not one daily curve times a per-day factor): the shape of the day
changes with the state. They are shared across plaques, so a state never seen on one plaque is still
predicted there. The shipped prior comes from `data/default_rates.yaml` (sources inside); `capctl fit`
replaces it with rates learned from Prometheus.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import STATE_INDEX, DayInfo, DayState
from capacity.common.errors import ConfigError
from capacity.common.timegrid import BASE_STEP_S, SLOTS_PER_DAY, DayGrid, day_grid
from capacity.common.yamlio import load_yaml_text
from capacity.policy.topology import PROFILES, Plaque

FloatArray = npt.NDArray[np.float64]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FLAGS = ("rentree", "bascule")
MORNING_FROM_H, MORNING_TO_H = 6.0, 12.0

#: z of the forecast's 90 % band (two-sided): low/high = mean × (1 ∓ BAND_Z × relative error).
BAND_Z = 1.64


@dataclass(frozen=True)
class UsageRates:
    """Learned or prior usage rates.

    rates: [profile, state, weekday, base slot] fraction of accounts connected (base slot = 5 min).
    surge: [flag, state, base slot] multiplier (>= 1) on days flagged rentree / bascule.
    relative_error: [2] relative std for ordinary days and event days (uncertainty band).
    extra_error: [1 + flag (+ 1), state] relative std added (in quadrature) to a segment's day: row 0 for a
        segment in that state (a state learnt from few days, or never seen), row 1 + f for a segment
        flagged f in that state (a surge learnt from few events), and (optional) a last row for the
        rentrée after the summer (`summer_surge`, learnt from one date a year). None: nothing added.
    """

    rates: FloatArray
    surge: FloatArray
    relative_error: FloatArray
    source: str
    extra_error: FloatArray | None = None
    summer_surge: FloatArray | None = None  # [state, slot] rentrée surge after the summer break (None: surge[0])
    level_year: int | None = None  # school year the plaque's level was read on (None: not read, the prior)

    def rentree_surge(self, summer: bool) -> FloatArray:
        """[state, slot] surge of a rentrée: after the summer break, or after shorter holidays."""
        if summer and self.summer_surge is not None:
            return self.summer_surge
        return np.asarray(self.surge[0], dtype=np.float64)

    def day_error(self, states: Sequence[int], flags: Sequence[Sequence[bool]], day: date | None = None) -> float:
        """Relative std of one day's daily peak: segment states (STATE_INDEX) and their flags (FLAGS order).

        A day of a later school year than the level was read on (`day` given) adds NEW_YEAR_ERROR."""
        event = any(any(f) for f in flags)
        base = float(self.relative_error[1 if event else 0])
        extra = 0.0
        if self.extra_error is not None:
            summer = day is not None and after_summer(day) and self.extra_error.shape[0] > 1 + len(FLAGS)
            for s, fl in zip(states, flags, strict=True):
                extra = max(extra, float(self.extra_error[0, s]))
                for f, on in enumerate(fl):
                    if on:  # the rentrée after the summer: its own row, never less than any rentrée's
                        rows = [1 + f, 1 + len(FLAGS)] if summer and f == 0 else [1 + f]
                        extra = max(extra, *(float(self.extra_error[r, s]) for r in rows))
        stale = self.level_year is not None and day is not None and school_year(day) > self.level_year
        return math.hypot(base, extra, NEW_YEAR_ERROR if stale else 0.0)

    def __post_init__(self) -> None:
        expected = (len(PROFILES), len(DayState), 7, SLOTS_PER_DAY)
        if self.rates.shape != expected:
            raise ConfigError(f"usage rates have shape {self.rates.shape}, expected {expected}", path=self.source)
        if self.surge.shape != (len(FLAGS), len(DayState), SLOTS_PER_DAY):
            raise ConfigError(f"surges have shape {self.surge.shape}", path=self.source)
        if not np.all(np.isfinite(self.rates)) or np.any(self.rates < 0):
            raise ConfigError("usage rates must be finite and >= 0", path=self.source)


@dataclass(frozen=True)
class DayForecast:
    """Forecast of users connected on one plaque for one local day.

    `users[i]` is the peak of users connected within slot i of `grid` (a 1-hour slot holds the 7:45
    rush, not just the 7:00 value); `users_by_segment` splits it by segment (for funders' shares) and
    `users_by_segment_profile` [segment, profile, slot] splits each segment's peak by profile, taken at
    the instant of that peak (for per-profile admission quotas when a mandate falls short).
    """

    plaque: str
    day: date
    grid: DayGrid
    users: FloatArray
    users_by_segment: FloatArray
    low: FloatArray
    high: FloatArray
    infos: tuple[DayInfo, ...]
    users_by_segment_profile: FloatArray | None = None


#: Relative std a level read on the previous school year adds to a day of the new one (learning/levels.py).
#: Judgement, as in learning/pooling.py (how much a year's accounts may differ from the last), not tuned.
NEW_YEAR_ERROR = 0.2


def school_year(day: date) -> int:
    """School year of `day` by its first calendar year, switching on 1 August (inside every summer break)."""
    return day.year if day.month >= 8 else day.year - 1


def after_summer(day: date) -> bool:
    """Whether a rentrée on `day` ends the summer break (the September rentrée, or a late-August one)."""
    return day.month in (8, 9)


def _hours() -> FloatArray:
    return np.arange(SLOTS_PER_DAY, dtype=np.float64) * BASE_STEP_S / 3600.0


def _shape(name: str, spec: Mapping[str, Any], seen: tuple[str, ...] = ()) -> FloatArray:
    if name not in spec:
        raise ConfigError(f"shape {name!r} is not defined under `shapes`", path="default_rates.yaml")
    if name in seen:
        raise ConfigError(f"shape {name!r} mixes itself", path="default_rates.yaml")
    body = spec[name]
    if "mix" in body:
        mixed: FloatArray = np.sum([w * _shape(n, spec, (*seen, name)) for n, w in body["mix"].items()], axis=0)
        return mixed
    h = _hours()
    out = np.full(SLOTS_PER_DAY, float(body.get("floor", 0.0)))
    for b in body.get("bumps", []):
        out += b["height"] * np.exp(-0.5 * ((h - b["center_h"]) / b["width_h"]) ** 2)
    for p in body.get("plateaus", []):
        rise = 1 / (1 + np.exp(-(h - p["from_h"]) / (p["edge_h"] / 4)))
        fall = 1 / (1 + np.exp((h - p["to_h"]) / (p["edge_h"] / 4)))
        out += p["height"] * rise * fall
    return out


def _morning_weight() -> FloatArray:
    h = _hours()
    rise = 1 / (1 + np.exp(-(h - MORNING_FROM_H) / 0.25))
    fall = 1 / (1 + np.exp((h - MORNING_TO_H) / 0.5))
    return rise * fall


def rates_from_spec(spec: Mapping[str, Any], source: str) -> UsageRates:
    """Build rate arrays from the parametric prior (see default_rates.yaml)."""
    shapes = spec["shapes"]
    rates = np.zeros((len(PROFILES), len(DayState), 7, SLOTS_PER_DAY))
    for state in DayState:
        body = spec["states"][state.value]
        for w, wname in enumerate(WEEKDAYS):
            curve = _shape(body["shapes"][wname], shapes)
            for p, profile in enumerate(PROFILES):
                rates[p, STATE_INDEX[state], w] = body["scale"][profile] * curve
    surge = np.ones((len(FLAGS), len(DayState), SLOTS_PER_DAY))
    morning = _morning_weight()
    for f, flag in enumerate(FLAGS):
        for state_name, m in spec["surges"].get(flag, {}).items():
            s = STATE_INDEX[DayState(state_name)]
            surge[f, s] = m["day"] + (m["morning"] - m["day"]) * morning
    err = spec.get("relative_error", {})
    rel = np.array([float(err.get("ordinary", 0.12)), float(err.get("event", 0.3))])
    return UsageRates(rates=rates, surge=surge, relative_error=rel, source=source)


@cache
def default_rates() -> UsageRates:
    """The shipped prior (no Prometheus needed)."""
    text = resources.files("capacity.planning").joinpath("data/default_rates.yaml").read_text(encoding="utf-8")
    doc = load_yaml_text(text, "capacity/planning/data/default_rates.yaml")
    return rates_from_spec(doc.data, "default prior (planning/data/default_rates.yaml)")


def _base_slots(day: date) -> tuple[npt.NDArray[np.int64], int]:
    """Base-slot index of every 5-minute instant of the local day (DST: 276 or 300 of them)."""
    grid = day_grid(day, BASE_STEP_S)
    return grid.base_slot, len(grid)


def _segment_terms(
    rates: UsageRates, plaque: Plaque, day: date, infos: Sequence[DayInfo]
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """(population [segment, profile], rates [profile, segment, instant], surge factor [segment, instant] or None)."""
    base, _ = _base_slots(day)
    weekday = day.weekday()
    pop = plaque.population_matrix()  # [segment, profile]
    states = np.fromiter((STATE_INDEX[i.state] for i in infos), dtype=np.int64, count=len(infos))
    # rates[:, states, weekday][:, :, base] → [profile, segment, instant]
    per_profile = rates.rates[:, states, weekday][:, :, base]
    # A day can be both a rentrée and a bascule (Good Friday made 6 Apr 2021 a rentrée in Alsace-Moselle):
    # the surges are alternative explanations of the same rush, so the larger applies, not their product.
    factor: FloatArray | None = None
    for f, flag in enumerate(FLAGS):
        flagged = np.fromiter((getattr(i, flag) for i in infos), dtype=bool, count=len(infos))
        if flagged.any():
            if factor is None:
                factor = np.ones((len(infos), len(base)))
            surge = rates.surge[f] if f != 0 or not after_summer(day) else rates.rentree_surge(True)
            factor[flagged] = np.maximum(factor[flagged], surge[states[flagged]][:, base])
    return pop, per_profile, factor


def segment_profile_users(rates: UsageRates, plaque: Plaque, day: date, infos: Sequence[DayInfo]) -> FloatArray:
    """Users connected per segment and profile at every 5-minute instant: array [segment, profile, instant]."""
    pop, per_profile, factor = _segment_terms(rates, plaque, day, infos)
    users: FloatArray = np.asarray(np.einsum("sp,psi->spi", pop, per_profile), dtype=np.float64)
    if factor is not None:
        users *= factor[:, None, :]
    return users


def segment_users(rates: UsageRates, plaque: Plaque, day: date, infos: Sequence[DayInfo]) -> FloatArray:
    """Users connected per segment at every 5-minute instant of `day`: array [segment, instant]."""
    pop, per_profile, factor = _segment_terms(rates, plaque, day, infos)
    users: FloatArray = np.asarray(np.einsum("sp,psi->si", pop, per_profile), dtype=np.float64)
    if factor is not None:
        users *= factor
    return users


def reduce_to_grid(values: FloatArray, grid: DayGrid) -> FloatArray:
    """Peak within each slot of `grid` from values at 5-minute instants (last axis)."""
    per_slot = grid.step_s // BASE_STEP_S
    n = len(grid)
    peaks: FloatArray = values[..., : n * per_slot].reshape(*values.shape[:-1], n, per_slot).max(axis=-1)
    return peaks


def forecast_day(rates: UsageRates, plaque: Plaque, day: date, infos: Sequence[DayInfo], step_s: int) -> DayForecast:
    """Forecast one day of one plaque, given the calendar's answer for each of its segments."""
    grid = day_grid(day, step_s)
    pop, per_profile, factor = _segment_terms(rates, plaque, day, infos)
    by_instant = np.einsum("sp,psi->si", pop, per_profile)
    if factor is not None:
        by_instant *= factor
    # each segment's peak within each slot, and its split by profile at that very instant
    per_slot, n = grid.step_s // BASE_STEP_S, len(grid)
    cut = by_instant[:, : n * per_slot].reshape(len(infos), n, per_slot)
    instant = cut.argmax(axis=-1) + np.arange(n) * per_slot  # [segment, slot]
    seg = np.arange(len(infos))[:, None]
    by_segment = by_instant[seg, instant]
    by_profile = pop[:, :, None] * per_profile[:, seg, instant].transpose(1, 0, 2)
    if factor is not None:
        by_profile *= factor[seg, instant][:, None, :]
    users = by_segment.sum(axis=0)
    rel = rates.day_error([STATE_INDEX[i.state] for i in infos], [[getattr(i, f) for f in FLAGS] for i in infos], day)
    return DayForecast(
        plaque=plaque.id,
        day=day,
        grid=grid,
        users=users,
        users_by_segment=by_segment,
        low=users * max(0.0, 1 - BAND_Z * rel),
        high=users * (1 + BAND_Z * rel),
        infos=tuple(infos),
        users_by_segment_profile=by_profile,
    )
