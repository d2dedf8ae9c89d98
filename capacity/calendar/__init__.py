"""School calendar: day state per date, place and level (base `holidays` layer + overlay events)."""

from capacity.calendar.engine import SchoolCalendar
from capacity.calendar.overlays import Event, load_events
from capacity.calendar.places import (
    ACADEMIES,
    academies_of_zone,
    departements_of_academie,
    resolve_place,
)
from capacity.calendar.types import CLASS_STATES, LEVEL_INDEX, STATE_INDEX, DayInfo, DayState, Level, Place

__all__ = [
    "ACADEMIES",
    "CLASS_STATES",
    "LEVEL_INDEX",
    "STATE_INDEX",
    "DayInfo",
    "DayState",
    "Event",
    "Level",
    "Place",
    "SchoolCalendar",
    "academies_of_zone",
    "departements_of_academie",
    "load_events",
    "resolve_place",
]
