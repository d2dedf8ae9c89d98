"""Overlay events: what no holiday library knows (confinements, demi-jauge, single-date rentrée, fixes).

An event file is YAML an operator can add without touching code:

    events:
      - id: confinement-2021-distanciel
        name: "Confinement 3 : enseignement à distance"
        from: 2021-04-06
        to: 2021-04-09            # inclusive
        state: distanciel
        scope: {levels: [ecole, college, lycee], zones: [], academies: [], departements: []}
        replaces: class           # class (default) | all | list of base states
        source: "RTL 02/04/2021"

Empty or missing scope lists mean "everywhere". By default an event only changes class days, so a
distance-learning period never turns a weekend, a public holiday or a school holiday into a class day;
a data fix says which base states it overrides. Later files win, and later events within a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from capacity.calendar.places import ACADEMIES, ALIASES, ZONES, normalise, normalise_departement
from capacity.calendar.types import CLASS_STATES, DayState, Level, Place
from capacity.yamlio import YamlDoc, load_yaml_file

EVENT_FIELDS = {"id", "name", "from", "to", "state", "scope", "replaces", "weekdays", "source", "confidence"}
SCOPE_FIELDS = {"zones", "academies", "departements", "levels"}


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    start: date
    end: date
    state: DayState
    levels: frozenset[Level]
    zones: frozenset[str]
    academies: frozenset[str]
    departements: frozenset[str]
    replaces: frozenset[DayState]
    weekdays: frozenset[int]
    source: str

    def applies(self, d: date, place: Place, level: Level) -> bool:
        """True when `d`, the resolved `place` and `level` are inside this event's scope."""
        if not self.start <= d <= self.end or level not in self.levels:
            return False
        if self.weekdays and d.weekday() not in self.weekdays:
            return False
        if self.zones and place.zone not in self.zones:
            return False
        if self.academies and place.academie not in self.academies:
            return False
        return not self.departements or place.departement in self.departements


def load_events(paths: Sequence[Path]) -> tuple[Event, ...]:
    """Events of all files in order (later ones win when applied in order)."""
    out: list[Event] = []
    for path in paths:
        doc = load_yaml_file(path)
        root = doc.data
        if not isinstance(root, dict) or not isinstance(root.get("events"), list):
            raise doc.error((), "expected a top-level `events:` list")
        out.extend(_event(doc, ("events", i), raw) for i, raw in enumerate(root["events"]))
    return tuple(out)


def _event(doc: YamlDoc, key: tuple[str | int, ...], raw: Any) -> Event:
    if not isinstance(raw, dict):
        raise doc.error(key, "each event must be a mapping with id, name, from, to, state")
    unknown = set(raw) - EVENT_FIELDS
    if unknown:
        raise doc.error((*key, sorted(unknown)[0]), f"unknown field; allowed: {', '.join(sorted(EVENT_FIELDS))}")
    for required in ("id", "name", "from", "to", "state"):
        if required not in raw:
            raise doc.error(key, f"missing field `{required}`")
    start, end = _date(doc, (*key, "from"), raw["from"]), _date(doc, (*key, "to"), raw["to"])
    if end < start:
        raise doc.error((*key, "to"), f"`to` ({end}) is before `from` ({start})")
    state = _state(doc, (*key, "state"), raw["state"])
    scope = raw.get("scope") or {}
    if not isinstance(scope, dict):
        raise doc.error((*key, "scope"), "scope must be a mapping of zones/academies/departements/levels lists")
    bad = set(scope) - SCOPE_FIELDS
    if bad:
        raise doc.error(
            (*key, "scope", sorted(bad)[0]), f"unknown scope field; allowed: {', '.join(sorted(SCOPE_FIELDS))}"
        )
    skey = (*key, "scope")
    levels = frozenset(_list(doc, (*skey, "levels"), scope.get("levels"), _level)) or frozenset(Level)
    zones = frozenset(_list(doc, (*skey, "zones"), scope.get("zones"), _zone))
    academies = frozenset(_list(doc, (*skey, "academies"), scope.get("academies"), _academie))
    depts = frozenset(_list(doc, (*skey, "departements"), scope.get("departements"), _departement))
    replaces = _replaces(doc, (*key, "replaces"), raw.get("replaces", "class"))
    weekdays = frozenset(_list(doc, (*key, "weekdays"), raw.get("weekdays"), _weekday))
    return Event(
        id=str(raw["id"]),
        name=str(raw["name"]),
        start=start,
        end=end,
        state=state,
        levels=levels,
        zones=zones,
        academies=academies,
        departements=depts,
        replaces=replaces,
        weekdays=weekdays,
        source=str(raw.get("source", "")),
    )


def _date(doc: YamlDoc, key: tuple[str | int, ...], value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise doc.error(key, f"expected a date YYYY-MM-DD, found {value!r}") from None


def _state(doc: YamlDoc, key: tuple[str | int, ...], value: Any) -> DayState:
    try:
        return DayState(str(value))
    except ValueError:
        raise doc.error(key, f"unknown state {value!r}; use one of {', '.join(s.value for s in DayState)}") from None


def _list(doc: YamlDoc, key: tuple[str | int, ...], value: Any, parse: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [parse(doc, (*key, i), v) for i, v in enumerate(value)]


def _level(doc: YamlDoc, key: tuple[str | int, ...], v: Any) -> Level:
    try:
        return Level(str(v))
    except ValueError:
        raise doc.error(key, f"unknown level {v!r}; use ecole, college or lycee") from None


def _zone(doc: YamlDoc, key: tuple[str | int, ...], v: Any) -> str:
    z = str(v).upper()
    if z not in ZONES:
        raise doc.error(key, f"unknown zone {v!r}; use A, B or C")
    return z


def _academie(doc: YamlDoc, key: tuple[str | int, ...], v: Any) -> str:
    a = normalise(str(v))
    a = ALIASES.get(a, a)
    if a not in ACADEMIES:
        raise doc.error(key, f"unknown académie {v!r}")
    return a


def _departement(doc: YamlDoc, key: tuple[str | int, ...], v: Any) -> str:
    return normalise_departement(v)


def _weekday(doc: YamlDoc, key: tuple[str | int, ...], v: Any) -> int:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    if str(v).lower()[:3] in names:
        return names.index(str(v).lower()[:3])
    raise doc.error(key, f"unknown weekday {v!r}; use mon..sun")


def _replaces(doc: YamlDoc, key: tuple[str | int, ...], value: Any) -> frozenset[DayState]:
    if value == "class":
        return CLASS_STATES
    if value == "all":
        return frozenset(DayState)
    return frozenset(_list(doc, key, value, _state))
