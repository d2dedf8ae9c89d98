"""Season replay benchmark: the 2020-2021 school year on the synthetic trace, all plaques and components.

capctl plans with three models, each replayed at 1-minute resolution with a 10-minute start-up delay:
  * prior    the shipped default rates (no history at all);
  * fitted   one `capctl fit` on the synthetic history strictly before the year (2019-09-02 to 2020-08-31,
             the same generator and seed as the demand), never refitted;
  * refit    what `capctl run --refit weekly` plans with: the operator's own weekly refit, validated
             against the model in force (`capacity.simulate.refit.replay_refits`, the code behind
             `capctl simulate --refit weekly`).
Prints the full table and delay sweep (2, 5, 10, 20 min) for the weekly refit, one line per model for
capctl, checks the headline, then times one replay at 5-minute resolution (prior).
Prints the peak RSS (getrusage): the season must replay in under 2 GiB.
Run: PYTHONPATH=. .venv/bin/python bench/bench_simulate.py [--generator default|independent]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

from capacity.calendar import SchoolCalendar
from capacity.learning.generators import GENERATORS, generator
from capacity.learning.pipeline import fit_model, prepare
from capacity.learning.synth import SynthOptions
from capacity.planning.demand import default_rates
from capacity.policy.bundle import load_policies
from capacity.simulate.refit import replay_refits
from capacity.simulate.report import report_table
from capacity.simulate.run import SWEEP_S, simulate, sweep
from capacity.simulate.scenario import Rates, RatesByDay, build
from capacity.simulate.trace import synth_trace

FIRST, LAST = date(2020, 9, 1), date(2021, 7, 6)
HISTORY_FROM, HISTORY_TO = date(2019, 9, 2), date(2020, 8, 31)
SEED = 20200316


def models(
    calendar: SchoolCalendar,
    plaques: list,  # type: ignore[type-arg]
    seed: int = SEED,
    history: str = "default",
) -> dict[str, Rates | RatesByDay]:
    """The three models capctl plans with; fits see only history before the day they plan (`history`: the
    synthetic generator, `capctl synth --generator`)."""
    generate = generator(history)
    syn = generate(calendar, plaques, HISTORY_FROM, LAST, SynthOptions(seed=seed, metrics=("sessions",)))
    history = syn.history()
    before = generate(calendar, plaques, HISTORY_FROM, HISTORY_TO, SynthOptions(seed=seed, metrics=("sessions",)))
    hb = before.history()
    model, _ = fit_model(prepare(calendar, plaques, hb, HISTORY_FROM, HISTORY_TO), hb, plaques, default_rates(), {})
    return {
        "prior": default_rates(),
        "fitted": model.rates_by_plaque([p.id for p in plaques]),
        "refit": replay_refits(history, calendar, plaques, default_rates(), FIRST, LAST).rates_for,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="season replay benchmark")
    ap.add_argument("--generator", choices=tuple(GENERATORS), default="default", help="synthetic history")
    history = ap.parse_args().generator
    calendar = SchoolCalendar.load([])
    policies = load_policies()
    plaques = list(policies.topology.plaques)

    t0 = time.perf_counter()
    trace = synth_trace(calendar, plaques, FIRST, LAST, 300, generator=history)
    scenario = build(trace, FIRST, LAST, policies, calendar, default_rates(), startup_s=600)
    results = simulate(scenario, 600)
    fast_s = time.perf_counter() - t0

    trace = synth_trace(calendar, plaques, FIRST, LAST, 60, generator=history)
    rows = {}
    models_ = models(calendar, plaques, history=history)
    for name, rates in models_.items():
        scenario = build(trace, FIRST, LAST, policies, calendar, rates, startup_s=600)
        rows[name] = simulate(scenario, 600)
    results = rows["refit"]
    refit = models_["refit"]
    points = sweep(
        lambda d: scenario if d == 600 else build(trace, FIRST, LAST, policies, calendar, refit, startup_s=d), SWEEP_S
    )
    meta = {"from": FIRST, "to": LAST, "source": trace.source + ", weekly refit", "startup_s": 600, "step_s": 60}
    print(report_table(meta, results, points))
    print()
    print("capctl by model (10 min start-up): cost × oracle, share of user-minutes above the operating point")
    print("and above saturation")
    for name, res in rows.items():
        c = next(r for r in res if r.strategy == "capctl")
        sat = c.share(c.saturation.user_minutes)
        print(
            f"  {name:<7} {c.cost_ratio_to_oracle:.3f} ×   {c.underprovisioned_share * 100:.4f} %   {sat * 100:.4f} %"
        )
    capctl = next(r for r in results if r.strategy == "capctl")
    ok = capctl.cost_ratio_to_oracle is not None and capctl.cost_ratio_to_oracle <= 1.10
    ok_short = capctl.underprovisioned_share <= 0.0006
    ok_sat = capctl.share(capctl.saturation.user_minutes) <= 0.00003
    print()
    verdict = "met" if ok else "NOT met"
    print(
        f"headline (weekly refit): capctl cost {capctl.cost_ratio_to_oracle:.3f} × oracle (target ≤ 1.10: {verdict}),"
    )
    print(
        f"          above the operating point {capctl.underprovisioned_share * 100:.4f} % of user-minutes "
        f"(target ≤ 0.06 %: {'met' if ok_short else 'NOT met'}),"
    )
    print(
        f"          above saturation {capctl.share(capctl.saturation.user_minutes) * 100:.4f} % "
        f"(target ≤ 0.003 %: {'met' if ok_sat else 'NOT met'})"
    )
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {rss_gib:.2f} GiB (target ≤ 2 GiB: {'met' if rss_gib <= 2 else 'NOT met'})")
    print(
        f"speed: full school year, {len(plaques)} plaques × {len(scenario.units) // len(plaques)} components, "
        f"5-minute resolution, one delay, all five strategies: {fast_s:.1f} s (target < 30 s)"
    )


if __name__ == "__main__":
    main()
