"""The `holidays` base layer alone, against calendar-facts.md §1.3 and §3.

These are the checks the headers of capacity/calendar/events/*.yaml cite to say that no data fix is
needed. If a future `holidays` release changes one of these, this file says which, and an overlay
must then be added.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from capacity.calendar import DayState, Level, Place, SchoolCalendar
from capacity.common.errors import InputError

ALL = ("A", "B", "C")
# (name, zones, first date "after class", return date) — §1.3, classes resume in the morning.
PERIODS: list[tuple[str, tuple[str, ...], str, str]] = [
    ("été 2019", ALL, "2019-07-06", "2019-09-02"),
    ("Toussaint 2019", ALL, "2019-10-19", "2019-11-04"),
    ("Noël 2019", ALL, "2019-12-21", "2020-01-06"),
    ("hiver 2020", ("A",), "2020-02-22", "2020-03-09"),
    ("hiver 2020", ("B",), "2020-02-15", "2020-03-02"),
    ("hiver 2020", ("C",), "2020-02-08", "2020-02-24"),
    ("printemps 2020", ("A",), "2020-04-18", "2020-05-04"),
    ("printemps 2020", ("B",), "2020-04-11", "2020-04-27"),
    ("printemps 2020", ("C",), "2020-04-04", "2020-04-20"),
    ("Ascension 2020", ALL, "2020-05-20", "2020-05-25"),
    ("été 2020", ALL, "2020-07-04", "2020-09-01"),
    ("Toussaint 2020", ALL, "2020-10-17", "2020-11-02"),
    ("Noël 2020", ALL, "2020-12-19", "2021-01-04"),
    ("hiver 2021", ("A",), "2021-02-06", "2021-02-22"),
    ("hiver 2021", ("B",), "2021-02-20", "2021-03-08"),
    ("hiver 2021", ("C",), "2021-02-13", "2021-03-01"),
    ("printemps 2021 unifié", ALL, "2021-04-10", "2021-04-26"),  # §2.3: not the original B/C dates
    ("Ascension 2021", ALL, "2021-05-12", "2021-05-17"),  # §3: Mon 17 May is a class day
    ("été 2021", ALL, "2021-07-06", "2021-09-02"),  # §3: after class Tue 6 Jul; 1 Sep off
    ("Toussaint 2021", ALL, "2021-10-23", "2021-11-08"),
    ("Noël 2021", ALL, "2021-12-18", "2022-01-03"),
    ("hiver 2022", ("A",), "2022-02-12", "2022-02-28"),
    ("hiver 2022", ("B",), "2022-02-05", "2022-02-21"),
    ("hiver 2022", ("C",), "2022-02-19", "2022-03-07"),
    ("printemps 2022", ("A",), "2022-04-16", "2022-05-02"),
    ("printemps 2022", ("B",), "2022-04-09", "2022-04-25"),
    ("printemps 2022", ("C",), "2022-04-23", "2022-05-09"),
    ("Ascension 2022", ALL, "2022-05-25", "2022-05-30"),
    ("été 2022", ALL, "2022-07-07", "2022-09-01"),  # §3: after class Thu 7 Jul
]


@pytest.mark.parametrize(
    ("zone", "first", "back"),
    [(z, f, b) for _, zones, f, b in PERIODS for z in zones],
    ids=[f"{n}-{z}" for n, zones, _, _ in PERIODS for z in zones],
)
def test_holiday_period_boundaries(bare: SchoolCalendar, zone: str, first: str, back: str) -> None:
    start, end = date.fromisoformat(first), date.fromisoformat(back)
    place = Place(zone=zone)
    # "After class" on the first date: a weekday there is still a class day.
    if start.weekday() < 5:
        assert bare.day(start, place, Level.COLLEGE).state is DayState.PRESENTIEL
    off = bare.days(start + timedelta(days=1), end - timedelta(days=1), place, Level.COLLEGE)
    assert [d.date for d in off if d.has_class] == []
    assert {d.state for d in off if d.date.weekday() < 5} <= {DayState.VACANCES, DayState.FERIE}
    back_day = bare.day(end, place, Level.COLLEGE)
    assert back_day.state is DayState.PRESENTIEL
    assert back_day.rentree


def test_alsace_moselle_public_holidays_only_there(bare: SchoolCalendar) -> None:
    """§7: Good Friday and 26 December in 57, 67, 68 (subdivisions 57 and 6AE of `holidays`)."""
    for code in ("57", "67", "68"):
        assert bare.day(date(2021, 4, 2), Place(departement=code), Level.LYCEE).state is DayState.FERIE
        st_etienne = bare.day(date(2019, 12, 26), Place(departement=code), Level.LYCEE)
        assert st_etienne.state is DayState.FERIE
        assert "Saint-Étienne" in st_etienne.because
    for code in ("54", "88", "51"):
        assert bare.day(date(2021, 4, 2), Place(departement=code), Level.LYCEE).state is DayState.PRESENTIEL
        assert bare.day(date(2019, 12, 26), Place(departement=code), Level.LYCEE).state is DayState.VACANCES


def test_supported_range_is_the_published_school_years(bare: SchoolCalendar) -> None:
    first, last = bare.supported_range
    assert (first, last) == (date(2018, 9, 1), date(2028, 8, 31))
    # The first class day of the range is the rentrée 2018 (Mon 3 Sep), seen as such.
    assert bare.day(date(2018, 9, 3), Place(zone="A"), Level.ECOLE).rentree
    assert bare.day(last, Place(zone="C"), Level.ECOLE).state is DayState.VACANCES


@pytest.mark.parametrize("outside", [date(2018, 8, 31), date(2028, 9, 1), date(2035, 1, 1)])
def test_out_of_range_dates_name_the_supported_range(bare: SchoolCalendar, outside: date) -> None:
    with pytest.raises(InputError, match="2018-09-01 to 2028-08-31"):
        bare.day(outside, Place(zone="A"), Level.ECOLE)
    with pytest.raises(InputError, match="2018-09-01 to 2028-08-31"):
        inside = date(2021, 1, 1)
        bare.days(min(inside, outside), max(inside, outside), Place(zone="A"), Level.ECOLE)


def test_reversed_range_and_unknown_level_are_input_errors(bare: SchoolCalendar) -> None:
    with pytest.raises(InputError, match="before it starts"):
        bare.days(date(2021, 2, 1), date(2021, 1, 1), Place(zone="A"), Level.ECOLE)
    with pytest.raises(InputError, match="unknown level"):
        bare.day(date(2021, 2, 1), Place(zone="A"), "primaire")  # type: ignore[arg-type]
