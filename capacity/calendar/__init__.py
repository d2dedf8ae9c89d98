"""School calendar: day state per date, place and level (base `holidays` layer + overlay events).

cal = SchoolCalendar.load()
cal.day(date(2021, 4, 26), Place(departement="57"), Level.COLLEGE)
# DayInfo(state=DayState.DISTANCIEL, rentree=True, because=("Rentrée du 26 avril 2021 : ...",), ...)
"""

from capacity.calendar.base import SUPPORTED_FROM, SUPPORTED_TO
from capacity.calendar.engine import DayArrays, SchoolCalendar, shipped_event_files
from capacity.calendar.overlays import (
    Event,
    event_files,
    load_event_file,
    load_events,
    make_event,
    parse_events,
)
from capacity.calendar.places import (
    ACADEMIES,
    ALIASES,
    DEPARTEMENTS,
    FORMER_ACADEMIES,
    ZONES,
    Academie,
    academie_of_departement,
    academies_of_region,
    academies_of_zone,
    check_departement,
    check_zone,
    departements_of_academie,
    departements_of_place,
    departements_of_zone,
    find_academie,
    normalise,
    normalise_departement,
    region_of_academie,
    resolve_place,
    zone_of_academie,
)
from capacity.calendar.types import CLASS_STATES, LEVEL_INDEX, STATE_INDEX, DayInfo, DayState, Level, Place

__all__ = [
    "ACADEMIES",
    "ALIASES",
    "CLASS_STATES",
    "DEPARTEMENTS",
    "FORMER_ACADEMIES",
    "LEVEL_INDEX",
    "STATE_INDEX",
    "SUPPORTED_FROM",
    "SUPPORTED_TO",
    "ZONES",
    "Academie",
    "DayArrays",
    "DayInfo",
    "DayState",
    "Event",
    "Level",
    "Place",
    "SchoolCalendar",
    "academie_of_departement",
    "academies_of_region",
    "academies_of_zone",
    "check_departement",
    "check_zone",
    "departements_of_academie",
    "departements_of_place",
    "departements_of_zone",
    "event_files",
    "find_academie",
    "load_event_file",
    "load_events",
    "make_event",
    "normalise",
    "normalise_departement",
    "parse_events",
    "region_of_academie",
    "resolve_place",
    "shipped_event_files",
    "zone_of_academie",
]
