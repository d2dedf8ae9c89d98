"""Benchmark the mandate side: validating the shipped policies (cold process), explaining a day, and a
month planned with budgets and quotas (what `plan_day` computes once per month to apply budgets).

Run: `python bench/bench_mandates.py` (prints a table; median of 5).
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


def cold(*args: str, n: int = 5) -> float:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "capacity", *args], cwd=REPO, check=False, capture_output=True)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def month(step_s: int, n: int = 5) -> float:
    from capacity.calendar import SchoolCalendar
    from capacity.planning.budget import plan_month
    from capacity.planning.demand import default_rates
    from capacity.policy.bundle import load_policies

    policies, calendar, rates = load_policies(), SchoolCalendar.load(), default_rates()
    plan_month(date(2021, 3, 1), step_s, policies, calendar, rates)  # warm the calendar's base layers
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        plan_month(date(2021, 4, 1), step_s, policies, calendar, rates)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    rows = [
        ("capctl policy validate (25 files), cold process", cold("policy", "validate")),
        (
            "capctl policy explain, one mandate and day, cold process",
            cold("policy", "explain", "--collectivite", "departement-76", "--date", "2021-04-06"),
        ),
        ("plan_month April 2021, 5 plaques, hourly, budgets + quotas", month(3600)),
        ("plan_month April 2021, 5 plaques, 5-minute slots", month(300)),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  measured")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:>6.2f} s")


if __name__ == "__main__":
    main()
