"""Speed of learning from Prometheus. One command:

    PYTHONPATH=. python bench/bench_fit.py [--in-memory-only]

Two school years (2019-09-02 to 2021-07-06) × the 5 shipped plaques at 5-minute resolution (sessions
for the whole window, requests and CPU for its last 28 days), made by `capctl synth`.
Targets (issue 3): fit under 10 s; a full-year backtest under 60 s.

Measured twice: in memory (arrays in, the fitter alone) and as a user runs it (`capctl fit` and
`capctl backtest` as processes against a real Prometheus on 127.0.0.1, HTTP and JSON included).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capacity.calendar import SchoolCalendar  # noqa: E402
from capacity.learning.backtest import run_backtest  # noqa: E402
from capacity.learning.pipeline import fit_model, prepare  # noqa: E402
from capacity.learning.synth import SynthOptions, generate  # noqa: E402
from capacity.planning.demand import default_rates  # noqa: E402
from capacity.policy.bundle import load_policies  # noqa: E402

FIRST, LAST = date(2019, 9, 2), date(2021, 7, 6)
YEAR_FROM = date(2020, 9, 1)
COMPONENTS_FROM = LAST - timedelta(days=27)


def timed(label: str, rows: list[tuple[str, float, str]], target: str = ""):  # type: ignore[no-untyped-def]
    class Timer:
        def __enter__(self) -> None:
            self.t = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            rows.append((label, time.perf_counter() - self.t, target))

    return Timer()


def capctl(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "capacity", *args], capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    return res.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-memory-only", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []
    calendar, pol = SchoolCalendar.load(), load_policies()
    plaques = list(pol.topology.plaques)
    with timed("synth 2 school years x 5 plaques (in memory)", rows):
        syn = generate(calendar, plaques, FIRST, LAST, SynthOptions(components_from=COMPONENTS_FROM))
        history = syn.history()
    with timed("fit, in memory (prepare + rates + components)", rows, "< 10 s"):
        prepared = prepare(calendar, plaques, history, FIRST, LAST)
        fit_model(prepared, history, plaques, default_rates(), {})
    with timed("full-year backtest, in memory (2020-09-01 to 2021-07-06)", rows, "< 60 s"):
        run_backtest(prepared.frame, prepared.curves, default_rates(), YEAR_FROM, LAST)
    samples = sum(v.size for v in history.sessions.values())
    if not args.in_memory_only:
        from tests.support.prometheus import PrometheusServer, backfill

        with tempfile.TemporaryDirectory() as tmp:
            om = Path(tmp) / "history.om"
            with timed("capctl synth (write OpenMetrics)", rows):
                capctl("synth", "--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--components-from",
                       COMPONENTS_FROM.isoformat(), "--out", str(om))  # fmt: skip
            with timed("promtool backfill", rows):
                backfill(om, Path(tmp) / "tsdb")
            with PrometheusServer(Path(tmp) / "tsdb") as server:
                url = server.url
                with timed("capctl fit, process, through Prometheus", rows, "< 10 s"):
                    capctl("fit", "--prometheus-url", url, "--from", FIRST.isoformat(), "--to", LAST.isoformat(),
                           "--out", str(Path(tmp) / "model.json"), "--prometheus-timeout", "120s")  # fmt: skip
                with timed("capctl backtest full year, process, through Prometheus", rows, "< 60 s"):
                    capctl("backtest", "--prometheus-url", url, "--from", YEAR_FROM.isoformat(), "--to",
                           LAST.isoformat(), "--output", "json", "--prometheus-timeout", "120s")  # fmt: skip
    print(f"{FIRST} to {LAST}, {len(plaques)} plaques, 5-min: {samples:,} session samples (+ components, 28 days)")
    print(f"{'step':<58} {'seconds':>8}  target")
    for label, seconds, target in rows:
        print(f"{label:<58} {seconds:>8.1f}  {target}")


if __name__ == "__main__":
    main()
