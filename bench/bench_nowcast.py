"""How much would users seen earlier in the day say about the rest of it? The lever the forecast has not used.

    PYTHONPATH=. python bench/bench_nowcast.py [--seed N] [--generator default|independent ...]

Both synthetic histories give each plaque-day one level shared by the whole day (an AR(1) day multiplier):
a 7-day-ahead forecast cannot know it (it is most of the error above the noise floor), but by mid-morning
the users connected have shown it. Nothing in capctl uses that yet (no intraday correction in the operator
or the replay); this bench measures what it could gain, on issue 11's protocol: rolling backtest
2021-04-01 to 07-06, 7-day horizon, weekly refits, ordinary class days. For each observation window it
fits, across plaque-days, log(actual / forecast) of the later peak on log(observed / forecast users) in the
window (one slope, no intercept beyond the median) and prints the correlation and the MAPE of that later
peak before and after scaling the forecast by the fitted ratio. In-sample (one slope fitted on the days it
is scored on): an upper bound of what a deployed correction, fitted on past days, would get.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capacity.calendar import SchoolCalendar  # noqa: E402
from capacity.common.timegrid import BASE_STEP_S  # noqa: E402
from capacity.learning.backtest import BacktestOptions, rolling_rates  # noqa: E402
from capacity.learning.generators import generator  # noqa: E402
from capacity.learning.pipeline import prepare  # noqa: E402
from capacity.learning.synth import SynthOptions  # noqa: E402
from capacity.planning.demand import default_rates, forecast_day  # noqa: E402
from capacity.planning.kernel import segment_infos  # noqa: E402
from capacity.policy.bundle import load_policies  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from bench_forecast import EVAL_FROM, EVAL_TO, HISTORY_FROM, HORIZON, history_args  # noqa: E402

#: (first hour, last hour) observed, then the peak of the rest of the day is forecast
WINDOWS = ((5.0, 7.0), (6.0, 7.25), (9.0, 12.0), (12.0, 17.0))
PER_HOUR = 3600 // BASE_STEP_S


def curves(name: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(forecast users, observed users) per 5-minute slot of every ordinary class day of every plaque."""
    calendar, policies = SchoolCalendar.load(), load_policies()
    plaques = list(policies.topology.plaques)
    syn = generator(name)(calendar, plaques, HISTORY_FROM, EVAL_TO, SynthOptions(seed=seed, metrics=("sessions",)))
    prepared = prepare(calendar, plaques, syn.history(), HISTORY_FROM, EVAL_TO)
    rates_for = rolling_rates(prepared.frame, prepared.curves, default_rates(), BacktestOptions(horizon_days=HORIZON))
    out = []
    day = EVAL_FROM
    while day <= EVAL_TO:
        d = prepared.frame.index(day)
        rates = rates_for(day)
        for p in plaques:
            pd = prepared.frame.plaques[p.id]
            if not pd.class_day[d] or pd.event[d]:
                continue
            observed = prepared.curves[p.id][:, d].sum(axis=0)
            forecast = forecast_day(rates[p.id], p, day, segment_infos(calendar, p, day), BASE_STEP_S).users
            if forecast.size == observed.size and np.isfinite(observed).mean() > 0.9:
                out.append((forecast, observed))
        day += timedelta(days=1)
    return out


def measure(rows: list[tuple[np.ndarray, np.ndarray]], first_h: float, last_h: float) -> tuple[float, float, float]:
    """(correlation, MAPE of the later peak before, after scaling by the window's fitted ratio)."""
    a, b = int(first_h * PER_HOUR), int(last_h * PER_HOUR)
    x, y = [], []
    for forecast, observed in rows:
        ratio = np.nansum(observed[a:b]) / forecast[a:b].sum()
        later = float(np.nanmax(observed[b:])) / float(forecast[b:].max())
        if np.isfinite(ratio) and ratio > 0 and np.isfinite(later) and later > 0:
            x.append(np.log(ratio))
            y.append(np.log(later))
    xs, ys = np.array(x), np.array(y)
    slope = float(np.polyfit(xs, ys, 1)[0])
    corrected = ys - slope * (xs - np.median(xs))
    before = 100 * float(np.mean(np.abs(np.expm1(ys))))
    after = 100 * float(np.mean(np.abs(np.expm1(corrected))))
    return float(np.corrcoef(xs, ys)[0, 1]), before, after


def main() -> None:
    args = history_args(__doc__)
    print(f"ordinary class days {EVAL_FROM} to {EVAL_TO}, forecast {HORIZON} days ahead, seed {args.seed}")
    print(f"{'history':<12} {'observed':>11} {'then':>9} {'corr':>6} {'MAPE of that peak':>21} {'plaque-days':>11}")
    for name in args.generator:
        rows = curves(name, args.seed)
        for first_h, last_h in WINDOWS:
            corr, before, after = measure(rows, first_h, last_h)
            window = f"{first_h:05.2f}-{last_h:05.2f}h".replace(".25", ":15").replace(".00", "")
            print(
                f"{name:<12} {window:>11} {'the rest':>9} {corr:>+6.2f} {before:>8.1f} % -> {after:4.1f} % "
                f"{len(rows):>11}"
            )


if __name__ == "__main__":
    main()
