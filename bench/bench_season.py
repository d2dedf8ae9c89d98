"""Forecast accuracy on a held-out synthetic school year, against two baselines. One command:

    PYTHONPATH=. python bench/bench_season.py [--through-prometheus] [--seed N]

History: `capctl synth` for the 5 shipped plaques from 2019-09-02 (the first lockdown included) to
2021-07-06, 5-minute samples. Scored: every day of school year 2020-2021 (2020-09-01 to 2021-07-06),
each forecast from data strictly older than the day minus 7 days (rolling origin, weekly refits).

Compared on the same plaque-days (daily peak of users connected, MAPE):
  * capctl           the fitted model (rates shared across plaques, calendar-aware);
  * seasonal naive   the same weekday last week (D-7: it even sees one day more than the horizon allows);
  * Holt-Winters     statsmodels ExponentialSmoothing on daily peaks (additive trend, multiplicative
                     weekly season), refitted weekly on data before the cutoff, forecast 7-13 days ahead.
Targets (issue 3): capctl ≤ 10 % on ordinary school days, ≤ 15 % on event days in the calendar.

--through-prometheus runs the real path instead of the in-memory one: synth file → promtool backfill →
Prometheus on 127.0.0.1 → `capctl backtest --output json` (a few minutes: the backfill dominates).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capacity.calendar import SchoolCalendar  # noqa: E402
from capacity.learning.backtest import BacktestOptions, run_backtest  # noqa: E402
from capacity.learning.pipeline import Prepared, prepare  # noqa: E402
from capacity.learning.synth import SynthOptions, generate  # noqa: E402
from capacity.planning.demand import default_rates  # noqa: E402
from capacity.policy.bundle import load_policies  # noqa: E402

HISTORY_FROM, EVAL_FROM, EVAL_TO = date(2019, 9, 2), date(2020, 9, 1), date(2021, 7, 6)
HORIZON = 7
Row = dict[str, object]


def in_memory(seed: int) -> tuple[list[Row], Prepared, float]:
    calendar, pol = SchoolCalendar.load(), load_policies()
    plaques = list(pol.topology.plaques)
    syn = generate(calendar, plaques, HISTORY_FROM, EVAL_TO, SynthOptions(seed=seed, metrics=("sessions",)))
    prepared = prepare(calendar, plaques, syn.history(), HISTORY_FROM, EVAL_TO)
    began = time.perf_counter()
    result = run_backtest(prepared.frame, prepared.curves, default_rates(), EVAL_FROM, EVAL_TO, BacktestOptions())
    elapsed = time.perf_counter() - began
    rows = [
        {"date": r.day, "plaque": r.plaque, "forecast": r.forecast_peak, "actual": r.actual_peak,
         "event": r.event_day, "school": r.class_day}
        for r in result.days
    ]  # fmt: skip
    return rows, prepared, elapsed


def through_prometheus(seed: int) -> tuple[list[Row], Prepared, float]:
    from tests.support.prometheus import PrometheusServer, backfill

    with tempfile.TemporaryDirectory() as tmp:
        om = Path(tmp) / "history.om"
        _run("synth", "--from", HISTORY_FROM.isoformat(), "--to", EVAL_TO.isoformat(), "--seed", str(seed),
             "--metrics", "sessions", "--out", str(om))  # fmt: skip
        t = time.perf_counter()
        backfill(om, Path(tmp) / "tsdb")
        print(f"promtool backfill: {time.perf_counter() - t:.0f} s", file=sys.stderr)
        with PrometheusServer(Path(tmp) / "tsdb") as server:
            began = time.perf_counter()
            out = _run("backtest", "--prometheus-url", server.url, "--from", EVAL_FROM.isoformat(),
                       "--to", EVAL_TO.isoformat(), "--output", "json", "--prometheus-timeout", "120s")  # fmt: skip
            elapsed = time.perf_counter() - began
    data = json.loads(out)
    rows = [
        {"date": date.fromisoformat(d["date"]), "plaque": d["plaque"], "forecast": d["forecast_peak"],
         "actual": d["actual_peak"], "event": d["event_day"], "school": d["school_day"]}
        for d in data["days"]
    ]  # fmt: skip
    _, prepared, _ = in_memory(seed)  # baselines train on the same history (identical by construction)
    return rows, prepared, elapsed


def _run(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "capacity", *args], capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    return res.stdout


def daily_peaks(prepared: Prepared) -> dict[str, np.ndarray]:
    """Observed daily peak of users per plaque and frame day (NaN with less than 90 % of the day)."""
    out = {}
    for pid, curves in prepared.curves.items():
        total = curves.sum(axis=0)  # NaN where any profile is missing
        ok = np.isfinite(total).mean(axis=-1) >= 0.9
        out[pid] = np.where(ok, np.nanmax(np.where(np.isfinite(total), total, -np.inf), axis=-1), np.nan)
    return out


def seasonal_naive(peaks: dict[str, np.ndarray], days: tuple[date, ...]) -> Callable[[str, date], float]:
    index = {d: i for i, d in enumerate(days)}
    return lambda pid, d: float(peaks[pid][index[d - timedelta(days=7)]])


def holt_winters(peaks: dict[str, np.ndarray], days: tuple[date, ...]) -> Callable[[str, date], float]:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    index = {d: i for i, d in enumerate(days)}
    cache: dict[tuple[str, int], np.ndarray] = {}
    first_cutoff = index[EVAL_FROM] - HORIZON

    def forecast(pid: str, d: date) -> float:
        cutoff = index[d] - HORIZON
        fit_at = first_cutoff + ((cutoff - first_cutoff) // 7) * 7  # weekly refits, never after the cutoff
        if (pid, fit_at) not in cache:
            y = peaks[pid][:fit_at].copy()
            idx = np.arange(y.size)
            good = np.isfinite(y)
            y = np.interp(idx, idx[good], y[good])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ExponentialSmoothing(
                    y, trend="add", damped_trend=True, seasonal="mul", seasonal_periods=7
                ).fit()
            cache[(pid, fit_at)] = model.forecast(21)
        return float(cache[(pid, fit_at)][index[d] - fit_at])

    return forecast


def mape(rows: list[Row], forecast: Callable[[Row], float]) -> tuple[float, int]:
    errors = [abs(forecast(r) - float(r["actual"])) / float(r["actual"]) for r in rows]  # type: ignore[arg-type]
    return 100 * float(np.mean(errors)), len(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--through-prometheus", action="store_true")
    parser.add_argument("--seed", type=int, default=20200316)
    args = parser.parse_args()
    began = time.perf_counter()
    rows, prepared, elapsed = (through_prometheus if args.through_prometheus else in_memory)(args.seed)
    peaks = daily_peaks(prepared)
    naive = seasonal_naive(peaks, prepared.frame.days)
    hw = holt_winters(peaks, prepared.frame.days)
    scored = [r for r in rows if r["actual"] is not None and np.isfinite(naive(str(r["plaque"]), r["date"]))]  # type: ignore[arg-type]
    groups = {
        "ordinary school days": [r for r in scored if r["school"] and not r["event"]],
        "event days (calendar)": [r for r in scored if r["event"]],
        "all days": scored,
    }
    methods: dict[str, Callable[[Row], float]] = {
        "capctl": lambda r: float(r["forecast"]),  # type: ignore[arg-type]
        "seasonal naive (D-7)": lambda r: naive(str(r["plaque"]), r["date"]),  # type: ignore[arg-type]
        "Holt-Winters": lambda r: hw(str(r["plaque"]), r["date"]),  # type: ignore[arg-type]
    }
    results = {m: {g: mape(rs, f) for g, rs in groups.items()} for m, f in methods.items()}
    mode = "through Prometheus (capctl backtest)" if args.through_prometheus else "in memory"
    print(f"held-out school year {EVAL_FROM} to {EVAL_TO}, 5 plaques, 5-min history from {HISTORY_FROM}, "
          f"horizon {HORIZON} d, {mode}, seed {args.seed}")  # fmt: skip
    print(f"{'daily-peak MAPE':<22}" + "".join(f"{g:>24}" for g in groups))
    print(f"{'(plaque-days)':<22}" + "".join(f"{n:>24}" for n in (results["capctl"][g][1] for g in groups)))
    for m in methods:
        cells = []
        for g in groups:
            value = results[m][g][0]
            ratio = results["capctl"][g][0] / value
            cells.append(f"{value:6.1f} %" + ("" if m == "capctl" else f"  (capctl/x {ratio:4.2f})"))
        print(f"{m:<22}" + "".join(f"{c:>24}" for c in cells))
    print(f"{'target (issue 3)':<22}{'<= 10 %':>24}{'<= 15 %':>24}")
    ok = results["capctl"]["ordinary school days"][0] <= 10 and results["capctl"]["event days (calendar)"][0] <= 15
    print(
        f"targets met: {'yes' if ok else 'NO'}; backtest {elapsed:.1f} s; "
        f"whole bench {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
