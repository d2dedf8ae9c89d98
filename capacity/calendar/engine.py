"""The school calendar: one day state per date, place and level, with the flags and the reasons.

State = base layer (weekend > public holiday > school holidays > presentiel, see base.py), then the
overlay events in order, each only over the states it `replaces` (see overlays.py).

Flags, on class days only (presentiel, hybride, distanciel):
* `rentree`: the previous class day is two or more weekdays without class away (summer, holidays, the
  Ascension bridge; not a lone public holiday, not a weekend). Days before the first class day of the
  internal span count as a break.
* `bascule`: the state differs from the previous class day's state (16 Mar 2020, 6 Apr 2021, 3 May 2021).

Speed matters: planning a school year asks every day for ~44 départements × 3 levels. The whole
internal span (2018–2028) of one (place, level) is computed at once with numpy on first use and kept;
a day or a year is then a slice. Pure: no clock, no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from capacity.calendar.base import (
    SPAN_DATES,
    SPAN_DAYS,
    SPAN_WEEKDAYS,
    SUPPORTED_FROM,
    SUPPORTED_TO,
    BaseLayer,
    base_layer,
    index_of,
    subdiv_of_departements,
)
from capacity.calendar.overlays import Event, load_events
from capacity.calendar.places import departements_of_place, resolve_place
from capacity.calendar.types import CLASS_STATES, STATE_INDEX, DayInfo, DayState, Level, Place, check_supported
from capacity.common.errors import InputError

_STATES: tuple[DayState, ...] = tuple(sorted(DayState, key=STATE_INDEX.__getitem__))
_CLASS_CODES = np.array(sorted(STATE_INDEX[s] for s in CLASS_STATES), dtype=np.int8)
_SPAN_INDEX = np.arange(SPAN_DAYS)
_WORKDAY = SPAN_WEEKDAYS < 5


def shipped_event_files() -> list[Path]:
    """The overlays shipped with capctl (capacity/calendar/events/*.yaml), in name order."""
    folder = resources.files("capacity.calendar").joinpath("events")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


@dataclass(frozen=True)
class DayArrays:
    """Days `start`..`start + len - 1` as arrays, for numpy consumers (the demand model).

    `states` holds `STATE_INDEX` codes. The arrays are read-only views of the calendar's cache.
    """

    start: date
    states: npt.NDArray[np.int8]
    rentree: npt.NDArray[np.bool_]
    bascule: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _Track:
    """Everything about one (place, level) over the internal span. `because` < 0 is event -code-1."""

    base: BaseLayer
    states: npt.NDArray[np.int8]
    rentree: npt.NDArray[np.bool_]
    bascule: npt.NDArray[np.bool_]
    because: npt.NDArray[np.int32]


class SchoolCalendar:
    """Answers "what is this day for this level here?". Build with `load` or `from_events`."""

    def __init__(self, events: Sequence[Event] = ()) -> None:
        self._events = tuple(events)
        self._because = tuple((e.name,) for e in self._events)
        self._replaces = tuple(np.array([STATE_INDEX[s] for s in e.replaces], dtype=np.int8) for e in self._events)
        self._tracks: dict[tuple[Place, Level], _Track] = {}

    @classmethod
    def load(cls, extra_event_paths: Sequence[Path] = ()) -> SchoolCalendar:
        """Shipped overlays, then `extra_event_paths` (files or folders), which therefore win."""
        return cls(load_events([*shipped_event_files(), *extra_event_paths]))

    @classmethod
    def from_events(cls, events: Sequence[Event] = ()) -> SchoolCalendar:
        """A calendar with exactly these overlays (none: the bare base layer), later ones winning."""
        return cls(events)

    @property
    def events(self) -> tuple[Event, ...]:
        return self._events

    @property
    def supported_range(self) -> tuple[date, date]:
        """First and last date answered: the school years 2018-2019 to 2027-2028."""
        return SUPPORTED_FROM, SUPPORTED_TO

    def check_supported(self, d: date) -> None:
        check_supported(self, d)

    def day(self, d: date, place: Place, level: Level) -> DayInfo:
        """The state of one day, its flags and the names that decided it."""
        self.check_supported(d)
        track = self._track(place, level)
        i = index_of(d)
        return DayInfo(
            date=d,
            state=_STATES[int(track.states[i])],
            rentree=bool(track.rentree[i]),
            bascule=bool(track.bascule[i]),
            because=self._reasons(track, int(track.because[i])),
        )

    def days(self, start: date, end: date, place: Place, level: Level) -> list[DayInfo]:
        """Every day from `start` to `end` inclusive."""
        i0, i1 = self._bounds(start, end)
        track = self._track(place, level)
        labels, events = track.base.labels, self._because
        return [
            DayInfo(d, _STATES[s], r, b, labels[c] if c >= 0 else events[-c - 1])
            for d, s, r, b, c in zip(
                SPAN_DATES[i0:i1],
                track.states[i0:i1].tolist(),
                track.rentree[i0:i1].tolist(),
                track.bascule[i0:i1].tolist(),
                track.because[i0:i1].tolist(),
                strict=True,
            )
        ]

    def day_arrays(self, start: date, end: date, place: Place, level: Level) -> DayArrays:
        """`days` as arrays (no per-day objects), for consumers that work per slot with numpy."""
        i0, i1 = self._bounds(start, end)
        track = self._track(place, level)
        return DayArrays(start, track.states[i0:i1], track.rentree[i0:i1], track.bascule[i0:i1])

    # --- internals -------------------------------------------------------------------------------

    def _bounds(self, start: date, end: date) -> tuple[int, int]:
        if end < start:
            raise InputError(f"the range ends ({end}) before it starts ({start})")
        self.check_supported(start)
        self.check_supported(end)
        return index_of(start), index_of(end) + 1

    def _reasons(self, track: _Track, code: int) -> tuple[str, ...]:
        return track.base.labels[code] if code >= 0 else self._because[-code - 1]

    def _track(self, place: Place, level: Level) -> _Track:
        hit = self._tracks.get((place, level))
        if hit is not None:
            return hit
        try:
            lv = Level(level)
        except ValueError:
            raise InputError(f"unknown level {level!r}; use ecole, college or lycee") from None
        resolved = resolve_place(place)
        track = self._tracks.get((resolved, lv))
        if track is None:
            track = self._compute(resolved, lv)
            self._tracks[(resolved, lv)] = track
        self._tracks[(place, level)] = track
        return track

    def _compute(self, place: Place, level: Level) -> _Track:
        assert place.zone is not None  # resolved places always carry their zone
        covered = departements_of_place(place)
        base = base_layer(place.zone, subdiv_of_departements(covered))
        states = base.states.copy()
        decider = np.full(SPAN_DAYS, -1, dtype=np.int32)
        for k, event in enumerate(self._events):
            lo, hi = max(index_of(event.start), 0), min(index_of(event.end) + 1, SPAN_DAYS)
            if lo >= hi or not event.covers(covered, level):
                continue
            mask = np.isin(states[lo:hi], self._replaces[k])
            if event.weekdays:
                mask &= np.isin(SPAN_WEEKDAYS[lo:hi], sorted(event.weekdays))
            states[lo:hi][mask] = STATE_INDEX[event.state]
            decider[lo:hi][mask] = k
        rentree, bascule = _flags(states)
        because = np.where(decider >= 0, -(decider + 1), base.label_ids).astype(np.int32)
        for array in (states, rentree, bascule, because):
            array.flags.writeable = False
        return _Track(base=base, states=states, rentree=rentree, bascule=bascule, because=because)


def _flags(states: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """`rentree` and `bascule` of every day, from the states of the whole span."""
    is_class = np.isin(states, _CLASS_CODES)
    last_class = np.maximum.accumulate(np.where(is_class, _SPAN_INDEX, -1))
    previous = np.concatenate(([-1], last_class[:-1]))
    has_previous = previous >= 0
    at = np.where(has_previous, previous, 0)
    # Weekdays without class seen so far; on a class day nothing is added, so the difference with
    # the count at the previous class day is the number of weekdays without class in between.
    off = np.cumsum(~is_class & _WORKDAY)
    rentree = is_class & (~has_previous | (off - off[at] >= 2))
    bascule = is_class & has_previous & (states != states[at])
    return rentree, bascule
