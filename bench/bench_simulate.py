"""Season replay benchmark: the 2020-2021 school year on the synthetic trace, all plaques and components.

Prints the full table at 1-minute resolution with the default 10-minute start-up delay and the delay
sweep (2, 5, 10, 20 min), checks the headline, then times one replay at 5-minute resolution.
Run: PYTHONPATH=. /work/venv/bin/python bench/bench_simulate.py
"""

from __future__ import annotations

import time
from datetime import date

from capacity.calendar import SchoolCalendar
from capacity.demand import default_rates
from capacity.policies import load_policies
from capacity.simulate.report import report_table
from capacity.simulate.run import SWEEP_S, simulate, sweep
from capacity.simulate.scenario import build
from capacity.simulate.trace import synth_trace

FIRST, LAST = date(2020, 9, 1), date(2021, 7, 6)


def main() -> None:
    calendar = SchoolCalendar.load([])
    policies = load_policies()
    plaques = list(policies.topology.plaques)
    rates = default_rates()

    t0 = time.perf_counter()
    trace = synth_trace(calendar, plaques, FIRST, LAST, 300)
    scenario = build(trace, FIRST, LAST, policies, calendar, rates)
    results = simulate(scenario, 600)
    fast_s = time.perf_counter() - t0

    trace = synth_trace(calendar, plaques, FIRST, LAST, 60)
    scenario = build(trace, FIRST, LAST, policies, calendar, rates)
    results = simulate(scenario, 600)
    points = sweep(scenario, SWEEP_S)
    meta = {"from": FIRST, "to": LAST, "source": trace.source, "startup_s": 600, "step_s": 60}
    print(report_table(meta, results, points))
    capctl = next(r for r in results if r.strategy == "capctl")
    ok = capctl.cost_ratio_to_oracle is not None and capctl.cost_ratio_to_oracle <= 1.15
    ok_short = capctl.underprovisioned_share <= 0.001
    print()
    verdict = "met" if ok else "NOT met"
    print(f"headline: capctl cost {capctl.cost_ratio_to_oracle:.3f} × oracle (target ≤ 1.15: {verdict}),")
    print(
        f"          under-provisioned {capctl.underprovisioned_share * 100:.3f} % of demand "
        f"(target ≤ 0.1 %: {'met' if ok_short else 'NOT met'})"
    )
    print(
        f"speed: full school year, {len(plaques)} plaques × {len(scenario.units) // len(plaques)} components, "
        f"5-minute resolution, one delay, all five strategies: {fast_s:.1f} s (target < 30 s)"
    )


if __name__ == "__main__":
    main()
