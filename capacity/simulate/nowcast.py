"""The operator's nowcast in the replay: the same morning, the same factor, the same re-planned afternoon.

The operator (capacity/operator/mornings.py) records the users it believes at each tick and, at the first
tick after the window, plans the rest of a plaque's day at `planning.nowcast.morning`'s factor, reading the
raised plan wherever it asks more. Here the ticks are the replay's (one per planner slot, reading the
trace at the slot start), the factor comes from the same function, and the raised day is planned by the
same `plan_plaques` with the month's budget levels; the plan rows take the raised replicas from the end of
the window on wherever they are higher.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import numpy as np

from capacity.calendar.types import Calendar
from capacity.common.arrays import FloatArray, IntArray
from capacity.common.timegrid import BASE_STEP_S
from capacity.operator.live_usage import plausible
from capacity.planning.budget import month_budget_levels
from capacity.planning.demand import UsageRates
from capacity.planning.nowcast import WINDOW_H, after_window, in_window, morning
from capacity.planning.plans import plan_plaques
from capacity.policy.bundle import Policies

Rates = UsageRates | Mapping[str, UsageRates]


def believed(read: FloatArray, forecast: FloatArray, hours: FloatArray) -> FloatArray:
    """The readings of the morning window the operator would believe (`live_usage.plausible`, the same rule
    reading by reading), NaN elsewhere."""
    out = np.full(read.shape, np.nan)
    for i in np.flatnonzero(in_window(hours)):
        value, _why = plausible(float(read[i]), float(forecast[i]))
        if value is not None:
            out[i] = value
    return out


def raise_rows(
    plan_rows: Sequence[IntArray],
    plaques: Sequence[str],
    unit_rows: Sequence[int],
    forecast: FloatArray,
    readings: FloatArray,
    local_day: Sequence[date],
    hours: FloatArray,
    policies: Policies,
    calendar: Calendar,
    rates_of: Callable[[date], Rates],
    most: float,
) -> tuple[list[IntArray], int]:
    """The plan rows (one per unit, per planner slot) after the nowcast of every plaque and day, and how many
    plaque-days it raised. `plaques`: the plaque id of each trace row; `unit_rows[i]`: the trace row of unit
    i's plaque; `forecast`/`readings`: [row, slot] users forecast and read at each tick; `hours`: local hour
    of each slot."""
    rows = [np.array(r, copy=True) for r in plan_rows]
    if most <= 1.0:
        return rows, 0
    n = min(len(local_day), forecast.shape[1], readings.shape[1])
    days = np.array(local_day[:n])
    levels: dict[tuple[date, int], Mapping[str, float]] = {}  # per (month, model): the operator's month levels
    by_row = [policies.topology.plaque(p) for p in plaques]
    units_of = [[i for i, r in enumerate(unit_rows) if r == row] for row in range(len(plaques))]
    count = 0
    for d in sorted(set(local_day[:n])):
        slots = np.flatnonzero(days == d)
        later = slots[after_window(hours[slots])]
        for row, plaque in enumerate(by_row):
            read = believed(readings[row, slots], forecast[row, slots], hours[slots])
            nc = morning(hours[slots], forecast[row, slots], read, WINDOW_H[1], most)
            if nc is None or not nc.raises or later.size == 0:
                continue
            rates = rates_of(d)
            key = (d.replace(day=1), id(rates))
            if key not in levels:
                levels[key] = month_budget_levels(d, BASE_STEP_S, policies, calendar, rates)
            pp = next(
                plan_plaques(
                    d, BASE_STEP_S, policies, calendar, rates, levels[key], [plaque], nowcast={plaque.id: nc.factor}
                )
            )
            offset = int(later[0] - slots[0])
            for i, cp in zip(units_of[row], pp.components, strict=True):
                raised = np.asarray(cp.replicas[offset : offset + later.size], dtype=np.int64)
                rows[i][later[: raised.size]] = np.maximum(rows[i][later[: raised.size]], raised)
            count += 1
    return rows, count
