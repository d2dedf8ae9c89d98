"""Run the five strategies on one scenario for one start-up delay, and the delay sweep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TypedDict, Unpack

import numpy as np

from capacity.common.arrays import IntArray
from capacity.policy.prices import Prices
from capacity.policy.topology import Component
from capacity.simulate import hpa
from capacity.simulate.cron import cron_floor
from capacity.simulate.delay import delay_steps
from capacity.simulate.metrics import (
    DEFAULT_PRICES,
    SLO_UTILISATION,
    StrategyResult,
    beyond_ceilings,
    evaluate,
    users_at,
)
from capacity.simulate.oracle import oracle
from capacity.simulate.scenario import Scenario
from capacity.simulate.static import static

STRATEGIES = ("hpa", "cron", "static", "capctl", "oracle")
FOCUS_DAYS = (date(2021, 4, 6), date(2021, 4, 26))
SWEEP_S = (120, 300, 600, 1200)
DEFAULT_HPA = hpa.HpaSettings()


@dataclass(frozen=True)
class SweepPoint:
    startup_s: int
    results: tuple[StrategyResult, ...]


def desired_replicas(scenario: Scenario, startup_s: int, settings: hpa.HpaSettings) -> dict[str, IntArray]:
    """Desired replicas [step, unit] of every strategy. The three HPA-based ones run as one batch.

    A season at 1-minute steps is ~450,000 steps × 20 units: the batch's inputs are written in place
    (no per-strategy copies) and constant ones are broadcast views, to stay well under 2 GiB.
    """
    steps = delay_steps(startup_s, scenario.trace.step_s)
    n = scenario.trace.n
    floor, ceiling = scenario.floors(), scenario.ceilings()
    units = scenario.units
    width = len(units)
    names = ("hpa", "cron", "capctl")
    batch_min = np.empty((n, len(names) * width), dtype=np.int64)
    batch_min[:, :width] = floor[None, :]
    batch_min[:, width : 2 * width] = cron_floor(scenario.cron_active, scenario.cron_scheduled, floor, ceiling)
    np.maximum(scenario.capctl_floor, floor[None, :], out=batch_min[:, 2 * width :])
    batch_max = np.broadcast_to(np.tile(ceiling, len(names))[None, :], batch_min.shape)
    # The HPA as deployed: averageUtilization = the component's target (no forecast headroom), acting on
    # metrics a minute old, a pod reporting at most its CPU limit.
    users = scenario.trace.users
    load = np.empty((n, len(names) * width))
    for i, u in enumerate(units):
        load[:, i] = users[u.row] / _users_per_pod(u.component)
    load[:, :width] = hpa.lagged(load[:, :width], settings.metrics_lag_s // scenario.trace.step_s)
    for k in range(1, len(names)):
        load[:, k * width : (k + 1) * width] = load[:, :width]
    cap = np.array([hpa.ratio_cap_for(u.component.target_utilisation, settings.limit_ratio) for u in units])
    need = scenario.need()
    initial = np.clip(np.tile(need[0], len(names)), batch_min[0], batch_max[0])
    out = hpa.simulate(
        load, batch_min, batch_max, np.tile(cap, len(names)), initial, steps, scenario.trace.step_s, settings
    )
    del load, batch_min
    result = {k: out[:, i * width : (i + 1) * width] for i, k in enumerate(names)}
    result["static"] = static(ceiling, n)
    result["oracle"] = oracle(need, steps, floor, ceiling)
    return result


def _users_per_pod(component: Component) -> float:
    """Users one pod serves at the HPA's target (the deployed averageUtilization = `target_utilisation`)."""
    return float(users_at(np.array([1]), component, component.target_utilisation)[0])


class ReplayOptions(TypedDict, total=False):
    """`replay`'s keyword arguments, for the functions that pass them on (defaults: `replay`'s)."""

    prices: Prices
    settings: hpa.HpaSettings
    focus_days: Sequence[date]
    slo_utilisation: float


def simulate(scenario: Scenario, startup_s: int, **options: Unpack[ReplayOptions]) -> tuple[StrategyResult, ...]:
    """Every strategy's metrics at one start-up delay, with cost ratios to the oracle."""
    return replay(scenario, startup_s, **options)[0]


def replay(
    scenario: Scenario,
    startup_s: int,
    *,
    prices: Prices = DEFAULT_PRICES,
    settings: hpa.HpaSettings = DEFAULT_HPA,
    focus_days: Sequence[date] = FOCUS_DAYS,
    slo_utilisation: float = SLO_UTILISATION,
) -> tuple[tuple[StrategyResult, ...], dict[str, IntArray]]:
    """Like `simulate`, also returning each strategy's desired replicas [step, unit] (for plots)."""
    steps = delay_steps(startup_s, scenario.trace.step_s)
    desired = desired_replicas(scenario, startup_s, settings)
    beyond = beyond_ceilings(scenario, slo_utilisation)  # the same for every strategy
    results = [
        evaluate(k, desired[k], scenario, steps, prices, focus_days, slo_utilisation, beyond) for k in STRATEGIES
    ]
    base = next(r.cost_eur for r in results if r.strategy == "oracle")
    ratios = tuple(replace(r, cost_ratio_to_oracle=r.cost_eur / base if base else None) for r in results)
    return ratios, desired


def sweep(
    scenario: Scenario | Callable[[int], Scenario],
    delays_s: Sequence[int] = SWEEP_S,
    *,
    prices: Prices = DEFAULT_PRICES,
    settings: hpa.HpaSettings = DEFAULT_HPA,
    slo_utilisation: float = SLO_UTILISATION,
) -> tuple[SweepPoint, ...]:
    """The same replay at several start-up delays (those that are whole numbers of steps).

    Pass a builder (delay → Scenario) so that capctl is configured with each delay it runs under; a
    fixed scenario keeps the operator's configuration of that scenario for every delay.
    """
    out = []
    for d in delays_s:
        sc = scenario(d) if callable(scenario) else scenario
        if d % sc.trace.step_s == 0:
            results = simulate(sc, d, prices=prices, settings=settings, focus_days=(), slo_utilisation=slo_utilisation)
            out.append(SweepPoint(d, results))
    return tuple(out)
