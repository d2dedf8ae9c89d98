"""Overlay event files: what an operator writes, how it combines, and how a mistake is reported."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from capacity.calendar import (
    DayState,
    Level,
    Place,
    SchoolCalendar,
    load_events,
    make_event,
    shipped_event_files,
)
from capacity.common.errors import ConfigError

GOOD = """\
events:
  - id: greve-57
    name: "Fermeture locale"
    from: 2021-03-15
    to: 2021-03-19
    state: distanciel
    scope:
      departements: [57]
      levels: [college]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_files_load_and_every_event_has_a_source() -> None:
    files = shipped_event_files()
    assert [f.name for f in files] == ["2019-2020.yaml", "2020-2021.yaml", "2021-2022.yaml"]
    events = load_events(files)
    assert events
    for e in events:
        assert e.source, e.id
        assert e.confidence in {"H", "M-H", "M", "L-M", "L", "UNCONFIRMED"}, e.id


def test_an_operator_file_applies_only_where_scoped(tmp_path: Path) -> None:
    cal = SchoolCalendar.load([write(tmp_path, "local.yaml", GOOD)])
    monday = date(2021, 3, 15)
    moselle = cal.day(monday, Place(departement="57"), Level.COLLEGE)
    assert moselle.state is DayState.DISTANCIEL
    assert moselle.bascule
    assert moselle.because == ("Fermeture locale",)
    assert cal.day(monday, Place(departement="57"), Level.ECOLE).state is DayState.PRESENTIEL
    assert cal.day(monday, Place(departement="54"), Level.COLLEGE).state is DayState.PRESENTIEL
    # Only part of the académie is concerned, so the académie as a whole is not.
    assert cal.day(monday, Place(academie="nancy-metz"), Level.COLLEGE).state is DayState.PRESENTIEL
    # A folder works like the list of its *.yaml files.
    assert SchoolCalendar.load([tmp_path]).day(monday, Place(departement="57"), Level.COLLEGE).state is (
        DayState.DISTANCIEL
    )


def test_default_replaces_never_turns_days_off_into_class_days(tmp_path: Path) -> None:
    text = GOOD.replace("2021-03-15", "2021-04-01").replace("2021-03-19", "2021-04-30")
    cal = SchoolCalendar.load([write(tmp_path, "x.yaml", text)])
    moselle = Place(departement="57")
    assert cal.day(date(2021, 4, 2), moselle, Level.COLLEGE).state is DayState.FERIE  # Good Friday
    assert cal.day(date(2021, 4, 3), moselle, Level.COLLEGE).state is DayState.WEEKEND
    assert cal.day(date(2021, 4, 14), moselle, Level.COLLEGE).state is DayState.VACANCES
    assert cal.day(date(2021, 4, 1), moselle, Level.COLLEGE).state is DayState.DISTANCIEL


def test_a_data_fix_replaces_what_it_says(tmp_path: Path) -> None:
    fix = """\
    events:
      - id: rattrapage
        name: "Classe pendant les vacances (correction)"
        from: 2021-04-12
        to: 2021-04-18
        state: presentiel
        replaces: [vacances]
        weekdays: [lundi, mardi]
      - id: samedi-travaille
        name: "Samedi travaillé"
        from: 2021-03-20
        to: 2021-03-20
        state: presentiel
        replaces: all
    """
    cal = SchoolCalendar.load([write(tmp_path, "fix.yaml", fix)])
    zone = Place(zone="A")
    assert cal.day(date(2021, 4, 12), zone, Level.ECOLE).state is DayState.PRESENTIEL  # Monday
    assert cal.day(date(2021, 4, 13), zone, Level.ECOLE).state is DayState.PRESENTIEL  # Tuesday
    assert cal.day(date(2021, 4, 14), zone, Level.ECOLE).state is DayState.VACANCES  # not listed
    assert cal.day(date(2021, 4, 18), zone, Level.ECOLE).state is DayState.WEEKEND  # not `vacances`
    assert cal.day(date(2021, 3, 20), zone, Level.ECOLE).state is DayState.PRESENTIEL  # Saturday


def test_later_files_win_and_a_redefined_id_replaces_the_shipped_event(tmp_path: Path) -> None:
    # Operator: lycées were back in full class from 7 June 2021 (shipped file: hybride to summer).
    override = """\
    events:
      - id: lycees-demi-jauge-mai-2021
        name: "Lycées en demi-jauge jusqu'au 4 juin"
        from: 2021-05-03
        to: 2021-06-04
        state: hybride
        scope: {levels: [lycee]}
    """
    shipped = SchoolCalendar.load()
    cal = SchoolCalendar.load([write(tmp_path, "ops.yaml", override)])
    lycee, zone = Level.LYCEE, Place(zone="B")
    assert shipped.day(date(2021, 6, 7), zone, lycee).state is DayState.HYBRIDE
    after = cal.day(date(2021, 6, 7), zone, lycee)
    assert after.state is DayState.PRESENTIEL
    assert after.bascule
    assert cal.day(date(2021, 6, 4), zone, lycee).because == ("Lycées en demi-jauge jusqu'au 4 juin",)
    assert len(cal.events) == len(shipped.events)


def test_later_events_win_in_code_too() -> None:
    first = make_event("a", "A", date(2021, 3, 1), date(2021, 3, 31), "distanciel")
    second = make_event("b", "B", date(2021, 3, 15), date(2021, 3, 19), "hybride", zones=["B"])
    cal = SchoolCalendar.from_events([first, second])
    assert cal.day(date(2021, 3, 16), Place(zone="B"), Level.LYCEE).state is DayState.HYBRIDE
    assert cal.day(date(2021, 3, 16), Place(zone="A"), Level.LYCEE).state is DayState.DISTANCIEL
    swapped = SchoolCalendar.from_events([second, first])
    assert swapped.day(date(2021, 3, 16), Place(zone="B"), Level.LYCEE).state is DayState.DISTANCIEL


BAD: list[tuple[str, str, int | None, str]] = [
    # (name, YAML, line of the error, text the message must contain)
    ("unknown field", GOOD.replace("    to:", "    too:"), 5, "events[0] (greve-57).too: unknown field"),
    ("bad date", GOOD.replace("2021-03-19", "2021-13-01"), 5, ".to: expected a date YYYY-MM-DD"),
    ("reversed dates", GOOD.replace("2021-03-19", "2021-03-01"), 5, "is before `from`"),
    ("unknown state", GOOD.replace("distanciel", "hybrid"), 6, ".state: unknown state 'hybrid'"),
    ("weekend state", GOOD.replace("distanciel", "weekend"), 6, "cannot be set by an event"),
    ("unknown level", GOOD.replace("[college]", "[college, primaire]"), 9, "levels[1]: unknown level"),
    ("unknown dept", GOOD.replace("[57]", "[57, 99]"), 8, "departements[1]: unknown département"),
    ("corse", GOOD.replace("[57]", "[2A]"), 8, "Corse-du-Sud"),
    (
        "unknown académie",
        GOOD.replace("departements: [57]", "academies: [Nancy]"),
        8,
        "did you mean 'nancy-metz'",
    ),
    ("unknown scope key", GOOD.replace("departements:", "departments:"), 8, "scope.departments: unknown"),
    ("missing name", GOOD.replace('    name: "Fermeture locale"\n', ""), 2, "missing field `name`"),
    ("bad id", GOOD.replace("greve-57", "Grève 57"), 2, ".id: use lower-case"),
    ("duplicate id", GOOD + GOOD.split("\n", 1)[1], 10, "id 'greve-57' already used on line 2"),
    ("state list", GOOD.replace("state: distanciel", "state: [distanciel, hybride]"), 6, "exactly one"),
    ("empty replaces", GOOD + "    replaces: []\n", 10, "would never apply"),
    ("bad weekday", GOOD + "    weekdays: [funday]\n", 10, "unknown weekday"),
    ("bad confidence", GOOD + "    confidence: sure\n", 10, "confidence: use one of"),
    ("events not a list", "events:\n  id: x\n", 2, "expected a list of events"),
    ("no events key", "evenements: []\n", 1, "unknown field"),
    ("broken YAML", GOOD.replace("[college]", "[college"), 10, "invalid YAML"),
    (
        "python tag",
        GOOD.replace('"Fermeture locale"', "!!python/object/apply:os.system [ls]"),
        3,
        "not allowed",
    ),
    ("empty file", "# nothing\n", None, "empty file"),
]


@pytest.mark.parametrize(("text", "line", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_event_files_name_file_line_and_field(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        SchoolCalendar.load([path])
    err = caught.value
    assert err.path == str(path)
    assert err.line == line
    assert message in str(err)
    assert str(err).startswith(f"{path}:{line}:" if line else f"{path}: ")


def test_missing_event_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="event file not found"):
        SchoolCalendar.load([tmp_path / "absent.yaml"])


def test_unquoted_departement_codes_are_read_as_codes(tmp_path: Path) -> None:
    """YAML reads 07 as the number 7: it must still mean Ardèche, not fail or mean '7'."""
    text = GOOD.replace("[57]", "[07, 2A]").replace(", 2A", "")
    (event,) = load_events([write(tmp_path, "x.yaml", text)])
    assert event.departements == frozenset({"07"})
    assert event.origin == f"{tmp_path / 'x.yaml'}:2"
