"""Demand traces: users connected per plaque on a regular UTC grid, the input of every strategy.

A trace is what happened, not what was forecast: from the synthetic history (`--synth`, issue 3's
generator, not the planner's model) or from Prometheus. Samples are interpolated to the simulation
step (1 minute by default) and gaps are bridged linearly, so every strategy sees the same demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from capacity.calendar.types import Calendar
from capacity.common.arrays import FloatArray, IntArray
from capacity.common.errors import DataSourceError, InputError
from capacity.learning.history import History
from capacity.learning.synth import Synth, SynthOptions
from capacity.learning.window import midnight_s
from capacity.policy.topology import Plaque


@dataclass(frozen=True)
class DemandTrace:
    """users[plaque, k] connected during [start_s + k·step_s, start_s + (k+1)·step_s) (UTC seconds)."""

    start_s: int
    step_s: int
    plaques: tuple[str, ...]
    users: FloatArray
    source: str

    def __post_init__(self) -> None:
        if self.users.shape[0] != len(self.plaques):
            raise ValueError("one row of users per plaque")

    @property
    def n(self) -> int:
        return int(self.users.shape[1])

    @property
    def times_s(self) -> IntArray:
        return self.start_s + np.arange(self.n, dtype=np.int64) * self.step_s


def local_days_grid(first: date, last: date, step_s: int) -> tuple[int, int]:
    """Start (UTC seconds) and number of steps covering local days first..last inclusive."""
    start = midnight_s(first)
    end = midnight_s(last + timedelta(days=1))
    return start, (end - start) // step_s


def resample(
    start_s: int, step_s: int, values: FloatArray, out_start_s: int, out_step_s: int, n_out: int
) -> FloatArray:
    """Linear interpolation of rows sampled at start_s + k·step_s onto another grid; NaN bridged, ends held."""
    t_in = start_s + np.arange(values.shape[1], dtype=np.float64) * step_s
    t_out = out_start_s + np.arange(n_out, dtype=np.float64) * out_step_s
    out = np.empty((values.shape[0], n_out))
    for p, row in enumerate(values):
        ok = np.isfinite(row)
        if not ok.any():
            raise DataSourceError(f"no demand sample at all for row {p}: cannot replay an empty trace")
        out[p] = np.interp(t_out, t_in[ok], row[ok])
    return out


def synth_trace(
    calendar: Calendar,
    plaques: Sequence[Plaque],
    first: date,
    last: date,
    step_s: int,
    seed: int = 20200316,
    generator: str = "default",
) -> DemandTrace:
    """Users connected from a synthetic history (issue 3's by default, or `generator`), all profiles summed."""
    if 300 % step_s:
        raise InputError(f"simulation step must divide 5 minutes (1m or 5m), got {step_s} s")
    synth = _synthetic(calendar, plaques, first, last, seed, generator)
    rows = np.array([np.nansum(synth.sessions[p.id], axis=0) for p in plaques])
    rows[np.array([np.isnan(synth.sessions[p.id]).any(axis=0) for p in plaques])] = np.nan
    start, n = local_days_grid(first, last, step_s)
    users = resample(synth.start_s, synth.step_s, rows, start, step_s, n)
    label = f"synthetic (seed {seed})" if generator == "default" else f"synthetic {generator} (seed {seed})"
    return DemandTrace(start, step_s, tuple(p.id for p in plaques), users, label)


def synth_history(
    calendar: Calendar,
    plaques: Sequence[Plaque],
    first: date,
    last: date,
    seed: int = 20200316,
    generator: str = "default",
) -> History:
    """The history a synthetic replay's refits read: the same generator and seed as its trace (one world;
    a refit learning another generator's history than the demand it plans for measures nothing)."""
    return _synthetic(calendar, plaques, first, last, seed, generator).history()


def _synthetic(
    calendar: Calendar, plaques: Sequence[Plaque], first: date, last: date, seed: int, generator: str
) -> Synth:
    from capacity.learning.generators import generator as pick_generator

    return pick_generator(generator)(calendar, plaques, first, last, SynthOptions(seed=seed, metrics=("sessions",)))


def history_trace(history: History, plaques: Sequence[Plaque], first: date, last: date, step_s: int) -> DemandTrace:
    """Users connected as Prometheus recorded them (sessions summed over profiles)."""
    start, n = local_days_grid(first, last, step_s)
    rows = []
    for p in plaques:
        s = history.sessions.get(p.id)
        if s is None:
            raise DataSourceError(f"no sessions for plaque {p.id} in {history.source}: cannot replay its demand")
        total = np.where(np.isnan(s).all(axis=0), np.nan, np.nansum(s, axis=0))
        rows.append(total)
    users = resample(history.start_s, history.step_s, np.array(rows), start, step_s, n)
    return DemandTrace(start, step_s, tuple(p.id for p in plaques), users, history.source)
