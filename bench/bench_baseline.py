"""capctl against a plain calendar regression, on issue 11's protocol and both histories. One command:

    PYTHONPATH=. python bench/bench_baseline.py [--seed N] [--generator default|independent ...]

Issue 11 reported that on an ENT history nobody here wrote "a 150-line calendar regression, fit once at
03-31, no rolling refit" reached 4.9 % / 6.0 % (ordinary / event days) where capctl had 8.4 % / 20.3 %.
This is such a regression, written without looking at either generator's code, scored on the same
plaque-days as `bench_forecast.py`: per plaque, least squares (a small ridge) of the log daily peak on
  * the share of the plaque's accounts in each (school level, day state) — école / collège / lycée ×
    présentiel / hybride / distanciel / vacances / férié / week-end;
  * the weekday of class days (one column per weekday, times the share in class);
  * the share flagged rentrée, flagged bascule, and a rentrée after the summer;
  * the school year's trend: days since 1 September times the share in class, and one level per
    school year (accounts grow through the year and from year to year).
Two ways: fitted once on everything up to 2021-03-31 (the issue's), and refitted for every day on what
its forecast 7 days ahead may read (days before D - 7, as capctl's rolling backtest). A plaque-day whose
state mix was never seen gets whatever least squares makes of it — no band, no pooling: a yardstick.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_forecast import (  # noqa: E402
    AUTUMN,
    EVAL_FROM,
    EVAL_TO,
    FIT_TO,
    FOCUS,
    HISTORY_FROM,
    HORIZON,
    history_args,
    oracle_peaks,
)

from capacity.calendar import SchoolCalendar  # noqa: E402
from capacity.calendar.types import CLASS_STATES, STATE_INDEX, DayState, Level  # noqa: E402
from capacity.learning.backtest import BacktestOptions, run_backtest  # noqa: E402
from capacity.learning.days import segment_states  # noqa: E402
from capacity.learning.generators import generator  # noqa: E402
from capacity.learning.pipeline import prepare  # noqa: E402
from capacity.learning.synth import SynthOptions  # noqa: E402
from capacity.planning.demand import default_rates  # noqa: E402
from capacity.policy.bundle import load_policies  # noqa: E402

RIDGE = 1e-3
#: The held-out spring (issue 11's), the validation window capctl's constants were chosen on, the autumn.
WINDOWS = {"spring": (EVAL_FROM, EVAL_TO), "validation": (date(2020, 10, 1), date(2021, 3, 24)), "autumn": AUTUMN}
CLASS = np.array([STATE_INDEX[s] for s in DayState if s in CLASS_STATES])


def design(calendar: Any, plaque: Any, days: tuple[date, ...]) -> np.ndarray:
    """One row per day: the regression's columns (see the module docstring)."""
    state, flags = segment_states(calendar, plaque, days[0], days[-1])
    pop = plaque.population_matrix().sum(axis=1)
    share = pop / pop.sum()
    levels = list(Level)
    mix = np.zeros((len(days), len(levels), len(DayState)))
    for k, seg in enumerate(plaque.segments):
        mix[np.arange(len(days)), levels.index(seg.level), state[:, k]] += share[k]
    in_class = mix[:, :, CLASS].sum(axis=(1, 2))
    weekday = np.array([d.weekday() for d in days])
    by_weekday = np.stack([(weekday == w) * in_class for w in range(7)], axis=1)
    rentree = flags[:, :, 0].astype(float) @ share
    bascule = flags[:, :, 1].astype(float) @ share
    summer = rentree * np.array([d.month in (8, 9) for d in days])
    year = np.array([d.year - (d.month < 8) for d in days])
    since = np.array([(d - date(y, 9, 1)).days for d, y in zip(days, year, strict=True)]) / 365.0
    years = np.stack([(year == y) * 1.0 for y in sorted(set(year))], axis=1)
    return np.column_stack([mix.reshape(len(days), -1), by_weekday, rentree, bascule, summer, since * in_class, years])


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    a, b = x[ok], y[ok]
    return np.linalg.solve(a.T @ a + RIDGE * np.eye(a.shape[1]), a.T @ b)


def regressions(calendar: Any, plaques: list[Any], prepared: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Forecast daily peaks per plaque and day: fitted once at FIT_TO, and refitted at each day's cutoff."""
    frame = prepared.frame
    cutoff = frame.index(FIT_TO) + 1
    once, rolling = {}, {}
    for p in plaques:
        x = design(calendar, p, frame.days)
        total = np.nansum(prepared.curves[p.id], axis=0)
        read = np.isfinite(prepared.curves[p.id]).all(axis=0).mean(axis=-1) > 0.9
        y = np.where(read, np.log(np.maximum(np.nanmax(total, axis=-1), 1.0)), np.nan)
        once[p.id] = np.exp(x @ fit(x[:cutoff], y[:cutoff]))
        rolling[p.id] = np.full(len(frame.days), np.nan)
        for d in range(min(frame.index(w[0]) for w in WINDOWS.values()), len(frame.days)):
            known = d - HORIZON  # as the backtest: the forecast of day d reads days [0, d - 7)
            rolling[p.id][d] = float(np.exp(x[d] @ fit(x[:known], y[:known])))
    return once, rolling


def measure(name: str, seed: int) -> tuple[dict[tuple[str, str], dict[str, float]], tuple[float, float]]:
    """MAPE per (window, ordinary|event) of capctl, both regressions and the noise floor; 04-26 of 'once'."""
    calendar, pol = SchoolCalendar.load(), load_policies()
    plaques = list(pol.topology.plaques)
    syn = generator(name)(calendar, plaques, HISTORY_FROM, EVAL_TO, SynthOptions(seed=seed, metrics=("sessions",)))
    prepared = prepare(calendar, plaques, syn.history(), HISTORY_FROM, EVAL_TO)
    frame = prepared.frame
    floor = oracle_peaks(name, calendar, plaques, prepared, seed)
    once, rolling = regressions(calendar, plaques, prepared)
    out = {}
    for window, (first, last) in WINDOWS.items():
        options = BacktestOptions(horizon_days=HORIZON)
        result = run_backtest(prepared.frame, prepared.curves, default_rates(), first, last, options)
        rows = [r for r in result.days if r.error is not None and r.class_day]
        for label, event in (("ordinary", False), ("event", True)):
            chosen = [r for r in rows if r.event_day == event]
            actual = np.array([r.actual_peak for r in chosen])
            at = [(r.plaque, frame.index(r.day)) for r in chosen]

            def mape(peaks: dict[str, Any], at: list[tuple[str, int]] = at, actual: Any = actual) -> float:
                return 100 * float(np.mean(np.abs(np.array([peaks[p][i] for p, i in at]) / actual - 1)))

            out[window, label] = {
                "days": len(chosen),
                "capctl": 100 * float(np.mean(np.abs([r.error for r in chosen]))),
                "once": mape(once) if first > FIT_TO else float("nan"),
                "rolling": mape(rolling),
                "floor": mape(floor),
            }
    focus = frame.index(FOCUS)
    errs = []
    for p in plaques:
        actual = float(np.nanmax(np.nansum(prepared.curves[p.id][:, focus], axis=0)))
        errs.append(float(once[p.id][focus]) / actual - 1)
    return out, (100 * float(np.mean(np.abs(errs))), 100 * max(errs, key=abs))


def main() -> None:
    args = history_args(__doc__)
    print(f"daily-peak MAPE, seed {args.seed}, forecast {HORIZON} days ahead (capctl: its rolling backtest); windows:")
    print("  " + ", ".join(f"{k} {a} to {b}" for k, (a, b) in WINDOWS.items()) + f"; 'once': fitted at {FIT_TO}")
    print(
        f"{'history':<12} {'window':<10} {'days':<9} {'n':>4} {'capctl':>7} {'regr. once':>10} "
        f"{'regr. rolling':>13} {'floor':>6}"
    )
    for name in args.generator:
        out, (mean, worst) = measure(name, args.seed)
        for (window, label), o in out.items():
            once = "-" if np.isnan(o["once"]) else f"{o['once']:.1f}%"
            print(
                f"{name:<12} {window:<10} {label:<9} {o['days']:>4} {o['capctl']:>6.1f}% {once:>10} "
                f"{o['rolling']:>12.1f}% {o['floor']:>5.1f}%"
            )
        print(f"{name:<12} 2021-04-26, regression fitted once at {FIT_TO}: mean {mean:.1f} %, worst {worst:+.1f} %")


if __name__ == "__main__":
    main()
