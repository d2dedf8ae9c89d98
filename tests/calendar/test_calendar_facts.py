"""Day states straight from calendar-facts.md, including the rows public holiday data gets wrong."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.calendar import DayState, Level, Place, SchoolCalendar, load_events
from capacity.common.errors import ConfigError, InputError

P, H, D = DayState.PRESENTIEL, DayState.HYBRIDE, DayState.DISTANCIEL
V, F, W = DayState.VACANCES, DayState.FERIE, DayState.WEEKEND
E, C, L = Level.ECOLE, Level.COLLEGE, Level.LYCEE


def z(zone: str) -> Place:
    return Place(zone=zone)


def dep(code: str) -> Place:
    return Place(departement=code)


CASES = [
    # (date, place, level, state, rentree) — calendar-facts.md section in the comment
    ("2019-09-02", z("A"), C, P, True),  # §1.3 rentrée 2019
    ("2019-10-21", z("B"), L, V, False),  # §1.3 Toussaint 2019
    ("2019-11-04", z("C"), E, P, True),  # §1.3 return from Toussaint
    ("2019-11-11", z("A"), C, F, False),  # §7 Armistice
    ("2020-02-24", z("A"), C, V, False),  # §1.3 hiver A 2020
    ("2020-02-24", z("C"), C, P, True),  # §1.3 hiver C ends 24 Feb
    ("2020-03-13", z("B"), L, P, False),  # §2.1 last day in class
    ("2020-03-16", z("B"), C, D, False),  # §2.1 national closure
    ("2020-04-13", z("C"), L, F, False),  # §7 Easter Monday in lockdown
    ("2020-04-14", z("A"), C, D, False),  # spring A 2020 starts 18 Apr: still distance
    ("2020-04-20", z("A"), C, V, False),  # §1.3 printemps A 2020 (zone dates kept)
    ("2020-05-12", z("B"), E, H, False),  # §2.1 écoles reopen, voluntary
    ("2020-05-12", z("B"), C, D, False),  # §2.1 collèges still shut
    ("2020-05-22", z("A"), C, V, False),  # §2.1 Ascension bridge 2020
    ("2020-06-02", z("C"), L, H, False),  # §2.1 phase 2: lycées reopen partially
    ("2020-06-22", z("A"), C, P, False),  # §2.1 attendance compulsory again
    ("2020-09-01", z("B"), L, P, True),  # §1.3 rentrée 2020
    ("2020-11-02", z("A"), C, P, True),  # §2.2 rentrée after Toussaint, schools open
    ("2020-11-10", z("B"), L, H, False),  # §2.2 lycées demi-jauge
    ("2020-11-10", z("B"), C, P, False),  # §2.2 no half gauge for collèges
    ("2021-01-12", z("C"), L, H, False),  # §2.2 69 % of lycées in half gauge
    ("2021-02-22", z("A"), C, P, True),  # §1.3 hiver A 2021 return
    ("2021-02-22", z("B"), C, V, False),  # §1.3 hiver B 2021
    ("2021-04-02", dep("57"), C, F, False),  # §7 Good Friday in Moselle
    ("2021-04-02", dep("54"), C, P, False),  # §7 but a class day in Meurthe-et-Moselle
    ("2021-04-05", z("A"), E, F, False),  # §7 Easter Monday
    ("2021-04-06", z("A"), E, D, False),  # §2.3 distance learning for all
    ("2021-04-06", z("C"), L, D, False),
    ("2021-04-13", z("B"), C, V, False),  # §2.4 unified spring holidays (old data: class)
    ("2021-04-20", z("C"), L, V, False),  # §2.4 unified (vacances-scolaires-france says class in C? B)
    ("2021-04-22", z("B"), L, V, False),  # §2.4 B 19–23 Apr wrong in old data
    ("2021-04-26", z("A"), E, P, True),  # §2.3 écoles back in class
    ("2021-04-26", z("B"), C, D, True),  # §2.3 collèges at a distance (old data: holidays)
    ("2021-04-26", z("C"), L, D, True),  # §2.3 lycées at a distance
    ("2021-04-30", z("B"), L, D, False),
    ("2021-05-03", dep("54"), C, P, False),  # §2.3 collèges back in full class outside the 15 départements
    ("2021-05-03", dep("59"), C, H, False),  # §2.3 4e/3e half gauge in Nord
    ("2021-05-10", dep("69"), C, H, False),  # Rhône is one of the 15
    ("2021-05-03", z("B"), L, H, False),  # §2.3 lycées demi-jauge everywhere (old data: holidays in B)
    ("2021-05-14", z("A"), C, V, False),  # §1.3 Ascension bridge 2021
    ("2021-05-14", z("B"), L, V, False),  # the lycée demi-jauge must not turn the bridge into a class day
    ("2021-05-14", dep("59"), C, V, False),  # nor the 4e/3e demi-jauge
    ("2021-05-17", z("B"), C, P, True),  # §2.4 Mon 17 May is a class day (old data: bridge)
    ("2021-05-24", z("C"), C, F, False),  # §7 Whit Monday
    ("2021-05-31", dep("59"), C, P, False),  # §2.3 4e/3e back to full class
    ("2021-07-06", z("A"), C, P, False),  # §3 last class day (after class Tue 6 Jul)
    ("2021-07-07", z("A"), C, V, False),
    ("2021-09-01", z("B"), L, V, False),  # §3 teachers' prérentrée, not pupils
    ("2021-09-02", z("B"), L, P, True),  # §1.3 rentrée Thu 2 Sep 2021
    ("2021-11-12", z("C"), C, P, False),  # §7 no bridge after Armistice 2021
    ("2022-04-18", z("C"), L, F, False),  # §7 Easter Monday 2022, class week otherwise in C
    ("2022-05-27", z("B"), E, V, False),  # §7 Ascension bridge 2022
    ("2022-07-07", z("C"), C, P, False),  # §3 last class day 2022
    ("2022-07-08", z("C"), C, V, False),
]


@pytest.mark.parametrize(("day", "place", "level", "state", "rentree"), CASES)
def test_day_state_matches_the_facts(cal, day, place, level, state, rentree):
    info = cal.day(date.fromisoformat(day), place, level)
    assert info.state is state, info.because
    assert info.rentree is rentree
    assert info.because


def test_first_distance_days_are_flagged_as_bascule(cal):
    assert cal.day(date(2020, 3, 16), z("B"), C).bascule
    assert cal.day(date(2021, 4, 6), z("A"), E).bascule
    assert not cal.day(date(2021, 4, 7), z("A"), E).bascule
    assert cal.day(date(2021, 5, 3), z("B"), L).bascule  # distanciel → hybride


def test_events_name_what_decided(cal):
    info = cal.day(date(2021, 4, 26), z("B"), C)
    assert any("26 avril" in b for b in info.because)
    assert cal.day(date(2021, 4, 5), z("A"), E).because == ("Lundi de Pâques",)


def test_dates_outside_the_data_are_refused_with_the_range(cal):
    with pytest.raises(InputError, match="supported range 2018-09-01 to 2028-08-31"):
        cal.day(date(2017, 6, 1), z("A"), E)


def test_unknown_places_get_a_suggestion(cal):
    with pytest.raises(InputError, match=r"did you mean .nancy-metz.\?"):
        cal.day(date(2021, 4, 6), Place(academie="nancy-mets"), E)
    with pytest.raises(InputError, match="own school calendar"):
        cal.day(date(2021, 4, 6), Place(departement="2A"), E)


def test_caen_and_rouen_resolve_to_normandie(cal):
    a = cal.day(date(2021, 4, 26), Place(academie="Caen"), C)
    b = cal.day(date(2021, 4, 26), Place(academie="rouen"), C)
    assert a == b


DATES = st.dates(min_value=date(2018, 9, 1), max_value=date(2028, 8, 31))
PLACES = st.sampled_from([z("A"), z("B"), z("C"), dep("57"), dep("59"), dep("31"), Place(academie="lyon")])
LEVELS = st.sampled_from(list(Level))


@settings(max_examples=300, deadline=None)
@given(d=DATES, place=PLACES, level=LEVELS)
def test_exactly_one_state_and_consistent_flags(cal, d, place, level):
    info = cal.day(d, place, level)
    assert isinstance(info.state, DayState)
    assert (d.weekday() >= 5) == (info.state is DayState.WEEKEND)
    if not info.has_class:
        assert not info.rentree and not info.bascule
    if info.rentree:
        gap, probe = 0, d - timedelta(days=1)
        first = cal.supported_range[0]
        while probe >= first and not cal.day(probe, place, level).has_class:
            gap += probe.weekday() < 5
            probe -= timedelta(days=1)
        assert gap >= 2 or probe < first  # the first rentrée of the data has no class day before it


def write_events(tmp_path, body: str):
    path = tmp_path / "local.yaml"
    path.write_text(body)
    return path


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(2021, 1, 4), max_value=date(2021, 12, 1)),
    length=st.integers(min_value=0, max_value=20),
    dept=st.sampled_from(["54", "57", "31", "69"]),
    level=LEVELS,
    probe_dept=st.sampled_from(["54", "57", "31", "69"]),
    probe_level=LEVELS,
    offset=st.integers(min_value=-5, max_value=25),
)
def test_an_overlay_never_leaks_outside_its_scope(
    tmp_path_factory, start, length, dept, level, probe_dept, probe_level, offset
):
    end = start + timedelta(days=length)
    path = tmp_path_factory.mktemp("ev") / "local.yaml"
    path.write_text(
        f"events:\n  - id: local\n    name: Fermeture locale\n    from: {start}\n    to: {end}\n"
        f"    state: distanciel\n    scope: {{departements: ['{dept}'], levels: [{level.value}]}}\n"
    )
    base = SchoolCalendar.load()
    local = SchoolCalendar.load([path])
    d = start + timedelta(days=offset)
    got = local.day(d, dep(probe_dept), probe_level)
    ref = base.day(d, dep(probe_dept), probe_level)
    inside = start <= d <= end and probe_dept == dept and probe_level is level
    if not inside:
        assert got.state is ref.state
    elif ref.has_class:
        assert got.state is DayState.DISTANCIEL
        assert got.because[-1] == "Fermeture locale"
    else:
        assert got.state is ref.state  # weekends, holidays, public holidays are not turned into class days


def test_later_files_win(tmp_path):
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text("events:\n  - {id: a, name: A, from: 2021-03-15, to: 2021-03-19, state: distanciel}\n")
    second.write_text("events:\n  - {id: b, name: B, from: 2021-03-17, to: 2021-03-17, state: hybride}\n")
    cal = SchoolCalendar.load([first, second])
    assert cal.day(date(2021, 3, 16), z("A"), E).state is DayState.DISTANCIEL
    assert cal.day(date(2021, 3, 17), z("A"), E).state is DayState.HYBRIDE


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        (
            "events:\n  - id: x\n    name: X\n    from: 2021-13-01\n    to: 2021-04-01\n    state: distanciel\n",
            4,
            "2021-13-01",
        ),
        (
            "events:\n  - id: x\n    name: X\n    from: 2021-04-01\n    to: 2021-04-02\n    state: confine\n",
            6,
            "unknown state",
        ),
        (
            "events:\n  - id: x\n    name: X\n    from: 2021-04-05\n    to: 2021-04-01\n    state: vacances\n",
            5,
            "before",
        ),
        (
            "events:\n  - id: x\n    name: X\n    from: 2021-04-01\n    to: 2021-04-02\n    state: vacances\n"
            "    scope: {levels: [creche]}\n",
            7,
            "unknown level",
        ),
        ("events:\n  - id: x\n    name: X\n    form: 2021-04-01\n", 4, "unknown field"),
        ("events: [\n", 2, "invalid YAML"),
    ],
)
def test_broken_event_files_name_file_and_line(tmp_path, body, line, needle):
    path = write_events(tmp_path, body)
    with pytest.raises(ConfigError, match=needle) as err:
        load_events([path])
    assert f"local.yaml:{line}:" in str(err.value)
