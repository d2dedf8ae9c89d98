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
  month_budget_levels(day, ...) → θ per mandate for the month of `day` (cached; what plan_day uses).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
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
    days = month_days(month, calendar)
    if not days:
        lo, hi = calendar.supported_range
        raise InputError(f"month {month:%Y-%m} is outside the supported range {lo} to {hi}")
    as_of = as_of or days[0]
    # every plaque with rates: a mandate's budget covers all the plaques it funds
    plaques = [p for p in policies.topology.plaques if isinstance(rates, UsageRates) or p.id in rates]
    inputs = {}
    unfunded: dict[date, str] = {}
    for p in plaques:
        fc, after = _forecasts(p, days, step_s, calendar, rates)
        funders = _funders_by_day(policies, p, days, unfunded)
        inputs[p.id] = (fc, after, funders)

    def run(plaque: Plaque, levels: Mapping[str, float]) -> list[_Span]:
        fc, after, funders = inputs[plaque.id]
        spans = []
        for a, b in _runs(funders):
            these = funders[a]
            if these is None:  # no mandate in force: nothing to plan nor to pay
                continue
            nxt = fc[b] if b < len(fc) else after
            spans.append(_Span(a, plan_span(plaque, fc[a:b], nxt, these, policies.prices, levels)))
        return spans

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


def _funders_by_day(
    policies: Policies, plaque: Plaque, days: Sequence[date], unfunded: dict[date, str]
) -> list[tuple[Funder, ...] | None]:
    """Funders in force each day (recomputed only when some mandate starts or ends); None where a
    segment has no mandate, with the reason in `unfunded` (plaque id, NUL, message)."""
    out: list[tuple[Funder, ...] | None] = []
    last_key: tuple[bool, ...] | None = None
    current: tuple[Funder, ...] | None = None
    for d in days:
        key = tuple(m.validity.contains(d) for m in policies.mandates)
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
    """One mandate's per-slot series over the month's remaining days, flattened for the θ search."""

    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, int, npt.NDArray[np.bool_], float]] = []
        self.before_eur = 0.0

    def add(self, clamped: IntArray, floor: IntArray, ceiling: int, held: npt.NDArray[np.bool_], eur: float) -> None:
        self.parts.append((clamped, floor, ceiling, held, eur))

    def freeze(self) -> None:
        """Concatenate the parts once; cost() then runs on flat arrays."""
        sizes = [len(p[0]) for p in self.parts]
        self.clamped = np.concatenate([p[0] for p in self.parts]) if self.parts else np.zeros(0, dtype=np.int64)
        self.floor = np.concatenate([p[1] for p in self.parts]) if self.parts else np.zeros(0, dtype=np.int64)
        self.ceiling = np.repeat(np.array([p[2] for p in self.parts], dtype=np.int64), sizes)
        self.eur = np.repeat(np.array([p[4] for p in self.parts], dtype=np.float64), sizes)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.holds = [(bounds[i], bounds[i + 1], p[3]) for i, p in enumerate(self.parts) if p[3].any()]
        self.ceilings = sorted({p[2] for p in self.parts})

    def cost(self, level: float) -> float:
        lowered = budget_ceiling(self.ceiling, np.full(len(self.ceiling), level))
        cap = np.maximum(np.minimum(self.ceiling, lowered), self.floor)
        replicas = np.minimum(self.clamped, cap)
        for a, b, mask in self.holds:
            replicas[a:b] = np.minimum(hold(replicas[None, a:b], mask[None])[0], cap[a:b])
        return float((replicas * self.eur).sum())


def _solve(
    policies: Policies,
    days: Sequence[date],
    free: Mapping[str, Sequence[_Span]],
    as_of: date,
    spent: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, BudgetState]]:
    """θ per mandate with a budget: the largest level whose month (spent + remaining) fits."""
    budgets = {m.id: m.monthly_budget_eur for m in policies.mandates if m.monthly_budget_eur is not None}
    prices = policies.prices
    if not budgets or prices is None:
        return {}, {}
    series: dict[str, _Series] = {}
    for spans in free.values():
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
                        s.add(
                            cp.funder_clamped[f, cut:], cp.funder_floor[f, cut:], ceiling, cp.maintenance[f, cut:], eur
                        )
    levels: dict[str, float] = {}
    states: dict[str, BudgetState] = {}
    for fid, s in series.items():
        s.freeze()
        budget = float(budgets[fid])
        before = spent.get(fid, s.before_eur)
        full = s.cost(1.0)
        level = 1.0 if full <= budget - before + 1e-9 else _largest_level(s, budget - before)
        levels[fid] = level
        states[fid] = BudgetState(
            mandate_id=fid,
            month=days[0],
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


_CACHE: OrderedDict[tuple[object, ...], tuple[tuple[object, ...], dict[str, float]]] = OrderedDict()
_CACHE_SIZE = 24


def month_budget_levels(
    day: date, step_s: int, policies: Policies, calendar: Calendar, rates: Rates
) -> dict[str, float]:
    """θ per mandate for the month of `day` (whole month, nothing spent yet). Cached per inputs.

    The cache keys on the identity of the (immutable) inputs and keeps them alive, so an entry can
    never be confused with another bundle; it only saves re-planning a month for each of its days.
    """
    if policies.prices is None or all(m.monthly_budget_eur is None for m in policies.mandates):
        return {}
    key = (day.year, day.month, step_s, id(policies), id(calendar), id(rates))
    hit = _CACHE.get(key)
    if hit is not None and hit[0][0] is policies and hit[0][1] is calendar and hit[0][2] is rates:
        _CACHE.move_to_end(key)
        return hit[1]
    states = budget_state(day, step_s, policies, calendar, rates)
    levels = {k: s.level for k, s in states.items()}
    _CACHE[key] = ((policies, calendar, rates), levels)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return levels
