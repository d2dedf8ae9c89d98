"""Run the five strategies on one scenario for one start-up delay, and the delay sweep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt

from capacity.policy.prices import Prices
from capacity.policy.sizing import users_served
from capacity.policy.topology import Component
from capacity.simulate import hpa
from capacity.simulate.cron import cron_floor
from capacity.simulate.delay import delay_steps
from capacity.simulate.metrics import DEFAULT_PRICES, StrategyResult, evaluate
from capacity.simulate.oracle import oracle
from capacity.simulate.scenario import Scenario
from capacity.simulate.static import static

IntArray = npt.NDArray[np.int64]

STRATEGIES = ("hpa", "cron", "static", "capctl", "oracle")
FOCUS_DAYS = (date(2021, 4, 6), date(2021, 4, 26))
SWEEP_S = (120, 300, 600, 1200)
DEFAULT_HPA = hpa.HpaSettings()


@dataclass(frozen=True)
class SweepPoint:
    startup_s: int
    results: tuple[StrategyResult, ...]


def desired_replicas(scenario: Scenario, startup_s: int, settings: hpa.HpaSettings) -> dict[str, IntArray]:
    """Desired replicas [step, unit] of every strategy. The three HPA-based ones run as one batch."""
    steps = delay_steps(startup_s, scenario.trace.step_s)
    n = scenario.trace.n
    floor, ceiling = scenario.floors(), scenario.ceilings()
    need = scenario.need()
    units = scenario.units
    load = np.stack([scenario.demand()[:, i] / _users_per_pod(u.component) for i, u in enumerate(units)], axis=1)
    cap = np.array([u.component.headroom / u.component.target_utilisation for u in units])
    mins = {
        "hpa": np.repeat(floor[None, :], n, axis=0),
        "cron": cron_floor(scenario.cron_active, scenario.cron_scheduled, floor, ceiling),
        "capctl": np.maximum(scenario.capctl_floor, floor[None, :]),
    }
    names = list(mins)
    batch_min = np.concatenate([mins[k] for k in names], axis=1)
    batch_max = np.repeat(np.tile(ceiling, len(names))[None, :], n, axis=0)
    initial = np.clip(np.tile(need[0], len(names)), batch_min[0], batch_max[0])
    out = hpa.simulate(
        np.tile(load, (1, len(names))),
        batch_min,
        batch_max,
        np.tile(cap, len(names)),
        initial,
        steps,
        scenario.trace.step_s,
        settings,
    )
    width = len(units)
    result = {k: out[:, i * width : (i + 1) * width] for i, k in enumerate(names)}
    result["static"] = static(ceiling, n)
    result["oracle"] = oracle(need, steps, floor, ceiling)
    return result


def _users_per_pod(component: Component) -> float:
    """Users one pod serves at the HPA's target: the capacity model's operating point (headroom included)."""
    return float(users_served(np.array([1]), component)[0])


def simulate(
    scenario: Scenario,
    startup_s: int,
    *,
    prices: Prices = DEFAULT_PRICES,
    settings: hpa.HpaSettings = DEFAULT_HPA,
    focus_days: Sequence[date] = FOCUS_DAYS,
) -> tuple[StrategyResult, ...]:
    """Every strategy's metrics at one start-up delay, with cost ratios to the oracle."""
    return replay(scenario, startup_s, prices=prices, settings=settings, focus_days=focus_days)[0]


def replay(
    scenario: Scenario,
    startup_s: int,
    *,
    prices: Prices = DEFAULT_PRICES,
    settings: hpa.HpaSettings = DEFAULT_HPA,
    focus_days: Sequence[date] = FOCUS_DAYS,
) -> tuple[tuple[StrategyResult, ...], dict[str, IntArray]]:
    """Like `simulate`, also returning each strategy's desired replicas [step, unit] (for plots)."""
    steps = delay_steps(startup_s, scenario.trace.step_s)
    desired = desired_replicas(scenario, startup_s, settings)
    results = [evaluate(k, desired[k], scenario, steps, prices, focus_days) for k in STRATEGIES]
    base = next(r.cost_eur for r in results if r.strategy == "oracle")
    ratios = tuple(replace(r, cost_ratio_to_oracle=r.cost_eur / base if base else None) for r in results)
    return ratios, desired


def sweep(
    scenario: Scenario | Callable[[int], Scenario],
    delays_s: Sequence[int] = SWEEP_S,
    *,
    prices: Prices = DEFAULT_PRICES,
    settings: hpa.HpaSettings = DEFAULT_HPA,
) -> tuple[SweepPoint, ...]:
    """The same replay at several start-up delays (those that are whole numbers of steps).

    Pass a builder (delay → Scenario) so that capctl is configured with each delay it runs under; a
    fixed scenario keeps the operator's configuration of that scenario for every delay.
    """
    out = []
    for d in delays_s:
        sc = scenario(d) if callable(scenario) else scenario
        if d % sc.trace.step_s == 0:
            out.append(SweepPoint(d, simulate(sc, d, prices=prices, settings=settings, focus_days=())))
    return tuple(out)
