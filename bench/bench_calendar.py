"""Benchmark of the school calendar: cold and warm timings, printed as a table.

Run: PYTHONPATH=. python bench/bench_calendar.py

The planning workload is the one the planner generates for a school year: every day for the 44
départements of the Kosmos plaques (Grand Est, Occitanie, Auvergne-Rhône-Alpes, Bourgogne-Franche-Comté,
Seine-Maritime) × 3 levels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from capacity.calendar import Level, Place, SchoolCalendar, departements_of_academie
from capacity.calendar.base import base_layer, clear_caches

YEAR = (date(2020, 9, 1), date(2021, 8, 31))
ACADEMIES = [
    "nancy-metz", "reims", "strasbourg", "toulouse", "montpellier", "clermont-ferrand", "grenoble", "lyon",
    "besancon", "dijon",
]  # fmt: skip
DEPARTEMENTS = [d for a in ACADEMIES for d in departements_of_academie(a)] + ["76"]


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> None:
    rows: list[tuple[str, float]] = []
    clear_caches()
    cal: SchoolCalendar = SchoolCalendar.load()
    rows.append(("load(): parse the 3 shipped event files", timed(SchoolCalendar.load, 5)))
    rows.append(("base layer of one zone (holidays objects), cold", timed(lambda: base_layer("B", None))))
    rows.append(("base layer, same zone, Moselle public holidays, cold", timed(lambda: base_layer("B", "57"))))
    place, level = Place(departement="57"), Level.COLLEGE
    rows.append(("days() one year, one place/level, cold", timed(lambda: cal.days(*YEAR, place, level))))
    rows.append(("days() one year, one place/level, warm", timed(lambda: cal.days(*YEAR, place, level), 50)))
    rows.append(("day() one date, warm", timed(lambda: cal.day(date(2021, 4, 6), place, level), 1000)))
    rows.append(("day_arrays() one year, warm", timed(lambda: cal.day_arrays(*YEAR, place, level), 1000)))

    def plan_year(c: SchoolCalendar) -> None:
        for dept in DEPARTEMENTS:
            for lv in Level:
                c.days(*YEAR, Place(departement=dept), lv)

    fresh = SchoolCalendar.load()
    rows.append((f"school year × {len(DEPARTEMENTS)} départements × 3 levels, cold", timed(lambda: plan_year(fresh))))
    rows.append(
        (
            f"school year × {len(DEPARTEMENTS)} départements × 3 levels, warm",
            timed(lambda: plan_year(fresh), 5),
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"{'calendar benchmark':<{width}}  {'ms':>9}")
    print("-" * (width + 11))
    for label, ms in rows:
        print(f"{label:<{width}}  {ms:>9.3f}")


if __name__ == "__main__":
    main()
