"""Monthly budgets: plan a calendar month, price it per funder, and lower ceilings where a budget won't last.

A mandate's `budget.mensuel_eur` is checked against the cost of the whole month's plan — what is
already spent plus the forecast for the remaining days — so that a shortfall caused by the budget is
reported as soon as the forecast sees it (on the 1st for the 6th), not on the day. When the month
would cost more than the budget, the mandate's ceilings come down by one factor θ < 1 for the month
(budget ceiling = ⌊θ × ceiling⌋ per component, never under the floor; reason `budget:<id>`): peaks are
cut first, quiet hours keep what they need. θ is the largest level whose month fits the budget.

API (pure; the CLI and the operator call these):
  plan_month(month, step_s, policies, calendar, rates, as_of=, spent_eur=) → MonthPlan
      days (Plan per day, budgets applied) and budgets (BudgetState per mandate with a budget);
  budget_state(...) → the BudgetStates alone;
  planner.plan_range(start, end, ...) → Plans for a period, budgets applied month by month;
  month_budget_levels(day, ...) → θ per mandate for the month of `day` (what plan_day uses; lean, uncached).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import Calendar
from capacity.common.errors import ConfigError, InputError, french
from capacity.planning.combine import budget_ceiling, hold
from capacity.planning.demand import DayForecast, UsageRates, forecast_day
from capacity.planning.kernel import (
    Plan,
    SpanPlan,
    funders_on,
    make_plan,
    plan_span,
    rates_for,
    segment_infos,
)
from capacity.planning.shortfall import BUDGET
from capacity.policy.bundle import Funder, Policies
from capacity.policy.prices import Prices
from capacity.policy.topology import Plaque

FloatArray = npt.NDArray[np.float64]
Rates = UsageRates | Mapping[str, UsageRates]  # shared, or per plaque id (a fitted model)
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BudgetState:
    """Where one mandate's month stands: budget, spent, forecast, and what the budget cuts.

    forecast_eur   the month's cost if only floors and ceilings applied (spent + remaining days);
    planned_eur    the month's cost of the plan with the budget ceilings (≤ budget unless the floors
                   alone cost more: `floors_over_budget`);
    level          θ applied to the ceilings for the remaining days (1.0: the budget does not bind);
    cut_days       days where the budget ceiling lowers replicas; short_days: days where it keeps
                   users out (with the plan's quotas).
    """

    mandate_id: str
    month: date
    budget_eur: float
    as_of: date
    spent_eur: float
    forecast_eur: float
    planned_eur: float
    floor_eur: float
    level: float
    cut_days: tuple[date, ...]
    short_days: tuple[date, ...]

    @property
    def binding(self) -> bool:
        return self.level < 1.0

    @property
    def floors_over_budget(self) -> bool:
        return self.floor_eur > self.budget_eur - self.spent_eur + 1e-6

    @property
    def remaining_eur(self) -> float:
        return self.budget_eur - self.planned_eur


@dataclass(frozen=True)
class MonthPlan:
    """A month planned with budgets; days on which a plaque has no mandate in force are left out."""

    month: date
    step_s: int
    days: tuple[Plan, ...]
    budgets: Mapping[str, BudgetState]
    unfunded: Mapping[date, str] = field(default_factory=dict)  # day → why it could not be planned

    def day(self, d: date) -> Plan:
        """The plan of day `d`; a ConfigError (in French) when no mandate was in force."""
        for p in self.days:
            if p.day == d:
                return p
        if d in self.unfunded:
            raise french(ConfigError(self.unfunded[d]))
        raise KeyError(d)


def month_days(month: date, calendar: Calendar) -> list[date]:
    """Days of the calendar month of `month` that the calendar supports."""
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    lo, hi = calendar.supported_range
    return [first + timedelta(days=i) for i in range((nxt - first).days) if lo <= first + timedelta(days=i) <= hi]


def _forecasts(
    plaque: Plaque, days: Sequence[date], step_s: int, calendar: Calendar, rates: Rates
) -> tuple[list[DayForecast], DayForecast | None]:
    """A plaque's forecast for `days`, and for the day after (pre-warm across the last midnight)."""
    rates = rates_for(rates, plaque.id)
    fc = [forecast_day(rates, plaque, d, segment_infos(calendar, plaque, d), step_s) for d in days]
    extra = days[-1] + timedelta(days=1)
    if extra > calendar.supported_range[1]:
        return fc, None
    return fc, forecast_day(rates, plaque, extra, segment_infos(calendar, plaque, extra), step_s)


@dataclass(frozen=True)
class _Span:
    """A run of days with the same funders, and its plan."""

    first: int  # index of its first day in the month
    plan: SpanPlan


def plan_month(
    month: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: Rates,
    plaque_ids: Sequence[str] | None = None,
    *,
    as_of: date | None = None,
    spent_eur: Mapping[str, float] | None = None,
) -> MonthPlan:
    """Plan every day of the month of `month` with budgets applied.

    `as_of`: first day still to come; days before it count at `spent_eur[mandate]` when given (what
    was really spent), else at their planned cost without budget ceilings. Budgets are solved over all
    plaques (a mandate may fund several) even when `plaque_ids` restricts the days returned.
    """
    days = _month(month, calendar)
    as_of = as_of or days[0]
    # every plaque with rates: a mandate's budget covers all the plaques it funds
    plaques = [p for p in policies.topology.plaques if isinstance(rates, UsageRates) or p.id in rates]
    inputs = {}
    unfunded: dict[date, str] = {}
    in_force = _in_force(policies, days)
    for p in plaques:
        fc, after = _forecasts(p, days, step_s, calendar, rates)
        funders = _funders_by_day(policies, p, days, unfunded, in_force)
        inputs[p.id] = (fc, after, funders)

    def run(plaque: Plaque, levels: Mapping[str, float]) -> list[_Span]:
        return _plan_runs(plaque, *inputs[plaque.id], policies.prices, levels)

    free = {p.id: run(p, {}) for p in plaques}
    levels, states = _solve(policies, days, free, as_of, spent_eur or {})
    binding = {k: v for k, v in levels.items() if v < 1.0}
    final = dict(free)
    for p in plaques:
        if any(f.mandate.id in binding for fs in inputs[p.id][2] if fs for f in fs):
            final[p.id] = run(p, binding)
    states = _finish(states, days, final, as_of)
    wanted = [policies.topology.plaque(p) for p in plaque_ids] if plaque_ids else plaques
    missing = [p.id for p in wanted if p.id not in inputs]
    if missing:
        raise InputError(f"no usage rates for plaque {missing[0]!r}; the model covers {', '.join(inputs)}")
    per_day = {
        p.id: {sp.first + i: pp for sp in final[p.id] for i, pp in enumerate(sp.plan.day_plans())} for p in wanted
    }
    plans = tuple(
        make_plan(d, step_s, [per_day[p.id][i] for p in wanted], policies, rates, binding)
        for i, d in enumerate(days)
        if all(i in per_day[p.id] for p in wanted)
    )
    wanted_ids = {p.id for p in wanted}
    unfunded = {d: msg for d, msg in unfunded.items() if msg.split("\0")[0] in wanted_ids}
    return MonthPlan(
        month=days[0],
        step_s=step_s,
        days=plans,
        budgets=states,
        unfunded={d: msg.split("\0", 1)[1] for d, msg in unfunded.items()},
    )


def _month(month: date, calendar: Calendar) -> list[date]:
    days = month_days(month, calendar)
    if not days:
        lo, hi = calendar.supported_range
        raise InputError(f"month {month:%Y-%m} is outside the supported range {lo} to {hi}")
    return days


def _plan_runs(
    plaque: Plaque,
    fc: Sequence[DayForecast],
    after: DayForecast | None,
    funders: Sequence[tuple[Funder, ...] | None],
    prices: Prices | None,
    levels: Mapping[str, float],
    *,
    shortfall: bool = True,
) -> list[_Span]:
    """Plan each run of days with the same funders in one pass (days without a mandate are skipped)."""
    spans = []
    for a, b in _runs(funders):
        these = funders[a]
        if these is None:  # no mandate in force: nothing to plan nor to pay
            continue
        nxt = fc[b] if b < len(fc) else after
        spans.append(_Span(a, plan_span(plaque, fc[a:b], nxt, these, prices, levels, shortfall=shortfall)))
    return spans


def _in_force(policies: Policies, days: Sequence[date]) -> list[tuple[bool, ...]]:
    """Per day, which mandates are in force (the same for every plaque: computed once per month)."""
    return [tuple(m.validity.contains(d) for m in policies.mandates) for d in days]


def _funders_by_day(
    policies: Policies,
    plaque: Plaque,
    days: Sequence[date],
    unfunded: dict[date, str],
    in_force: Sequence[tuple[bool, ...]],
) -> list[tuple[Funder, ...] | None]:
    """Funders in force each day (recomputed only when some mandate starts or ends, `in_force`); None
    where a segment has no mandate, with the reason in `unfunded` (plaque id, NUL, message)."""
    out: list[tuple[Funder, ...] | None] = []
    last_key: tuple[bool, ...] | None = None
    current: tuple[Funder, ...] | None = None
    for d, key in zip(days, in_force, strict=True):
        if key != last_key:
            last_key = key
            try:
                current = funders_on(policies, plaque, d)
            except ConfigError as exc:
                current = None
                reason = str(exc)
        if current is None:
            unfunded.setdefault(d, f"{plaque.id}\0{reason}")
        out.append(current)
    return out


def _runs(items: Sequence[object]) -> list[tuple[int, int]]:
    """[start, stop) ranges of identical consecutive items (days with the same funders plan in one pass)."""
    out, start = [], 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i] is not items[start]:
            out.append((start, i))
            start = i
    return out


class _Series:
    """One mandate's cost over the month's remaining slots as a function of its budget level θ.

    A slot's replicas under θ are min(clamped, max(⌊θ·ceiling⌋, floor)): for a given ceiling c they only
    depend on k = ⌊θ·c⌋ ∈ 0…c, so each part (one component of one span) folds into a cost table over k,
    summed per ceiling — O(c) memory per ceiling instead of O(slots), and the θ search reads tables. Parts
    with a maintenance hold (replicas depend on their neighbours) keep their slots.
    """

    def __init__(self) -> None:
        self.tables: dict[int, FloatArray] = {}  # ceiling → euros per k
        self.held: list[tuple[IntArray, IntArray, int, npt.NDArray[np.bool_], float]] = []
        self.before_eur = 0.0

    @property
    def ceilings(self) -> list[int]:
        return sorted({*self.tables, *(p[2] for p in self.held)})

    def add(self, clamped: IntArray, floor: IntArray, ceiling: int, held: npt.NDArray[np.bool_], eur: float) -> None:
        if held.any():
            self.held.append((clamped, floor, ceiling, held, eur))
            return
        # replicas(k) = Σ min(a, f) + #{(slot, j): f ≤ j < min(k, a)}, from counts of f and a
        rising = clamped > floor
        size = ceiling + 1
        steps = np.bincount(floor[rising], minlength=size)[:size] - np.bincount(clamped[rising], minlength=size)[:size]
        above = np.concatenate([[0], np.cumsum(np.cumsum(steps))[:ceiling]])
        replicas = int(np.minimum(clamped, floor).sum()) + above
        table = self.tables.setdefault(ceiling, np.zeros(size))
        table += replicas * eur

    def cost(self, level: float) -> float:
        total = 0.0
        for c, table in self.tables.items():
            total += float(table[int(budget_ceiling(np.array([c]), np.array([level]))[0])])
        for clamped, floor, c, mask, eur in self.held:
            lowered = int(budget_ceiling(np.array([c]), np.array([level]))[0])
            cap = np.maximum(min(c, lowered), floor)
            replicas = np.minimum(hold(np.minimum(clamped, cap)[None], mask[None])[0], cap)
            total += float(replicas.sum()) * eur
        return total


def _collect(
    series: dict[str, _Series],
    spans: Sequence[_Span],
    days: Sequence[date],
    as_of: date,
    budgets: Mapping[str, float],
    prices: Prices,
) -> None:
    """Add a plaque's planned spans (without budget) to the series of the mandates with a budget."""
    for span in spans:
        sp = span.plan
        # slots before `as_of` are already spent
        past_days = sum(1 for i in range(len(sp.days)) if days[span.first + i] < as_of)
        cut = sp.bounds[past_days]
        step_h = sp.days[0].grid.step_s / 3600
        for cp in sp.components:
            eur = prices.replica_hour_eur(cp.component) * step_h
            for f, fid in enumerate(cp.funder_ids):
                if fid not in budgets:
                    continue
                s = series.setdefault(fid, _Series())
                s.before_eur += float(cp.funder_cost_eur[f, :cut].sum())
                if cut < len(cp.need):
                    ceiling = int(cp.funder_ceiling[f])
                    s.add(cp.funder_clamped[f, cut:], cp.funder_floor[f, cut:], ceiling, cp.maintenance[f, cut:], eur)


def _budgets(policies: Policies) -> dict[str, float]:
    """Monthly budget per mandate that has one (none without prices: nothing to price them with)."""
    if policies.prices is None:
        return {}
    return {m.id: float(m.monthly_budget_eur) for m in policies.mandates if m.monthly_budget_eur is not None}


def _solve(
    policies: Policies,
    days: Sequence[date],
    free: Mapping[str, Sequence[_Span]],
    as_of: date,
    spent: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, BudgetState]]:
    """θ per mandate with a budget: the largest level whose month (spent + remaining) fits."""
    budgets = _budgets(policies)
    if not budgets or policies.prices is None:
        return {}, {}
    series: dict[str, _Series] = {}
    for spans in free.values():
        _collect(series, spans, days, as_of, budgets, policies.prices)
    return _levels(series, budgets, days[0], as_of, spent)


def _levels(
    series: Mapping[str, _Series], budgets: Mapping[str, float], month: date, as_of: date, spent: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, BudgetState]]:
    levels: dict[str, float] = {}
    states: dict[str, BudgetState] = {}
    for fid, s in series.items():
        budget = budgets[fid]
        before = spent.get(fid, s.before_eur)
        full = s.cost(1.0)
        level = 1.0 if full <= budget - before + 1e-9 else _largest_level(s, budget - before)
        levels[fid] = level
        states[fid] = BudgetState(
            mandate_id=fid,
            month=month,
            budget_eur=budget,
            as_of=as_of,
            spent_eur=before,
            forecast_eur=before + full,
            planned_eur=before + (full if level == 1.0 else s.cost(level)),
            floor_eur=s.cost(0.0),
            level=level,
            cut_days=(),
            short_days=(),
        )
    return levels, states


def _largest_level(s: _Series, left: float) -> float:
    """Largest θ in [0, 1] with cost(θ) ≤ left, searched over the levels where some cap changes."""
    points = {0.0, 1.0}
    for c in s.ceilings:
        if c > 0:
            points.update(k / c for k in range(c + 1))
    ordered = sorted(points)
    lo, hi = 0, len(ordered) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if s.cost(ordered[mid]) <= left + 1e-9:
            lo = mid
        else:
            hi = mid - 1
    return ordered[lo]


def _finish(
    states: Mapping[str, BudgetState], days: Sequence[date], final: Mapping[str, Sequence[_Span]], as_of: date
) -> dict[str, BudgetState]:
    """Add the days the budget cuts and the days it keeps users out, from the final plans."""
    cut: dict[str, set[date]] = {k: set() for k in states}
    short: dict[str, set[date]] = {k: set() for k in states}
    for spans in final.values():
        for span in spans:
            sp = span.plan
            starts = np.asarray(sp.bounds[:-1])
            dates = days[span.first : span.first + len(sp.days)]
            sf = sp.shortfall
            for f, fid in enumerate(sp.components[0].funder_ids):
                if fid not in cut:
                    continue
                hit = np.zeros(len(sp.days), dtype=bool)
                for cp in sp.components:
                    hit |= np.logical_or.reduceat(cp.budget_hit[f], starts)
                cut[fid].update(d for d, h in zip(dates, hit, strict=True) if h)
                if sf is not None:
                    lost = (sf.kept_out[f].sum(axis=0) > 1e-6) & (sf.cause[f] == BUDGET)
                    by_day = np.logical_or.reduceat(lost, starts)
                    short[fid].update(d for d, h in zip(dates, by_day, strict=True) if h)
    return {
        fid: replace(
            st,
            cut_days=tuple(sorted(d for d in cut[fid] if d >= as_of)),
            short_days=tuple(sorted(d for d in short[fid] if d >= as_of)),
        )
        for fid, st in states.items()
    }


def budget_state(
    month: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: Rates,
    *,
    as_of: date | None = None,
    spent_eur: Mapping[str, float] | None = None,
) -> Mapping[str, BudgetState]:
    """Budget of every mandate that has one, for the month of `month` as seen on `as_of`."""
    return plan_month(month, step_s, policies, calendar, rates, as_of=as_of, spent_eur=spent_eur).budgets


def month_budget_levels(
    day: date,
    step_s: int,
    policies: Policies,
    calendar: Calendar,
    rates: Rates,
    *,
    between_plaques: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """θ per mandate for the month of `day` (whole month, nothing spent yet): `plan_month(...).budgets`'
    levels, planned one plaque at a time and keeping only each mandate's cost tables, so a national
    topology fits in memory. Plaques no budgeted mandate funds are not planned. Not cached: callers that
    ask again (the operator, once per month and configuration) keep the result (capacity/operator/plan_cache.py).
    `between_plaques` is called before each plaque (the operator renews its Lease there: a national month
    takes longer than a Lease).
    """
    budgets = _budgets(policies)
    if not budgets or policies.prices is None:
        return {}
    days = _month(day, calendar)
    series: dict[str, _Series] = {}
    unfunded: dict[date, str] = {}
    in_force = _in_force(policies, days)
    for p in policies.topology.plaques:
        between_plaques()
        if not (isinstance(rates, UsageRates) or p.id in rates):
            continue
        funders = _funders_by_day(policies, p, days, unfunded, in_force)
        if not any(f.mandate.id in budgets for fs in funders if fs for f in fs):
            continue
        fc, after = _forecasts(p, days, step_s, calendar, rates)
        spans = _plan_runs(p, fc, after, funders, policies.prices, {}, shortfall=False)
        _collect(series, spans, days, days[0], budgets, policies.prices)
    return {k: s.level for k, s in _levels(series, budgets, days[0], days[0], {})[1].items()}
