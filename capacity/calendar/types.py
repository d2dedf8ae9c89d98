"""Values of the school calendar: levels, day states, places and the answer for one day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from capacity.common.errors import InputError


class Level(StrEnum):
    """School level; each is funded by a different collectivité (commune, département, région)."""

    ECOLE = "ecole"
    COLLEGE = "college"
    LYCEE = "lycee"


class DayState(StrEnum):
    """What a day is for one level in one place. Exactly one per (date, place, level)."""

    PRESENTIEL = "presentiel"
    HYBRIDE = "hybride"
    DISTANCIEL = "distanciel"
    VACANCES = "vacances"
    FERIE = "ferie"
    WEEKEND = "weekend"


#: States in which classes happen (in person, half gauge or at a distance).
CLASS_STATES: frozenset[DayState] = frozenset({DayState.PRESENTIEL, DayState.HYBRIDE, DayState.DISTANCIEL})

#: Stable index of each state, used as an array axis by the demand model.
STATE_INDEX: dict[DayState, int] = {s: i for i, s in enumerate(DayState)}
#: The state at each index of that axis (the inverse of STATE_INDEX).
STATE_AT: tuple[DayState, ...] = tuple(DayState)
LEVEL_INDEX: dict[Level, int] = {lv: i for i, lv in enumerate(Level)}


@dataclass(frozen=True)
class Place:
    """Where: a zone, an académie or a département (the most precise one given wins).

    `Place.resolve` (in places.py) fills the coarser fields from the finer one, so a resolved place
    with a département also carries its académie and zone.
    """

    zone: str | None = None
    academie: str | None = None
    departement: str | None = None


@dataclass(frozen=True)
class DayInfo:
    """The calendar's answer for one date, place and level.

    `rentree`: first class day after a break of two or more weekdays without class.
    `bascule`: first class day whose state differs from the previous class day's state
    (e.g. the first day of distance learning, 2021-04-06, or the return to class on 2021-05-03).
    `because`: names of the holidays and events that decided the state, most decisive last.
    """

    date: date
    state: DayState
    rentree: bool
    bascule: bool
    because: tuple[str, ...]

    @property
    def has_class(self) -> bool:
        return self.state in CLASS_STATES


class Calendar(Protocol):
    """What the planner, the learner and the simulator need of a calendar (capacity.calendar.SchoolCalendar)."""

    @property
    def supported_range(self) -> tuple[date, date]: ...

    def day(self, d: date, place: Place, level: Level) -> DayInfo: ...


def check_supported(calendar: Calendar, *days: date) -> date:
    """The one range check: refuse days the calendar cannot answer for, naming the range; returns its last day."""
    first, last = calendar.supported_range
    for d in days:
        if isinstance(d, datetime):  # a datetime's calendar day depends on its time zone: say which
            raise InputError(f"expected a date, got the datetime {d.isoformat()}; pass its local date")
        if not first <= d <= last:
            raise InputError(
                f"date {d} is outside the supported range {first} to {last} "
                "(the school years for which the `holidays` package has official school holidays)"
            )
    return last
