"""What each strategy cost and what it let through, on the same trace and capacity model.

Cost counts the replicas ordered (a starting pod already holds its node), priced from the topology's
cpu and memory per replica. A user is short when the plaque's users connected exceed what the READY
replicas of any of its components serve (the component that runs out first decides), at three levels:
  * saturation (utilisation 1): users feel it — the headline;
  * the SLO utilisation (default 0.9): latency starts to climb;
  * the capacity model's operating point (target utilisation with headroom, `sizing.users_served`, ≈ 64 %
    of saturation for 70 % and +10 %): a "headroom breach", what `underprovisioned_*` always counted.
Part of it is no strategy's doing: users beyond what the mandates' ceilings serve (a collectivité capped
the replicas it pays for) are short under every strategy, the oracle's and static's included. Each level
says how many of its users were beyond the ceiling, so a strategy is judged on the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from capacity.common.arrays import FloatArray, IntArray
from capacity.policy.prices import Prices
from capacity.policy.sizing import users_served
from capacity.policy.topology import Component
from capacity.simulate.delay import ready_replicas
from capacity.simulate.scenario import Scenario

MORNING_H = (6.0, 12.0)
OWN_DAYS = 5  # the days with most of a strategy's own users above saturation, kept in its result
#: Euros per requested vCPU-hour and GiB-hour when the replay is not given the operator's prices.
DEFAULT_PRICES = Prices(eur_per_vcpu_hour=0.04, eur_per_gib_hour=0.005)
#: Utilisation of saturation above which latency is no longer within the SLO (`--slo-utilisation`).
SLO_UTILISATION = 0.9


@dataclass(frozen=True)
class DayShortfall:
    day: date
    underprovisioned_user_minutes: float
    peak_unserved_users: float


@dataclass(frozen=True)
class Shortfall:
    """Users above one capacity level: user-minutes, plaque-hours touched, most users at once on a plaque;
    `beyond_ceiling_user_minutes`: those of them that replicas at the mandates' ceilings would not serve."""

    user_minutes: float = 0.0
    plaque_hours: int = 0
    peak_users: float = 0.0
    beyond_ceiling_user_minutes: float = 0.0

    @property
    def own_user_minutes(self) -> float:
        """The users short that more replicas within the mandates would have served: the strategy's own."""
        return self.user_minutes - self.beyond_ceiling_user_minutes


@dataclass(frozen=True)
class OwnDay:
    """A day with users above saturation that more replicas within the mandates would have served: where to
    look (an incident, a day the calendar got wrong, a late forecast)."""

    day: date
    user_minutes: float
    plaques: tuple[str, ...]
    hours: tuple[int, ...]  # local hours with some


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
    slo: Shortfall = Shortfall()
    saturation: Shortfall = Shortfall()
    headroom: Shortfall = Shortfall()  # the operating point (same as underprovisioned_*)
    own_saturation_days: tuple[OwnDay, ...] = ()  # the worst days of the strategy's own, most first

    @property
    def underprovisioned_share(self) -> float:
        return self.share(self.underprovisioned_user_minutes)

    def share(self, user_minutes: float) -> float:
        return user_minutes / self.demand_user_minutes if self.demand_user_minutes else 0.0


def users_at(replicas: IntArray, component: Component, utilisation: float | None) -> FloatArray:
    """Users `replicas` serve at `utilisation` of saturation; None: the operating point (with headroom)."""
    if utilisation is None:
        return users_served(replicas, component)
    per_replica = component.rps_per_replica * utilisation / component.requests_per_user_s
    return np.asarray(replicas, dtype=np.float64) * per_replica


def shortfall_users(scenario: Scenario, ready: IntArray, utilisation: float | None = None) -> FloatArray:
    """Users not served per step and plaque at one level: the worst component of the plaque decides."""
    demand = scenario.trace.users
    out = np.zeros_like(demand)
    for i, u in enumerate(scenario.units):
        short = demand[u.row] - users_at(ready[:, i], u.component, utilisation)
        np.maximum(out[u.row], np.where(short > 1e-6 * np.maximum(demand[u.row], 1), short, 0.0), out=out[u.row])
    return out


def levels(slo_utilisation: float = SLO_UTILISATION) -> dict[str, float | None]:
    """The three capacity levels shortfall is counted at (utilisation of saturation; None: operating point)."""
    return {"slo": slo_utilisation, "saturation": 1.0, "headroom": None}


def beyond_ceiling(scenario: Scenario, utilisation: float | None = None) -> FloatArray:
    """Users per step and plaque that every unit at its mandate ceiling would still not serve at one level
    (the ceilings are fixed over the replay, so no strategy, ready or not, serves more)."""
    at_ceiling = np.broadcast_to(scenario.ceilings()[None, :], (scenario.trace.n, len(scenario.units)))
    return shortfall_users(scenario, at_ceiling, utilisation)


def beyond_ceilings(scenario: Scenario, slo_utilisation: float = SLO_UTILISATION) -> dict[str, FloatArray]:
    """`beyond_ceiling` at each of the `levels`: the same for every strategy, so a replay computes it once."""
    return {k: beyond_ceiling(scenario, level) for k, level in levels(slo_utilisation).items()}


def own_days(scenario: Scenario, own: FloatArray, most: int = OWN_DAYS) -> tuple[OwnDay, ...]:
    """The `most` local days with the most users short in `own` [plaque, step], most first."""
    per_step = own.sum(axis=0)
    steps_of: dict[date, list[int]] = {}
    for step in np.flatnonzero(per_step > 0):
        steps_of.setdefault(scenario.local_day[scenario.slot_of_step[step]], []).append(int(step))
    minutes = scenario.trace.step_s / 60
    days = []
    for day, steps in steps_of.items():
        block = own[:, steps]
        plaques = tuple(scenario.trace.plaques[r] for r in np.flatnonzero(block.sum(axis=1) > 0))
        hours = tuple(sorted({int(scenario.local_hour[s]) for s in steps}))
        days.append(OwnDay(day, float(block.sum() * minutes), plaques, hours))
    return tuple(sorted(days, key=lambda d: -d.user_minutes)[:most])


def summarise(scenario: Scenario, short: FloatArray, ceiling_short: FloatArray | None = None) -> Shortfall:
    hour_of_step = (scenario.trace.times_s - scenario.trace.start_s) // 3600
    hours = sum(len(np.unique(hour_of_step[row > 0])) for row in short)
    peak = float(short.max()) if short.size else 0.0
    minutes = scenario.trace.step_s / 60
    beyond = 0.0 if ceiling_short is None else float(np.minimum(short, ceiling_short).sum() * minutes)
    return Shortfall(float(short.sum() * minutes), int(hours), peak, beyond)


def evaluate(
    name: str,
    desired: IntArray,
    scenario: Scenario,
    delay_steps: int,
    prices: Prices = DEFAULT_PRICES,
    focus_days: Sequence[date] = (),
    slo_utilisation: float = SLO_UTILISATION,
    beyond: Mapping[str, FloatArray] | None = None,
) -> StrategyResult:
    """Metrics of one strategy's desired replicas [step, unit]. `beyond`: `beyond_ceilings` of the scenario
    at `slo_utilisation`, when the caller evaluates several strategies (computed here otherwise)."""
    step_h = scenario.trace.step_s / 3600
    step_min = scenario.trace.step_s / 60
    ready = ready_replicas(desired, desired[0], delay_steps)
    per_unit_h = desired.sum(axis=0) * step_h
    eur = np.array([prices.replica_hour_eur(u.component) for u in scenario.units])
    shorts = {k: shortfall_users(scenario, ready, level) for k, level in levels(slo_utilisation).items()}
    if beyond is None:
        beyond = beyond_ceilings(scenario, slo_utilisation)
    slo, saturation, headroom = (summarise(scenario, shorts[k], beyond[k]) for k in shorts)  # levels() order
    own = own_days(scenario, shorts["saturation"] - np.minimum(shorts["saturation"], beyond["saturation"]))
    short = shorts["headroom"]
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
        underprovisioned_user_minutes=headroom.user_minutes,
        demand_user_minutes=float(scenario.trace.users.sum() * step_min),
        saturated_hours=headroom.plaque_hours,
        worst_day=_day(scenario, short, worst[0], (0.0, 24.0)) if worst and worst[1] > 0 else None,
        scaling_actions=int((np.diff(desired, axis=0) != 0).sum()),
        mornings=tuple(_day(scenario, short, d, MORNING_H) for d in focus_days if d in by_day),
        slo=slo,
        saturation=saturation,
        headroom=headroom,
        own_saturation_days=own,
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
