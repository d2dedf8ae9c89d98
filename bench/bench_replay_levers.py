"""Where capctl's season cost over the oracle goes, and what the levers not built would buy.

    PYTHONPATH=. python bench/bench_replay_levers.py [--resolution 300] [--model refit|fitted|prior]
        [--generator default|independent]

The season replay of `bench_simulate.py` (2020-2021 school year, synthetic trace seed 20200316 of either
generator: the trace and the history the model is fitted on come from the same one; 10-minute start-up),
capctl only, with one thing changed at a time:
  * the operator's pacing: no anticipation (plan read over the lead time only), no scale-down pacing
    (stabilisation window 0, any step down);
  * no rush band: the plan sized on the forecast's mean on rising slots too (bands of zero width);
  * a shorter pre-warm (topology.yaml `prewarm_s`, 1 h in the shipped policies): 30 min, and the start-up
    delay itself;
  * the exact day level: each class day's forecast scaled by the users who came over 8-18 h / the users
    forecast (the model's intraday shape kept), with and without bands — what a perfect level would buy;
  * the generator's own expectation 7 days ahead (`synth.expected_users`: the AR(1) day level at its
    conditional mean, no sample noise; the noise floor of `bench_forecast`) as the forecast, sized on its
    mean plus 0, 5 or 10 % all day: what the best 7-day forecast of this history would cost;
  * the users who came: the plan is the pre-warmed need of the actual users (mandates applied), through
    the operator's own `replay` — the cost of the policy itself (no forecast knows the sample noise);
  * a same-day correction ("nowcast"): the operator's own (planning/nowcast.py: 9-12 h, up only, at most
    ×1.3) as one row, and variants re-planned here: from `window` on, the rest of each class day with the
    plaque's rates scaled by users seen / users forecast over the window (5 % steps, within [0.8, 1.3];
    down-only and up-only variants), the month's budget levels unchanged, only where the window's forecast
    is above 50 users (these variants' look-ahead reads the re-planned slots up to 40 minutes before the
    window ends; the operator's row does not).
Every other row, "as shipped" included, is the operator *without* its nowcast (`nowcast_most` 1), so that
each lever is measured alone.
Prints cost × oracle and the shares of user-minutes above the operating point and above saturation, then
capctl's and the expectation's error by hour of the day (median log(forecast / actual) and its absolute
value, weekdays where more than 50 users are forecast).
The default 5-minute resolution takes ~5 minutes (the weekly refits are most of it); 60 is the product's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capacity.calendar import SchoolCalendar  # noqa: E402
from capacity.common.timegrid import BASE_STEP_S, local_hours  # noqa: E402
from capacity.learning.generators import EXPECTATIONS, GENERATORS  # noqa: E402
from capacity.planning.budget import month_budget_levels  # noqa: E402
from capacity.planning.demand import UsageRates  # noqa: E402
from capacity.planning.kernel import rates_for  # noqa: E402
from capacity.planning.plans import plan_plaques  # noqa: E402
from capacity.policy.bundle import Policies, load_policies  # noqa: E402
from capacity.policy.sizing import prewarm, prewarm_window_slots, replicas_for_users  # noqa: E402
from capacity.simulate.run import simulate  # noqa: E402
from capacity.simulate.scenario import (  # noqa: E402
    DEFAULT_OPERATOR,
    Rates,
    RatesByDay,
    Scenario,
    build,
    capctl_floors,
    model_plans,
    with_components,
    with_lead_time,
)
from capacity.simulate.trace import DemandTrace, synth_trace  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from bench_forecast import HORIZON  # noqa: E402
from bench_simulate import FIRST, LAST, SEED, models  # noqa: E402

STARTUP_S = 600
SETTINGS = replace(DEFAULT_OPERATOR, nowcast_most=1.0)  # the levers alone: the nowcast is its own row


@dataclass(frozen=True)
class Nowcast:
    window: tuple[float, float] = (9.0, 12.0)  # local hours observed
    low: float = 0.8
    high: float = 1.3
    step: float = 0.05
    min_forecast: float = 50.0  # users per slot in the window, on average


def line(name: str, scenario: Scenario, base: tuple[float, float, float] | None) -> tuple[float, float, float]:
    c = next(r for r in simulate(scenario, STARTUP_S) if r.strategy == "capctl")
    row = (c.cost_ratio_to_oracle or 0.0, c.underprovisioned_share * 100, c.share(c.saturation.user_minutes) * 100)
    delta = (
        "" if base is None else f"   ({row[0] - base[0]:+.3f} ×, {row[1] - base[1]:+.4f} %, {row[2] - base[2]:+.4f} %)"
    )
    print(f"{name:<54} {row[0]:.3f} ×  {row[1]:.4f} %  {row[2]:.4f} %{delta}", flush=True)
    return row


def without_band(r: UsageRates) -> UsageRates:
    """The same rates with a band of zero width (the plan sizes the rush on the mean)."""
    return replace(r, relative_error=np.zeros_like(r.relative_error), extra_error=None, level_year=None)


def bandless(rates: Rates | RatesByDay) -> Rates | RatesByDay:
    """`without_band` for a model (the same object for the same input: the replay plans one run per model)."""

    def one(r: Rates) -> Rates:
        return without_band(r) if isinstance(r, UsageRates) else {k: without_band(v) for k, v in r.items()}

    if not callable(rates):
        return one(rates)
    memo: dict[int, Rates] = {}
    inner: Callable[[date], Rates] = rates

    def of_day(d: date) -> Rates:
        model = inner(d)
        if id(model) not in memo:
            memo[id(model)] = one(model)
        return memo[id(model)]

    return of_day


class Replay:
    """The baseline scenario's plan, forecast and live users per slot, to rebuild capctl's floor from."""

    def __init__(
        self,
        trace: DemandTrace,
        policies: Policies,
        calendar: SchoolCalendar,
        rates: Rates | RatesByDay,
        generator: str = "default",
    ):
        self.trace, self.policies, self.calendar, self.rates = trace, policies, calendar, rates
        self.generator = generator
        self.base = build(trace, FIRST, LAST, policies, calendar, rates, settings=SETTINGS, startup_s=STARTUP_S)
        per_slot = BASE_STEP_S // trace.step_s
        self.n = trace.n // per_slot
        self.users = trace.users[:, ::per_slot][:, : self.n]
        plaques = list(trace.plaques)
        rows: list[list[np.ndarray]] = [[] for _ in self.base.units]
        forecast: list[list[np.ndarray]] = [[] for _ in plaques]
        hours: list[float] = []
        days: list[date] = []
        for plan in model_plans(FIRST, LAST + timedelta(days=1), policies, calendar, rates, plaques):
            starts = plan.plaques[0].forecast.grid.starts
            hours.extend(local_hours(starts).tolist())
            days.extend(s.date() for s in starts)
            parts = [cp.replicas for pp in plan.plaques for cp in pp.components]
            for i, x in enumerate(parts):
                rows[i].append(np.asarray(x, dtype=np.int64))
            for i, pp in enumerate(plan.plaques):
                forecast[i].append(pp.forecast.users)
        self.rows = [np.concatenate(r) for r in rows]
        self.forecast = [np.concatenate(f)[: self.n] for f in forecast]
        self.hours = np.array(hours[: self.n])
        self.days = np.array(days[: self.n])

    def with_rows(self, rows: list[np.ndarray]) -> Scenario:
        """The baseline scenario with the operator replayed on other planned replicas."""
        floors = capctl_floors(self.trace, self.base.units, rows, SETTINGS)
        return replace(self.base, capctl_floor=floors[self.base.slot_of_step])

    def sized_on(self, users: np.ndarray) -> Scenario:
        """The plan that sizes every slot on `users` [plaque, slot] (pre-warmed, within the mandates)."""
        rows = []
        for u in self.base.units:
            need = replicas_for_users(users[u.row], u.component)
            rows.append(np.clip(prewarm(need, prewarm_window_slots(u.component, BASE_STEP_S)), u.floor, u.ceiling))
        return self.with_rows(rows)

    def expectation(self) -> np.ndarray:
        """The generator's own expectation HORIZON days ahead [plaque, slot] (what the trace was drawn from)."""
        last = LAST + timedelta(days=1)
        plaques = self.policies.topology.plaques
        rows = [EXPECTATIONS[self.generator](self.calendar, p, FIRST, last, SEED, HORIZON).sum(axis=0) for p in plaques]
        return np.array(rows)[:, : self.n]

    def nowcast(self, nc: Nowcast) -> tuple[Scenario, int]:
        """The rest of each day re-planned at the quantised ratio of users seen to users forecast."""

        def ratio(d: date, row: int) -> float | None:
            seen = (self.days == d) & (self.hours >= nc.window[0]) & (self.hours < nc.window[1])
            forecast = self.forecast[row][seen]
            if forecast.size == 0 or forecast.mean() < nc.min_forecast:
                return None
            r = float(self.users[row][seen].sum() / forecast.sum())
            return min(nc.high, max(nc.low, round(r / nc.step) * nc.step))

        return self.replanned(ratio, nc.window[1])

    def exact_level(self, band: bool) -> tuple[Scenario, int]:
        """Each class day re-planned from midnight with the plaque's forecast scaled by the users who came
        over 8-18 h / the users forecast (a forecast whose day level is exact, the model's shape kept)."""

        def ratio(d: date, row: int) -> float | None:
            day = (self.days == d) & (self.hours >= 8) & (self.hours < 18)
            forecast = self.forecast[row][day]
            if forecast.size == 0 or forecast.mean() < Nowcast.min_forecast:
                return None
            return float(self.users[row][day].sum() / forecast.sum())

        return self.replanned(ratio, 0.0, band=band)

    def replanned(
        self, ratio_of: Callable[[date, int], float | np.ndarray | None], from_h: float, band: bool = True
    ) -> tuple[Scenario, int]:
        """Every (day, plaque) with a ratio re-planned at it from `from_h` on (month budget levels unchanged);
        a ratio is one number or one per 5-minute slot of the day (the rates' last axis)."""
        rows = [r.copy() for r in self.rows]
        levels: dict[tuple[int, int], dict[str, float]] = {}
        count = 0
        rates_of = self.rates if callable(self.rates) else (lambda _d: self.rates)
        for d in sorted(set(self.days.tolist())):
            rest = np.flatnonzero((self.days == d) & (self.hours >= from_h))
            for row, plaque in enumerate(self.policies.topology.plaques):
                ratio = ratio_of(d, row)
                if ratio is None or (np.all(np.abs(np.asarray(ratio) - 1) < 1e-9) and band) or rest.size == 0:
                    continue
                rates = rates_of(d)
                month = (d.year, d.month)
                if month not in levels:
                    levels[month] = month_budget_levels(d, BASE_STEP_S, self.policies, self.calendar, rates)
                mine = rates_for(rates, plaque.id)
                scaled = replace(mine, rates=mine.rates * ratio)
                if not band:
                    scaled = without_band(scaled)
                planned = plan_plaques(d, BASE_STEP_S, self.policies, self.calendar, scaled, levels[month], [plaque])
                pp = next(iter(planned))
                day_hours = local_hours(pp.forecast.grid.starts)
                later = np.flatnonzero(day_hours >= from_h)[: rest.size]
                units = [i for i, u in enumerate(self.base.units) if u.row == row]
                for i, cp in zip(units, pp.components, strict=True):
                    rows[i][rest[: later.size]] = cp.replicas[later]
                count += 1
        return self.with_rows(rows), count

    def error_by_hour(self, expectation: np.ndarray) -> list[str]:
        """Per local hour: median log(forecast / actual) and median |log| for capctl and the expectation."""
        weekday = np.array([d.weekday() < 5 for d in self.days])
        forecast, actual = np.array(self.forecast), self.users
        out = []
        for h in range(5, 23):
            m = (forecast > Nowcast.min_forecast) & (weekday & (np.floor(self.hours) == h))[None, :]
            ours, best = np.log(forecast[m] / actual[m]), np.log(expectation[m] / actual[m])
            out.append(
                f"{h:5d} h   {np.median(ours):+.3f}  {np.median(np.abs(ours)):.3f}"
                f"      {np.median(best):+.3f}  {np.median(np.abs(best)):.3f}"
            )
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=300, help="trace step in seconds (60: the product's replay)")
    ap.add_argument("--model", choices=("refit", "fitted", "prior"), default="refit")
    ap.add_argument("--generator", choices=tuple(GENERATORS), default="default", help="synthetic history")
    args = ap.parse_args()
    t0 = time.perf_counter()
    calendar = SchoolCalendar.load([])
    policies = with_lead_time(load_policies(), STARTUP_S)
    plaques = list(policies.topology.plaques)
    trace = synth_trace(calendar, plaques, FIRST, LAST, args.resolution, generator=args.generator)
    rates = models(calendar, plaques, history=args.generator)[args.model]
    replay = Replay(trace, policies, calendar, rates, args.generator)
    print(
        f"capctl, {FIRST}..{LAST}, {args.generator} history, {args.model} model, {args.resolution} s steps, "
        f"{STARTUP_S // 60} min start-up"
    )
    print(f"{'':<54} cost      above op.  above sat.   (change)")
    base = line("as shipped, without the nowcast", replay.base, None)
    with_nowcast = build(trace, FIRST, LAST, policies, calendar, rates, settings=DEFAULT_OPERATOR, startup_s=STARTUP_S)
    line("the operator's nowcast (as shipped)", with_nowcast, base)
    pace = replace(SETTINGS.decide, stabilisation_window_s=0.0, max_step_down=1.0)
    for name, settings in (
        ("no anticipation (lead time only)", replace(SETTINGS, anticipation_s=0.0)),
        ("no scale-down pacing", replace(SETTINGS, decide=pace)),
    ):
        line(name, build(trace, FIRST, LAST, policies, calendar, rates, settings=settings, startup_s=STARTUP_S), base)
    bandless_scenario = build(
        trace, FIRST, LAST, policies, calendar, bandless(rates), settings=SETTINGS, startup_s=STARTUP_S
    )
    line("no rush band", bandless_scenario, base)
    for prewarm_s in (1800, STARTUP_S):
        shorter = with_components(policies, prewarm_s=prewarm_s)
        scenario = build(trace, FIRST, LAST, shorter, calendar, rates, settings=SETTINGS, startup_s=STARTUP_S)
        line(f"pre-warm {prewarm_s // 60} min (topology: 60)", scenario, base)
    for band in (True, False):
        scenario, count = replay.exact_level(band)
        line(f"exact day level, model's shape{'' if band else ', no band'} [{count}]", scenario, base)
    expectation = replay.expectation()
    for margin in (0.0, 0.05, 0.10):
        line(
            f"generator's expectation, {HORIZON} d ahead, +{margin:.0%}",
            replay.sized_on(expectation * (1 + margin)),
            base,
        )
    line("the users who came (the policy's own cost)", replay.sized_on(replay.users), base)
    for name, nc in (
        ("nowcast 9-12 h, rest of the day", Nowcast()),
        ("nowcast 9-12 h, down only", Nowcast(high=1.0)),
        ("nowcast 9-12 h, up only", Nowcast(low=1.0)),
        ("nowcast 6-7:15 h (before the rush)", Nowcast(window=(6.0, 7.25))),
    ):
        scenario, replanned = replay.nowcast(nc)
        line(f"{name} [{replanned} re-planned]", scenario, base)
    print("error by hour, weekdays: log(forecast / actual), median and median of |.|")
    print("  hour   capctl bias  |err|   expectation bias  |err|")
    print("\n".join(replay.error_by_hour(expectation)))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
