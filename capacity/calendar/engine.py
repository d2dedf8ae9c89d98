"""The school calendar: one day state per date, place and level, with the flags and reasons.

Precedence of the base layer: weekend, then public holiday (`ferie`, also inside school holidays: the
day is off either way and the name is the more telling one), then school holidays (`vacances`), else
`presentiel`. Overlay events then apply in order (later files and later events win), each only over the
base states it `replaces`. Pure and memoised: no clock, no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from capacity.calendar.base import SUPPORTED_FROM, SUPPORTED_TO, base_layer
from capacity.calendar.overlays import Event, load_events
from capacity.calendar.places import resolve_place
from capacity.calendar.types import CLASS_STATES, DayInfo, DayState, Level, Place
from capacity.errors import InputError

#: A break longer than this (summer included) ends the search for the previous class day.
MAX_LOOKBACK_DAYS = 120
Raw = tuple[DayState, tuple[str, ...]]


def shipped_event_files() -> list[Path]:
    """The overlays shipped with capctl (capacity/calendar/events/*.yaml), in name order."""
    folder = resources.files("capacity.calendar").joinpath("events")
    return sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml"))


class SchoolCalendar:
    """Answers 'what is this day for this level here?'. Build with `load` or `from_events`."""

    def __init__(self, events: Sequence[Event]) -> None:
        self._events = tuple(events)
        self._raw: dict[tuple[date, Place, Level], Raw] = {}
        self._places: dict[Place, Place] = {}

    @classmethod
    def load(cls, extra_event_paths: Sequence[Path] = ()) -> SchoolCalendar:
        """Shipped overlays, then `extra_event_paths` (which therefore win)."""
        return cls(load_events([*shipped_event_files(), *extra_event_paths]))

    @classmethod
    def from_events(cls, events: Sequence[Event]) -> SchoolCalendar:
        return cls(events)

    @property
    def events(self) -> tuple[Event, ...]:
        return self._events

    @property
    def supported_range(self) -> tuple[date, date]:
        return SUPPORTED_FROM, SUPPORTED_TO

    def check_supported(self, d: date) -> None:
        if not SUPPORTED_FROM <= d <= SUPPORTED_TO:
            raise InputError(
                f"date {d} is outside the supported range {SUPPORTED_FROM} to {SUPPORTED_TO} "
                "(the school-holiday data of the `holidays` package)"
            )

    def _resolve(self, place: Place) -> Place:
        resolved = self._places.get(place)
        if resolved is None:
            resolved = resolve_place(place)
            self._places[place] = resolved
        return resolved

    def raw_state(self, d: date, place: Place, level: Level) -> Raw:
        """State and reasons of one day, without the flags (which need the days before)."""
        key = (d, place, level)
        hit = self._raw.get(key)
        if hit is not None:
            return hit
        assert place.zone is not None
        base = base_layer(place.zone, place.departement)
        if d.weekday() >= 5:
            state, because = DayState.WEEKEND, ("Week-end",)
        elif d in base.public:
            state, because = DayState.FERIE, (base.public[d],)
        elif d in base.school:
            state, because = DayState.VACANCES, (base.school[d],)
        else:
            state, because = DayState.PRESENTIEL, ("Jour de classe",)
        for event in self._events:
            if state in event.replaces and event.applies(d, place, level):
                kept = because if state is not DayState.PRESENTIEL or event.state is DayState.PRESENTIEL else ()
                state, because = event.state, (*kept, event.name)
        self._raw[key] = (state, because)
        return state, because

    def day(self, d: date, place: Place, level: Level) -> DayInfo:
        self.check_supported(d)
        place = self._resolve(place)
        state, because = self.raw_state(d, place, level)
        rentree = bascule = False
        if state in CLASS_STATES:
            gap, probe = 0, d - timedelta(days=1)
            previous: DayState | None = None
            for _ in range(MAX_LOOKBACK_DAYS):
                if probe < SUPPORTED_FROM:
                    break
                prev_state, _reasons = self.raw_state(probe, place, level)
                if prev_state in CLASS_STATES:
                    previous = prev_state
                    break
                if probe.weekday() < 5:
                    gap += 1
                probe -= timedelta(days=1)
            rentree = gap >= 2
            bascule = previous is not None and previous is not state
        return DayInfo(date=d, state=state, rentree=rentree, bascule=bascule, because=because)

    def days(self, start: date, end: date, place: Place, level: Level) -> list[DayInfo]:
        """Every day from `start` to `end` inclusive."""
        out, d = [], start
        while d <= end:
            out.append(self.day(d, place, level))
            d += timedelta(days=1)
        return out
