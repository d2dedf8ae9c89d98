"""Local school days as arrays: observed curves per day and what the calendar says about each day.

The fitter, the backtest and the synthetic generator all reason per local day (Europe/Paris) and per
5-minute slot of that day. Two pieces live here:
  * `day_curves` cuts a UTC history into [profile, day, slot] (DST days: the repeated hour keeps its
    later half, the missing hour stays NaN);
  * `compose` asks the calendar about every segment of a plaque and sums populations per day state
    (and per surge flag), which is all the demand model needs: users = Σ_state population × rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import CLASS_STATES, STATE_INDEX, Calendar, DayState, Level, Place
from capacity.common.timegrid import BASE_STEP_S, SLOTS_PER_DAY, day_grid
from capacity.learning.window import midnight_s
from capacity.planning.demand import FLAGS, UsageRates, after_summer
from capacity.policy.topology import PROFILES, Plaque

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

N_STATES = len(DayState)
#: Flag combinations a segment can carry on one day: rentrée only, bascule only, both.
COMBOS = ((True, False), (False, True), (True, True))
CLASS_INDEX = np.array([STATE_INDEX[s] for s in DayState if s in CLASS_STATES], dtype=np.int64)


@dataclass(frozen=True)
class PlaqueDays:
    """The calendar's view of one plaque over consecutive days.

    base[profile, day, state]: population of unflagged segments in that state;
    flagged[profile, day, state, combo]: population of flagged segments (combo in COMBOS order).
    """

    plaque: Plaque
    state: IntArray  # [day, segment] STATE_INDEX codes
    flags: BoolArray  # [day, segment, flag] (FLAGS order)
    base: FloatArray
    flagged: FloatArray
    summer: BoolArray | None = None  # [day] a rentrée on that day ends the summer break (demand.after_summer)

    @cached_property
    def population(self) -> FloatArray:
        """Total population per profile (constant over days)."""
        return np.asarray(self.base[:, 0].sum(axis=-1) + self.flagged[:, 0].sum(axis=(-1, -2)))

    @cached_property
    def event(self) -> BoolArray:
        """Days on which some segment is flagged rentrée or bascule (the calendar's event days)."""
        return np.asarray(self.flagged.sum(axis=(0, 2, 3)) > 0)

    @cached_property
    def dominant(self) -> IntArray:
        """State holding most of the plaque's accounts each day."""
        return np.asarray((self.base + self.flagged.sum(axis=-1)).sum(axis=0).argmax(axis=-1), dtype=np.int64)

    @cached_property
    def class_day(self) -> BoolArray:
        return np.isin(self.dominant, CLASS_INDEX)


@dataclass(frozen=True)
class DayFrame:
    days: tuple[date, ...]
    weekday: IntArray
    plaques: dict[str, PlaqueDays]

    def index(self, day: date) -> int:
        return (day - self.days[0]).days


class ArrayCalendar(Protocol):
    """Calendars that can answer a whole range at once (SchoolCalendar does)."""

    def day_arrays(self, start: date, end: date, place: Place, level: Level) -> Any: ...


def compose(calendar: Calendar, plaques: Sequence[Plaque], first: date, last: date) -> DayFrame:
    """Ask the calendar about every segment of every plaque for first..last (inclusive)."""
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    weekday = np.array([d.weekday() for d in days], dtype=np.int64)
    return DayFrame(days=days, weekday=weekday, plaques={p.id: plaque_days(calendar, p, first, last) for p in plaques})


def segment_states(calendar: Calendar, plaque: Plaque, first: date, last: date) -> tuple[IntArray, BoolArray]:
    """State codes [day, segment] and flags [day, segment, flag] of a plaque over first..last."""
    n_days = (last - first).days + 1
    state = np.zeros((n_days, len(plaque.segments)), dtype=np.int64)
    flags = np.zeros((n_days, len(plaque.segments), len(FLAGS)), dtype=bool)
    for k, seg in enumerate(plaque.segments):
        place = Place(departement=seg.departement)
        if hasattr(calendar, "day_arrays"):
            arrays = cast(ArrayCalendar, calendar).day_arrays(first, last, place, seg.level)
            state[:, k] = arrays.states
            flags[:, k, 0], flags[:, k, 1] = arrays.rentree, arrays.bascule
            continue
        for i in range(n_days):
            info = calendar.day(first + timedelta(days=i), place, seg.level)
            state[i, k] = STATE_INDEX[info.state]
            flags[i, k] = [getattr(info, f) for f in FLAGS]
    return state, flags


def plaque_days(calendar: Calendar, plaque: Plaque, first: date, last: date) -> PlaqueDays:
    pop = plaque.population_matrix()  # [segment, profile]
    state, flags = segment_states(calendar, plaque, first, last)
    n_days, n_seg = state.shape
    onehot = np.zeros((n_days, n_seg, N_STATES))
    np.put_along_axis(onehot, state[..., None], 1.0, axis=-1)
    unflagged = np.asarray(~flags.any(axis=-1), dtype=bool)
    base = np.einsum("sq,dsk->qdk", pop, onehot * unflagged[..., None])
    flagged = np.zeros((len(PROFILES), n_days, N_STATES, len(COMBOS)))
    for c, combo in enumerate(COMBOS):
        mask = np.all(flags == np.array(combo), axis=-1)
        flagged[..., c] = np.einsum("sq,dsk->qdk", pop, onehot * mask[..., None])
    summer = np.array([after_summer(first + timedelta(days=i)) for i in range(n_days)], dtype=bool)
    return PlaqueDays(plaque=plaque, state=state, flags=flags, base=base, flagged=flagged, summer=summer)


def combo_surges(rates: UsageRates, summer: bool = False) -> FloatArray:
    """Surge multiplier [combo, state, slot]: a segment flagged twice gets both surges."""
    rentree, bascule = rates.rentree_surge(summer), rates.surge[1]
    return np.stack([rentree, bascule, rentree * bascule])


def expected(rates: UsageRates, pd: PlaqueDays, weekday: IntArray) -> FloatArray:
    """Users the rates predict per [profile, day, slot], before any per-plaque level (vectorised
    `demand.segment_users` summed over segments)."""
    out = mix(pd.base, rates.rates, weekday)
    if pd.flagged.any():
        summer = pd.summer if pd.summer is not None and rates.summer_surge is not None else None
        kinds = [(False, None)] if summer is None or not summer.any() else [(False, ~summer), (True, summer)]
        for is_summer, days in kinds:
            surges = combo_surges(rates, is_summer)
            for c in range(len(COMBOS)):
                weights = pd.flagged[..., c] if days is None else pd.flagged[..., c] * days[None, :, None]
                if weights.any():
                    surged = rates.rates * surges[c][None, :, None, :]
                    out += mix(weights, surged, weekday)
    return out


def mix(weights: FloatArray, rates: FloatArray, weekday: IntArray) -> FloatArray:
    """Σ_state weights[q, day, state] × rates[q, state, weekday(day), slot] → [q, day, slot].

    One matrix product per (profile, weekday): far faster than gathering a [q, state, day, slot] array.
    """
    n_q, n_days = weights.shape[0], weights.shape[1]
    out = np.zeros((n_q, n_days, rates.shape[-1]))
    for wd in np.unique(weekday):
        sel = weekday == wd
        for q in range(n_q):
            out[q, sel] = weights[q, sel] @ rates[q, :, wd, :]
    return out


def slot_index(start_s: int, step_s: int, n: int, days: Sequence[date]) -> IntArray:
    """History index feeding each 5-minute slot of each local day: [day, slot], -1 when outside.

    A coarser history (15-min scrapes) holds each sample over the slots it covers.
    """
    out = np.full((len(days), SLOTS_PER_DAY), -1, dtype=np.int64)
    offsets = np.arange(SLOTS_PER_DAY, dtype=np.int64) * BASE_STEP_S
    for i, d in enumerate(days):
        t0 = midnight_s(d)
        length = midnight_s(d + timedelta(days=1)) - t0
        if length == SLOTS_PER_DAY * BASE_STEP_S:
            instants, slots = t0 + offsets, np.arange(SLOTS_PER_DAY)
        else:  # DST: 276 or 300 instants; base slot = local time of day
            grid = day_grid(d, BASE_STEP_S)
            instants = np.array([int(s.timestamp()) for s in grid.starts], dtype=np.int64)
            slots = grid.base_slot
        idx = (instants - start_s) // step_s
        ok = (instants >= start_s) & (idx < n)
        out[i, slots[ok]] = idx[ok]
    return out


def day_curves(samples: FloatArray, index: IntArray) -> FloatArray:
    """Cut samples [..., instant] into [..., day, slot] with the index from `slot_index` (NaN outside)."""
    safe = np.where(index >= 0, index, 0)
    out = np.asarray(samples[..., safe], dtype=np.float64)
    out[..., index < 0] = np.nan
    return out
