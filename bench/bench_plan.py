"""Benchmark: `capctl plan --date 2021-04-26` cold as a whole process, and a school year planned in-process.

Targets (issue 2): cold process under 1 s; every day of a school year for all shipped plaques under 2 s.
Run: `python bench/bench_plan.py` (prints a table).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def cold_runs(n: int = 5) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "capacity", "plan", "--date", "2021-04-26"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        out.append(time.perf_counter() - t0)
    return out


def school_year() -> tuple[float, int]:
    from capacity.calendar import SchoolCalendar
    from capacity.planning.demand import default_rates
    from capacity.planning.plans import plan_range
    from capacity.policy.bundle import load_policies

    policies, calendar, rates = load_policies(), SchoolCalendar.load(), default_rates()
    t0 = time.perf_counter()
    days = sum(1 for _ in plan_range(date(2020, 9, 1), date(2021, 7, 6), 3600, policies, calendar, rates))
    return time.perf_counter() - t0, days


def main() -> None:
    runs = cold_runs()
    year_s, days = school_year()
    rows = [
        ("plan --date 2021-04-26, cold process (median of 5)", f"{statistics.median(runs):.2f} s", "< 1 s"),
        (f"school year 2020-21 ({days} days x 5 plaques), in-process", f"{year_s:.2f} s", "< 2 s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>9}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>9}  {target}")


if __name__ == "__main__":
    main()
