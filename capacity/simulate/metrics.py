"""What each strategy cost and what it let through, on the same trace and capacity model.

Cost counts the replicas ordered (a starting pod already holds its node), priced from the topology's
cpu and memory per replica. A user is under-provisioned when the plaque's users connected exceed
what the READY replicas of any of its components serve at the capacity model's operating point
(`sizing.users_served`): the component that runs out first decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from capacity.policy.prices import Prices
from capacity.policy.sizing import users_served
from capacity.simulate.delay import ready_replicas
from capacity.simulate.scenario import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MORNING_H = (6.0, 12.0)
#: Euros per requested vCPU-hour and GiB-hour when the replay is not given the operator's prices.
DEFAULT_PRICES = Prices(eur_per_vcpu_hour=0.04, eur_per_gib_hour=0.005)


@dataclass(frozen=True)
class DayShortfall:
    day: date
    underprovisioned_user_minutes: float
    peak_unserved_users: float


@dataclass(frozen=True)
class StrategyResult:
    strategy: str
    replica_hours: float
    cost_eur: float
    underprovisioned_user_minutes: float
    demand_user_minutes: float
    saturated_hours: int  # plaque-hours with at least one under-provisioned minute
    worst_day: DayShortfall | None
    scaling_actions: int
    mornings: tuple[DayShortfall, ...]  # 6-12 h of the focus days
    cost_ratio_to_oracle: float | None = None

    @property
    def underprovisioned_share(self) -> float:
        return self.underprovisioned_user_minutes / self.demand_user_minutes if self.demand_user_minutes else 0.0


def shortfall_users(scenario: Scenario, ready: IntArray) -> FloatArray:
    """Users not served per step and plaque: the worst component of the plaque decides."""
    demand = scenario.trace.users
    out = np.zeros_like(demand)
    for i, u in enumerate(scenario.units):
        short = demand[u.row] - users_served(ready[:, i], u.component)
        np.maximum(out[u.row], np.where(short > 1e-6 * np.maximum(demand[u.row], 1), short, 0.0), out=out[u.row])
    return out


def evaluate(
    name: str,
    desired: IntArray,
    scenario: Scenario,
    delay_steps: int,
    prices: Prices = DEFAULT_PRICES,
    focus_days: Sequence[date] = (),
) -> StrategyResult:
    """Metrics of one strategy's desired replicas [step, unit]."""
    step_h = scenario.trace.step_s / 3600
    step_min = scenario.trace.step_s / 60
    ready = ready_replicas(desired, desired[0], delay_steps)
    per_unit_h = desired.sum(axis=0) * step_h
    eur = np.array([prices.replica_hour_eur(u.component) for u in scenario.units])
    short = shortfall_users(scenario, ready)
    hour_of_step = (scenario.trace.times_s - scenario.trace.start_s) // 3600
    saturated = sum(len(np.unique(hour_of_step[row > 0])) for row in short)
    day_index = scenario.slot_of_step
    per_slot = np.bincount(day_index, weights=short.sum(axis=0) * step_min, minlength=len(scenario.local_day))
    by_day: dict[date, float] = {}
    for d, v in zip(scenario.local_day, per_slot, strict=False):
        by_day[d] = by_day.get(d, 0.0) + float(v)
    worst = max(by_day.items(), key=lambda kv: kv[1], default=None)
    return StrategyResult(
        strategy=name,
        replica_hours=float(per_unit_h.sum()),
        cost_eur=float((per_unit_h * eur).sum()),
        underprovisioned_user_minutes=float(short.sum() * step_min),
        demand_user_minutes=float(scenario.trace.users.sum() * step_min),
        saturated_hours=int(saturated),
        worst_day=_day(scenario, short, worst[0], (0.0, 24.0)) if worst and worst[1] > 0 else None,
        scaling_actions=int((np.diff(desired, axis=0) != 0).sum()),
        mornings=tuple(_day(scenario, short, d, MORNING_H) for d in focus_days if d in by_day),
    )


def _day(scenario: Scenario, short: FloatArray, day: date, hours: tuple[float, float]) -> DayShortfall:
    slots = np.array([d == day for d in scenario.local_day])
    on = slots[scenario.slot_of_step] & (scenario.local_hour >= hours[0]) & (scenario.local_hour < hours[1])
    total = short[:, on].sum(axis=0)
    return DayShortfall(
        day=day,
        underprovisioned_user_minutes=float(total.sum() * scenario.trace.step_s / 60),
        peak_unserved_users=float(total.max()) if total.size else 0.0,
    )
