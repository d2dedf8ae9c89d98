"""Everything the strategies share for one replay: the trace, the workloads, the plan and the calendar clock.

Built once per start-up delay: capctl is configured with the delay it runs under (each component's
`lead_time_s` becomes the simulated start-up delay when `startup_s` is given), so its floor — read over
lead time + anticipation — depends on it, as it would in a deployment whose lead time is measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import Calendar
from capacity.common.arrays import FloatArray, IntArray
from capacity.common.errors import InputError
from capacity.common.timegrid import BASE_STEP_S, local_hours
from capacity.operator.reload import OperatorSettings
from capacity.planning.demand import UsageRates
from capacity.planning.kernel import Plan
from capacity.planning.nowcast import after_window
from capacity.planning.plans import plan_range
from capacity.policy.bundle import Policies
from capacity.policy.sizing import replicas_for_users
from capacity.policy.topology import Component
from capacity.simulate.capctl import operator_floor, planned_ahead, tick_times
from capacity.simulate.cron import CronSchedule, cron_active
from capacity.simulate.nowcast import raise_rows
from capacity.simulate.trace import DemandTrace

Progress = Callable[[int, int], None]
Rates = UsageRates | Mapping[str, UsageRates]
#: Rates per planned day: a deployment that refits its model plans each day with the model of that day.
RatesByDay = Callable[[date], Rates]
DEFAULT_OPERATOR = OperatorSettings()
DEFAULT_SCHEDULE = CronSchedule()


@dataclass(frozen=True)
class Unit:
    """One scaled workload: a component of a plaque, with its mandate floor and ceiling."""

    plaque: str
    row: int  # the plaque's row in the trace
    component: Component
    floor: int
    ceiling: int


@dataclass(frozen=True)
class Scenario:
    trace: DemandTrace
    units: tuple[Unit, ...]
    local_day: tuple[date, ...]  # per 5-minute slot
    local_hour: FloatArray  # per step
    weekday: IntArray  # per step
    slot_of_step: IntArray  # per step
    capctl_floor: IntArray  # [step, unit]
    cron_scheduled: IntArray  # [unit]
    cron_active: npt.NDArray[np.bool_]  # per step

    def demand(self) -> FloatArray:
        """Users connected per step and unit (each unit sees its plaque's users)."""
        return self.trace.users[[u.row for u in self.units]].T

    def need(self) -> IntArray:
        """Replicas the actual demand needs per step and unit (the capacity model, no forecast)."""
        demand = self.demand()
        cols = [replicas_for_users(demand[:, i], u.component) for i, u in enumerate(self.units)]
        return np.stack(cols, axis=1)

    def floors(self) -> IntArray:
        return np.array([u.floor for u in self.units], dtype=np.int64)

    def ceilings(self) -> IntArray:
        return np.array([u.ceiling for u in self.units], dtype=np.int64)


def build(
    trace: DemandTrace,
    first: date,
    last: date,
    policies: Policies,
    calendar: Calendar,
    rates: Rates | RatesByDay,
    *,
    settings: OperatorSettings = DEFAULT_OPERATOR,
    schedule: CronSchedule = DEFAULT_SCHEDULE,
    cron_reference: date = date(2021, 3, 15),
    on_progress: Progress | None = None,
    startup_s: int | None = None,
) -> Scenario:
    """Plan the window (and the day after, for look-ahead across midnight) and replay the operator.

    With `startup_s`, every component's lead time is that delay: the operator knows how long its pods
    take to serve (the topology's `lead_time_s` is exactly that setting).
    """
    if startup_s is not None:
        policies = with_lead_time(policies, startup_s)
    if BASE_STEP_S % trace.step_s:
        raise InputError(f"simulation step must divide {BASE_STEP_S // 60} minutes, got {trace.step_s} s")
    plaques = list(trace.plaques)
    end = last + timedelta(days=1) if last < calendar.supported_range[1] else last
    per_slot = BASE_STEP_S // trace.step_s
    n_slots = trace.n // per_slot
    starts: list[datetime] = []
    units: list[Unit] = []
    plan_parts: list[list[IntArray]] = []
    forecast_parts: list[list[FloatArray]] = [[] for _ in plaques]
    # Plans are read once and dropped: a season of them does not fit in memory (tens of GB).
    for plan in model_plans(first, end, policies, calendar, rates, plaques):
        starts.extend(plan.plaques[0].forecast.grid.starts)
        if not units:
            for row, pid in enumerate(plaques):
                for cp in plan.plaques[row].components:
                    floor = max(int(cp.floor[0]), cp.component.min_replicas)
                    units.append(Unit(pid, row, cp.component, floor, int(cp.ceiling[0])))
                    plan_parts.append([])
        i = 0
        for row, pp in enumerate(plan.plaques):
            forecast_parts[row].append(np.asarray(pp.forecast.users, dtype=np.float64))
            for cp in pp.components:
                plan_parts[i].append(np.asarray(cp.replicas, dtype=np.int64))
                i += 1
    local_day = tuple(s.date() for s in starts)[:n_slots]
    hour = local_hours(starts)
    wday = np.array([s.weekday() for s in starts], dtype=np.int64)
    slot_of_step = np.arange(trace.n, dtype=np.int64) // per_slot
    minute = (np.arange(trace.n) % per_slot) * trace.step_s / 3600
    local_hour = hour[slot_of_step] + minute
    weekday = wday[slot_of_step]
    plan_rows = [np.concatenate(parts) for parts in plan_parts]
    del plan_parts
    raised, _ = raise_rows(
        plan_rows,
        plaques,
        [u.row for u in units],
        np.array([np.concatenate(parts) for parts in forecast_parts]),
        trace.users[:, ::per_slot][:, :n_slots],
        local_day,
        hour,
        policies,
        calendar,
        _per_day(rates),
        settings.nowcast_most,
    )
    if callable(rates):
        rates = rates(first)  # the cron schedule is sized once, as people do

    known = after_window(hour[:n_slots])  # the operator decides a nowcast at the end of the window
    floors = capctl_floors(trace, units, plan_rows, settings, on_progress, nowcast=(raised, known))
    reference = _cron_reference(cron_reference, policies, calendar, rates, plaques, units, schedule)
    return Scenario(
        trace=trace,
        units=tuple(units),
        local_day=local_day,
        local_hour=local_hour,
        weekday=weekday,
        slot_of_step=slot_of_step,
        capctl_floor=floors[slot_of_step],
        cron_scheduled=reference,
        cron_active=cron_active(local_hour, weekday, schedule),
    )


def capctl_floors(
    trace: DemandTrace,
    units: Sequence[Unit],
    plan_rows: Sequence[IntArray],
    settings: OperatorSettings = DEFAULT_OPERATOR,
    on_progress: Progress | None = None,
    nowcast: tuple[Sequence[IntArray], npt.NDArray[np.bool_]] | None = None,
) -> IntArray:
    """[planner slot, unit] HPA minReplicas the operator sets at each tick (one per planner slot) from each
    unit's planned replicas, with the users connected at that tick as the observed need. `nowcast`: the
    rows after the nowcast (simulate/nowcast.py) and the slots from which the operator holds them."""
    per_slot = BASE_STEP_S // trace.step_s
    n_slots = trace.n // per_slot
    times = tick_times(trace.start_s, n_slots, BASE_STEP_S)
    slot_users = trace.users[:, ::per_slot][:, :n_slots]
    floors = np.empty((n_slots, len(units)), dtype=np.int64)
    for i, (u, row_plan) in enumerate(zip(units, plan_rows, strict=True)):
        observed = replicas_for_users(slot_users[u.row], u.component)
        horizon = u.component.lead_time_s + settings.anticipation_s
        ahead = planned_ahead(row_plan, horizon, BASE_STEP_S)[:n_slots]
        if nowcast is not None:
            rows, known = nowcast
            ahead = np.where(known, planned_ahead(rows[i], horizon, BASE_STEP_S)[:n_slots], ahead)
        floors[:, i] = operator_floor(times, ahead, u.ceiling, observed, settings.decide)
        if on_progress is not None:
            on_progress(i + 1, len(units))
    return floors


def with_lead_time(policies: Policies, lead_time_s: int) -> Policies:
    """The same policies with every component's lead time set to `lead_time_s`."""
    return with_components(policies, lead_time_s=lead_time_s)


def with_components(policies: Policies, **fields: Any) -> Policies:
    """The same policies with these topology fields of every component replaced (`prewarm_s=1800`, ...)."""
    plaques = tuple(
        replace(p, components=tuple(replace(c, **fields) for c in p.components)) for p in policies.topology.plaques
    )
    return replace(policies, topology=replace(policies.topology, plaques=plaques))


def _per_day(rates: Rates | RatesByDay) -> RatesByDay:
    if callable(rates):
        return rates
    fixed: Rates = rates
    return lambda _d: fixed


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def model_plans(
    first: date, last: date, policies: Policies, calendar: Calendar, rates: Rates | RatesByDay, plaques: list[str]
) -> Iterator[Plan]:
    """Day plans first..last; per-day rates are planned in runs of days sharing the same rates object
    (a refitted model is in force for a week: one plan_range per week, not one per day)."""
    if not callable(rates):
        yield from plan_range(first, last, BASE_STEP_S, policies, calendar, rates, plaques)
        return
    days = _dates(first, last)
    run_start = 0
    for i in range(1, len(days) + 1):
        if i == len(days) or rates(days[i]) is not rates(days[run_start]):
            seg = rates(days[run_start])
            yield from plan_range(days[run_start], days[i - 1], BASE_STEP_S, policies, calendar, seg, plaques)
            run_start = i


def _cron_reference(
    monday: date,
    policies: Policies,
    calendar: Calendar,
    rates: Rates,
    plaques: list[str],
    units: list[Unit],
    schedule: CronSchedule,
) -> IntArray:
    """The cron floor per unit: the planner's highest replicas in the schedule's hours of an ordinary week.

    This is how people size a cron schedule: on a normal week in class, once, then leave it alone.
    """
    week = list(plan_range(monday, monday + timedelta(days=4), BASE_STEP_S, policies, calendar, rates, plaques))
    out = np.zeros(len(units), dtype=np.int64)
    for plan in week:
        hours = local_hours(plan.plaques[0].forecast.grid.starts)
        on = (hours >= schedule.start_h) & (hours < schedule.end_h)
        i = 0
        for pp in plan.plaques:
            for cp in pp.components:
                out[i] = max(out[i], int(cp.replicas[on].max()))
                i += 1
    return out
