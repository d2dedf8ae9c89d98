"""Day states straight from calendar-facts.md, including the rows public holiday data gets wrong.

Each case: (date, place, level, state, rentree, bascule). The § in the comment is the section of
calendar-facts.md the row comes from. `None` for a flag means "not asserted".
"""

from __future__ import annotations

from datetime import date

import pytest

from capacity.calendar import DayState, Level, Place, SchoolCalendar

P, H, D = DayState.PRESENTIEL, DayState.HYBRIDE, DayState.DISTANCIEL
V, F, W = DayState.VACANCES, DayState.FERIE, DayState.WEEKEND
E, C, L = Level.ECOLE, Level.COLLEGE, Level.LYCEE
A, B, Z_C = Place(zone="A"), Place(zone="B"), Place(zone="C")


def dep(code: str) -> Place:
    return Place(departement=code)


def aca(name: str) -> Place:
    return Place(academie=name)


CASES: list[tuple[str, Place, Level, DayState, bool | None, bool | None]] = [
    # --- 2019-2020 ------------------------------------------------------------------------------
    ("2019-09-02", A, C, P, True, False),  # §1.3 rentrée Mon 2 Sep 2019
    ("2019-11-04", Z_C, E, P, True, False),  # §1.3 return from Toussaint
    ("2019-11-11", Z_C, E, F, False, False),  # §7 Armistice
    ("2020-02-24", A, C, V, False, False),  # §1.3 hiver A 22 Feb → 9 Mar
    ("2020-02-24", Z_C, C, P, True, False),  # §1.3 hiver C ends, return Mon 24 Feb
    ("2020-03-13", B, L, P, False, False),  # §2.1 last day in class
    ("2020-03-16", B, C, D, False, True),  # §2.1 national closure: first distance day
    ("2020-03-16", dep("57"), E, D, False, True),
    ("2020-04-13", Z_C, L, F, False, False),  # §7 Easter Monday during the lockdown
    ("2020-04-14", A, C, D, False, False),  # A's spring holidays only start 18 Apr
    ("2020-04-20", A, C, V, False, False),  # §1.3 spring 2020 kept its zone dates
    ("2020-04-20", Z_C, C, D, True, False),  # C back from holidays, still at a distance
    ("2020-05-11", B, E, H, False, True),  # §2.1 écoles reopen on a voluntary basis (8 May: ferie)
    ("2020-05-12", B, E, H, False, False),
    ("2020-05-12", B, C, D, False, False),  # §2.1 collèges still shut
    ("2020-05-19", dep("33"), C, H, False, False),  # §2.1 6e/5e back in green départements (18 May)
    ("2020-05-22", A, C, V, False, False),  # §1.3 Ascension bridge 2020
    ("2020-06-01", Z_C, C, F, False, False),  # §2.1 Whit Monday
    ("2020-06-02", dep("31"), L, H, False, True),  # §2.1 phase 2: lycées reopen (green zone)
    ("2020-06-02", dep("75"), L, D, False, False),  # §2.1 orange zone: lycées by appointment
    ("2020-06-15", dep("93"), L, H, False, True),  # §2.1 Île-de-France green from 15 Jun
    ("2020-06-22", A, C, P, False, True),  # §2.1 attendance compulsory again
    ("2020-06-22", A, L, H, False, False),  # §2.1 ... but not for lycées
    ("2020-07-06", B, E, V, False, False),  # §1.3 summer from Sat 4 Jul 2020
    # --- 2020-2021 ------------------------------------------------------------------------------
    ("2020-09-01", B, L, P, True, True),  # §1.3 rentrée Tue 1 Sep 2020 (lycées were hybride in June)
    ("2020-11-02", A, C, P, True, False),  # §2.2 schools stay open in the 2nd lockdown
    ("2020-11-10", B, L, H, False, False),  # §2.2 lycées demi-jauge from the week of 9 Nov
    ("2020-11-10", B, C, P, False, False),  # §2.2 no half gauge for collèges
    ("2020-11-11", B, L, F, False, False),  # §7 Armistice
    ("2021-01-12", Z_C, L, H, False, False),  # §2.2 69 % of public lycées in half gauge, Jan 2021
    ("2021-02-22", A, C, P, True, False),  # §1.3 hiver A 2021 return
    ("2021-02-22", B, C, V, False, False),  # §1.3 hiver B 2021
    ("2021-04-01", dep("67"), C, P, False, False),  # §7 last class day in Alsace before the closure
    ("2021-04-02", dep("57"), C, F, False, False),  # §7 Good Friday in Moselle
    ("2021-04-02", dep("67"), L, F, False, False),  # ... Bas-Rhin
    ("2021-04-02", dep("68"), E, F, False, False),  # ... Haut-Rhin
    ("2021-04-02", aca("strasbourg"), C, F, False, False),  # the whole académie is Alsace
    ("2021-04-02", dep("54"), C, P, False, False),  # ... but a class day in Meurthe-et-Moselle
    ("2021-04-02", aca("nancy-metz"), C, P, False, False),  # only 57 of Nancy-Metz has it
    ("2021-04-05", A, E, F, False, False),  # §7 Easter Monday
    ("2021-04-06", A, E, D, False, True),  # §2.3 distance learning for every level
    ("2021-04-06", B, C, D, False, True),
    ("2021-04-06", Z_C, L, D, False, True),  # lycées: from hybride to distanciel
    # In Moselle, Good Friday + Easter Monday make two weekdays without class: a rentrée as well.
    ("2021-04-06", dep("57"), C, D, True, True),
    ("2021-04-12", B, C, V, False, False),  # §2.4 unified spring holidays (old data: class)
    ("2021-04-16", Z_C, E, V, False, False),  # §2.4 C 12–16 Apr (old data: class)
    ("2021-04-19", B, L, V, False, False),  # §2.4 B 19–23 Apr (old data: class)
    ("2021-04-23", B, E, V, False, False),
    ("2021-04-26", B, E, P, True, True),  # §2.3 écoles back in class (distance before the break)
    ("2021-04-26", B, C, D, True, False),  # §2.3 collèges at a distance (old data: holidays)
    ("2021-04-28", Z_C, C, D, False, False),  # §2.4 C 26–30 Apr (old data: holidays)
    ("2021-04-30", B, L, D, False, False),
    ("2021-05-03", B, L, H, False, True),  # §2.3 lycées demi-jauge everywhere
    ("2021-05-03", dep("54"), C, P, False, True),  # §2.3 collèges back in full class outside the 15
    ("2021-05-03", dep("59"), C, H, False, True),  # §2.3 4e/3e demi-jauge in Nord
    ("2021-05-05", B, C, P, False, False),  # §2.4 3–7 May is class in zone B (old data: holidays)
    ("2021-05-05", B, E, P, False, False),
    ("2021-05-10", dep("59"), C, H, False, False),  # Nord is one of the 15
    ("2021-05-10", dep("69"), C, H, False, False),  # Rhône is one of the 15
    ("2021-05-10", dep("54"), C, P, False, False),  # Meurthe-et-Moselle is not
    ("2021-05-10", aca("versailles"), C, H, False, False),  # all of Versailles' départements are in
    ("2021-05-10", aca("lille"), C, P, False, False),  # 62 is not, so the académie as a whole is not
    ("2021-05-14", A, C, V, False, False),  # §1.3 Ascension bridge 2021
    ("2021-05-14", B, L, V, False, False),  # the lycée demi-jauge does not eat the bridge
    ("2021-05-17", B, C, P, True, False),  # §2.4 Mon 17 May is a class day (old data: bridge)
    ("2021-05-24", Z_C, C, F, False, False),  # §7 Whit Monday
    ("2021-05-31", dep("59"), C, P, False, True),  # §2.3 4e/3e back to full class
    ("2021-07-06", A, C, P, False, False),  # §1.3 last class day, Tue 6 Jul 2021
    ("2021-07-06", A, L, H, False, False),  # lycées kept in demi-jauge to the end (L)
    ("2021-07-07", A, C, V, False, False),  # §3 summer from Wed 7 Jul
    # --- 2021-2022 ------------------------------------------------------------------------------
    ("2021-09-01", B, L, V, False, False),  # §3 prérentrée for teachers only
    ("2021-09-02", B, L, P, True, True),  # §1.3 rentrée Thu 2 Sep 2021 (hybride before summer)
    ("2021-09-02", A, E, P, True, False),
    ("2021-11-08", Z_C, C, P, True, False),  # §1.3 return from Toussaint 2021
    ("2021-11-11", B, C, F, False, False),  # §7 Armistice
    ("2021-11-12", B, C, P, False, False),  # §7 no bridge on Fri 12 Nov
    ("2022-04-18", Z_C, C, F, False, False),  # §7 Easter Monday, a public holiday for C
    ("2022-04-18", A, C, F, False, False),  # ... inside A's holidays: ferie wins (documented rule)
    ("2022-04-19", A, C, V, False, False),  # §1.3 printemps A 16 Apr → 2 May 2022
    ("2022-04-22", B, C, V, False, False),  # §1.3 printemps B 9 → 25 Apr 2022
    ("2022-04-25", B, C, P, True, False),
    ("2022-05-27", B, C, V, False, False),  # §1.3 Ascension bridge 2022
    ("2022-05-30", B, C, P, True, False),
    ("2022-07-07", Z_C, L, P, False, False),  # §1.3 last class day Thu 7 Jul 2022
    ("2022-07-08", Z_C, L, V, False, False),
    ("2022-09-01", A, C, P, True, False),  # rentrée Thu 1 Sep 2022
]


@pytest.mark.parametrize(
    ("day", "place", "level", "state", "rentree", "bascule"),
    CASES,
    ids=[f"{c[0]}-{c[1].departement or c[1].academie or c[1].zone}-{c[2].value}" for c in CASES],
)
def test_day_state_matches_calendar_facts(
    cal: SchoolCalendar,
    day: str,
    place: Place,
    level: Level,
    state: DayState,
    rentree: bool | None,
    bascule: bool | None,
) -> None:
    info = cal.day(date.fromisoformat(day), place, level)
    assert info.state is state, info.because
    if rentree is not None:
        assert info.rentree is rentree
    if bascule is not None:
        assert info.bascule is bascule


@pytest.mark.parametrize("zone", ["A", "B", "C"])
@pytest.mark.parametrize("level", list(Level))
def test_26_april_2021_is_a_rentree_for_every_level_in_every_zone(cal: SchoolCalendar, zone: str, level: Level) -> None:
    info = cal.day(date(2021, 4, 26), Place(zone=zone), level)
    assert info.rentree
    assert info.state is (P if level is E else D)


@pytest.mark.parametrize("zone", ["A", "B", "C"])
@pytest.mark.parametrize("level", list(Level))
def test_6_april_2021_distance_learning_everywhere(cal: SchoolCalendar, zone: str, level: Level) -> None:
    info = cal.day(date(2021, 4, 6), Place(zone=zone), level)
    assert info.state is D
    assert info.bascule
    assert info.because == ("Confinement 3 : enseignement à distance",)


def test_because_names_what_decided(cal: SchoolCalendar) -> None:
    """Plain days get a plain word; holidays and events their own (French) names."""
    assert cal.day(date(2021, 3, 15), B, C).because == ("Jour de classe",)
    assert cal.day(date(2021, 3, 13), B, C).because == ("Week-end",)
    assert cal.day(date(2021, 4, 19), B, C).because == ("Vacances de printemps",)
    # A weekend inside holidays keeps both names, the decisive one last.
    assert cal.day(date(2021, 4, 17), B, C).because == ("Vacances de printemps", "Week-end")
    assert cal.day(date(2021, 4, 2), dep("57"), C).because == ("Vendredi saint",)
    # A public holiday inside school holidays is `ferie`, with the holiday name first.
    christmas = cal.day(date(2020, 12, 25), A, E)
    assert christmas.state is F
    assert christmas.because == ("Vacances de Noël", "Noël")
    lycee = cal.day(date(2021, 1, 12), Z_C, L)
    assert lycee.because == ("Lycées en demi-jauge (protocole sanitaire renforcé)",)


def test_wednesday_is_a_class_day(cal: SchoolCalendar) -> None:
    for level in Level:
        assert cal.day(date(2021, 3, 17), B, level).has_class
