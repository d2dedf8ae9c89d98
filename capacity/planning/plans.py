"""Period planning above the kernel and the budgets: one day, or a range month by month with budgets applied.

Budgets are monthly (capacity/planning/budget.py), so a day's budget ceilings come from its month's plan; the
kernel (capacity/planning/kernel.py) plans spans with given budget levels and knows nothing of months.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta

from capacity.calendar.types import Calendar, check_supported
from capacity.common.errors import ConfigError, french
from capacity.planning.budget import month_budget_levels, plan_month
from capacity.planning.demand import UsageRates, forecast_day
from capacity.planning.kernel import Plan, PlaquePlan, funders_on, make_plan, plan_plaque, rates_for, segment_infos
from capacity.planning.nowcast import raised
from capacity.policy.bundle import Policies
from capacity.policy.topology import Plaque


def plan_day(
    day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: UsageRates | Mapping[str, UsageRates],
    plaque_ids: Sequence[str] | None = None,
    *,
    budget: Mapping[str, float] | None = None,
) -> Plan:
    """Plan one local day for the given plaques (all by default).

    `rates` is shared by every plaque, or given per plaque id (a fitted model: `Model.rates_by_plaque`).
    `budget`: the month's budget level θ per mandate (capacity/planning/budget.py). None computes it from the
    month's plan; pass {} to plan without budgets.
    """
    plaques = [policies.topology.plaque(p) for p in plaque_ids] if plaque_ids else list(policies.topology.plaques)
    if budget is None:
        check_supported(calendar, day)
        budget = month_budget_levels(day, step_s, policies, calendar, rates)
    out = list(plan_plaques(day, step_s, policies, calendar, rates, budget, plaques))
    return make_plan(day, step_s, out, policies, rates, budget)


def plan_plaques(
    day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: UsageRates | Mapping[str, UsageRates],
    budget: Mapping[str, float],
    plaques: Sequence[Plaque] | None = None,
    *,
    nowcast: Mapping[str, float] | None = None,
) -> Iterator[PlaquePlan]:
    """`plan_day`'s plaque plans one at a time (all plaques by default), for callers that keep a digest
    of each rather than the whole day (the operator at a thousand plaques). `nowcast`: a factor per plaque
    id on that day's forecast (capacity/planning/nowcast.py), the next day's left as forecast."""
    last = check_supported(calendar, day)
    nxt = day + timedelta(days=1)
    for plaque in policies.topology.plaques if plaques is None else plaques:
        mine = rates_for(rates, plaque.id)
        today = forecast_day(mine, plaque, day, segment_infos(calendar, plaque, day), step_s)
        if nowcast and plaque.id in nowcast:
            today = raised(today, nowcast[plaque.id])
        tomorrow = (
            forecast_day(mine, plaque, nxt, segment_infos(calendar, plaque, nxt), step_s) if nxt <= last else None
        )
        yield plan_plaque(plaque, today, tomorrow, funders_on(policies, plaque, day), policies.prices, budget)


def plan_range(
    first_day: date,
    last_day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: UsageRates | Mapping[str, UsageRates],
    plaque_ids: Sequence[str] | None = None,
) -> Iterator[Plan]:
    """Plan every day from `first_day` to `last_day` inclusive, month by month with budgets applied.

    Each day is forecast once and each month planned in one vectorised pass (capacity/planning/budget.py).
    """
    check_supported(calendar, first_day, last_day)
    month = first_day.replace(day=1)
    while month <= last_day:
        planned = plan_month(month, step_s, policies, calendar, rates, plaque_ids)
        for d, reason in sorted(planned.unfunded.items()):
            if first_day <= d <= last_day:
                raise french(ConfigError(reason))
        for plan in planned.days:
            if first_day <= plan.day <= last_day:
                yield plan
        month = (month + timedelta(days=32)).replace(day=1)
