"""Overlay events: what no holiday library knows (confinements, demi-jauge, single-date rentrée, fixes).

An operator adds a YAML file without touching code:

    events:
      - id: confinement-3-distanciel            # unique in the file; a later file may redefine it
        name: "Confinement 3 : enseignement à distance"   # French, shown to people
        from: 2021-04-06
        to: 2021-04-09                          # inclusive
        state: distanciel                       # presentiel | hybride | distanciel | vacances | ferie
        scope:                                  # optional; an empty or missing list means "all"
          zones: [A, B, C]
          academies: [nancy-metz]
          departements: ["57"]                  # quote codes: 01..09 are otherwise read as numbers
          levels: [ecole, college, lycee]
        replaces: [presentiel, hybride, distanciel]   # default; or `all`, or any list of states
        weekdays: [lundi, mardi]                # optional (lundi..dimanche, mon..sun, 1..7)
        source: "RTL 02/04/2021"
        confidence: H                           # H, M-H, M, L-M, L or UNCONFIRMED

Semantics, in the order the engine applies them:
* Events apply in order: files in the order given, events in file order; the last one that applies
  to a day decides it ("later wins"). An event whose `id` was already defined by an earlier file
  replaces that event and moves to the end (that is how an operator corrects a shipped event).
* `replaces` lists the states an event may override, as left by the base layer and the events before
  it. The default (class states only) means a distance-learning period never turns a weekend, a public
  holiday or a school holiday into a class day; a data fix says `replaces: [vacances]` or `all`.
* Scope: an event applies to a place only when the place lies wholly inside it. An event for the
  département 59 changes the answer for "59", not for "académie de Lille" or "zone B", which also
  cover places it does not concern.

Errors are `ConfigError`s naming the file, the line and the field. Files are read and composed through
the one YAML seam (capacity/common/yamlio.py: bounded read, depth limit, no aliases, YAML 1.2 numbers);
this module walks the composed nodes so that each value keeps its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml

from capacity.calendar.places import (
    check_departement,
    check_zone,
    departements_of_zone,
    find_academie,
    normalise,
)
from capacity.calendar.types import CLASS_STATES, DayState, Level
from capacity.common.errors import ConfigError, InputError
from capacity.common.yamlio import AMBIGUOUS, compose_text, read_text, scalar_value

EVENT_FIELDS = ("id", "name", "from", "to", "state", "scope", "replaces", "weekdays", "source", "confidence")
SCOPE_FIELDS = ("zones", "academies", "departements", "levels")
CONFIDENCES = ("H", "M-H", "M", "L-M", "L", "UNCONFIRMED")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_WEEKDAYS = {
    **{n: i for i, n in enumerate(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"))},
    **{n: i for i, n in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
    **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}
_LEVELS = {"ecole": Level.ECOLE, "college": Level.COLLEGE, "lycee": Level.LYCEE}
_T = TypeVar("_T")
_PLAIN_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class Event:
    """One overlay event, validated and normalised (ids of académies, two-character départements).

    Empty `zones`/`academies`/`departements` mean everywhere; `levels` always lists the levels
    concerned; empty `weekdays` (Mon = 0) means every day.
    """

    id: str
    name: str
    start: date
    end: date
    state: DayState
    levels: frozenset[Level] = frozenset(Level)
    zones: frozenset[str] = frozenset()
    academies: frozenset[str] = frozenset()
    departements: frozenset[str] = frozenset()
    replaces: frozenset[DayState] = CLASS_STATES
    weekdays: frozenset[int] = frozenset()
    source: str = ""
    confidence: str = ""
    #: "file:line" where the event was defined (empty when built in code).
    origin: str = field(default="", compare=False)

    def departement_scope(self) -> frozenset[str] | None:
        """Every département the scope covers (all dimensions intersected), or None for everywhere."""
        return _departement_scope(self.zones, self.academies, self.departements)

    def covers(self, departements: frozenset[str], level: Level) -> bool:
        """True when a place covering `departements` lies wholly inside the scope, for `level`."""
        if level not in self.levels:
            return False
        scope = self.departement_scope()
        return scope is None or departements <= scope


@lru_cache(maxsize=1024)
def _departement_scope(
    zones: frozenset[str], academies: frozenset[str], departements: frozenset[str]
) -> frozenset[str] | None:
    covered: frozenset[str] | None = None
    for dimension in (
        [frozenset(departements_of_zone(z)) for z in zones],
        [frozenset(find_academie(a).departements) for a in academies],
        [departements] if departements else [],
    ):
        if dimension:
            union = frozenset[str]().union(*dimension)
            covered = union if covered is None else covered & union
    return covered


def make_event(
    id: str,
    name: str,
    start: date,
    end: date,
    state: DayState | str,
    *,
    zones: Iterable[str] = (),
    academies: Iterable[str] = (),
    departements: Iterable[str | int] = (),
    levels: Iterable[Level | str] = (),
    replaces: Iterable[DayState | str] | str = CLASS_STATES,
    weekdays: Iterable[int] = (),
    source: str = "",
    confidence: str = "",
) -> Event:
    """Build an event in code with the same validation as the files (raises InputError)."""
    if end < start:
        raise InputError(f"event {id}: `to` ({end}) is before `from` ({start})")
    lv = frozenset(_level(str(v)) for v in levels) or frozenset(Level)
    rep = frozenset(DayState) if replaces == "all" else frozenset(DayState(str(s)) for s in replaces)
    return Event(
        id=id,
        name=name,
        start=start,
        end=end,
        state=_state(str(state)),
        levels=lv,
        zones=frozenset(check_zone(z) for z in zones),
        academies=frozenset(find_academie(a).id for a in academies),
        departements=frozenset(check_departement(d) for d in departements),
        replaces=rep,
        weekdays=frozenset(weekdays),
        source=source,
        confidence=confidence,
    )


def _state(value: str) -> DayState:
    try:
        state = DayState(normalise(value))
    except ValueError:
        allowed = ", ".join(s.value for s in DayState if s is not DayState.WEEKEND)
        raise InputError(f"unknown state {value!r}; use one of {allowed}") from None
    if state is DayState.WEEKEND:
        raise InputError("`weekend` comes from the weekday and cannot be set by an event; use `ferie`")
    return state


def _level(value: str) -> Level:
    key = normalise(value)
    if key not in _LEVELS:
        raise InputError(f"unknown level {value!r}; use ecole, college or lycee")
    return _LEVELS[key]


# --- files -----------------------------------------------------------------------------------------


def event_files(paths: Sequence[Path]) -> list[Path]:
    """Expand folders into their *.yaml / *.yml files (name order); files stay in the order given.

    The one expander of `--events` for every command and the operator's hot reload; a missing path is kept,
    so that loading it says "event file not found" with its name.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file()))
        else:
            out.append(p)
    return out


def load_events(paths: Sequence[Path]) -> tuple[Event, ...]:
    """Events of every file in order, a later definition of an id replacing the earlier one."""
    out: dict[str, Event] = {}
    for path in event_files(paths):
        for event in load_event_file(path):
            out.pop(event.id, None)  # re-inserted at the end: a redefinition also takes precedence
            out[event.id] = event
    return tuple(out.values())


def load_event_file(path: Path) -> list[Event]:
    """Read and validate one event file."""
    text = read_text(path, "event file")  # the one YAML seam: bounded, regular files only
    return parse_events(text, str(path))


def parse_events(text: str, path: str) -> list[Event]:
    """Validate the events of one YAML document; `path` is only used in messages."""
    return _File(path).events(compose_text(text, path))  # the one YAML seam: size, depth, YAML 1.2 numbers


class _File:
    """Walks the composed nodes of one file; every error carries the node's line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, node: yaml.Node, where: str, message: str) -> ConfigError:
        return ConfigError(f"{where}: {message}", path=self.path, line=node.start_mark.line + 1)

    def check_tag(self, node: yaml.Node, where: str) -> None:
        """Only plain YAML types: a `!!python/...` or custom tag is refused where it stands."""
        if node.tag == AMBIGUOUS:
            return  # scalar_value says what is wrong with the number
        if not node.tag.startswith(_PLAIN_TAG) or node.tag.startswith(f"{_PLAIN_TAG}python"):
            raise self.error(node, where, f"YAML tag {node.tag!r} is not allowed; write a plain value")

    def scalar(self, node: yaml.Node, where: str) -> object:
        self.check_tag(node, where)
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, where, "expected a single value, not a list or a mapping")
        try:
            return scalar_value(node, self.path)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.error(node, where, f"unsupported value {node.value!r} ({problem})") from None

    def text(self, node: yaml.Node, where: str) -> str:
        value = self.scalar(node, where)
        if isinstance(value, bool) or value is None or isinstance(value, date):
            raise self.error(node, where, f"expected text, found {node.value!r}")
        out = str(value).strip()
        if not out:
            raise self.error(node, where, "must not be empty")
        return out

    def mapping(self, node: yaml.Node, where: str, allowed: Sequence[str]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        self.check_tag(node, where)
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, where, f"expected a mapping with keys {', '.join(allowed)}")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k_node, v_node in node.value:
            key = str(self.scalar(k_node, where))
            if key not in allowed:
                raise self.error(k_node, f"{where}.{key}", f"unknown field; allowed: {', '.join(allowed)}")
            if key in out:
                raise self.error(k_node, f"{where}.{key}", "field given twice")
            out[key] = (k_node, v_node)
        return out

    def items(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        """A list, or a single value taken as a one-item list; null is the empty list."""
        self.check_tag(node, where)
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.ScalarNode) and self.scalar(node, where) is None:
            return []
        return [node]

    def each(self, node: yaml.Node, where: str, parse: Callable[[str], _T]) -> frozenset[_T]:
        out: set[_T] = set()
        for i, item in enumerate(self.items(node, where)):
            value = self.scalar(item, f"{where}[{i}]")
            try:
                out.add(parse(self._code(value)))
            except InputError as exc:
                raise self.error(item, f"{where}[{i}]", str(exc)) from None
        return frozenset(out)

    @staticmethod
    def _code(value: object) -> str:
        # YAML reads 54 as a number and 07 as octal 7: both are département codes here.
        return f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    def when(self, node: yaml.Node, where: str) -> date:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, where, "expected a date YYYY-MM-DD, not a list or a mapping")
        try:
            return date.fromisoformat(str(node.value).strip())
        except ValueError:
            raise self.error(node, where, f"expected a date YYYY-MM-DD, found {node.value!r}") from None

    def events(self, root: yaml.Node | None) -> list[Event]:
        if root is None:
            raise ConfigError("empty file: expected a top-level `events:` list", path=self.path)
        top = self.mapping(root, "file", ("events",))
        if "events" not in top:
            raise self.error(root, "file", "expected a top-level `events:` list")
        events_node = top["events"][1]
        if isinstance(events_node, yaml.ScalarNode) and self.scalar(events_node, "events") is None:
            return []
        if not isinstance(events_node, yaml.SequenceNode):
            raise self.error(events_node, "events", "expected a list of events (each item starts with '- id:')")
        seen: dict[str, int] = {}
        out: list[Event] = []
        for i, node in enumerate(events_node.value):
            event = self.event(node, f"events[{i}]")
            if event.id in seen:
                raise self.error(node, f"events[{i}].id", f"id {event.id!r} already used on line {seen[event.id]}")
            seen[event.id] = node.start_mark.line + 1
            out.append(event)
        return out

    def event(self, node: yaml.Node, where: str) -> Event:
        label = where
        if isinstance(node, yaml.MappingNode):  # name the event by its id in every message, if it has one
            ids = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "id"]
            if ids and isinstance(ids[0], yaml.ScalarNode):
                label = f"{where} ({ids[0].value})"
        fields = self.mapping(node, label, EVENT_FIELDS)
        for required in ("id", "name", "from", "to", "state"):
            if required not in fields:
                raise self.error(node, label, f"missing field `{required}` (required: id, name, from, to, state)")
        ident = self.text(fields["id"][1], f"{label}.id")
        if not _ID_RE.match(ident):
            raise self.error(fields["id"][1], f"{label}.id", "use lower-case letters, digits, '-', '_' or '.'")
        start = self.when(fields["from"][1], f"{label}.from")
        end = self.when(fields["to"][1], f"{label}.to")
        if end < start:
            raise self.error(fields["to"][1], f"{label}.to", f"`to` ({end}) is before `from` ({start})")
        state_node = fields["state"][1]
        if not isinstance(state_node, yaml.ScalarNode):
            raise self.error(state_node, f"{label}.state", "expected exactly one state")
        try:
            state = _state(self.text(state_node, f"{label}.state"))
        except InputError as exc:
            raise self.error(state_node, f"{label}.state", str(exc)) from None
        scope: dict[str, frozenset[str]] = {}
        levels: frozenset[Level] = frozenset()
        if "scope" in fields:
            s_node = fields["scope"][1]
            if not (isinstance(s_node, yaml.ScalarNode) and self.scalar(s_node, f"{label}.scope") is None):
                for key, (_, v_node) in self.mapping(s_node, f"{label}.scope", SCOPE_FIELDS).items():
                    w = f"{label}.scope.{key}"
                    if key == "levels":
                        levels = self.each(v_node, w, _level)
                    else:
                        parse = {
                            "zones": check_zone,
                            "academies": _academie_id,
                            "departements": check_departement,
                        }
                        scope[key] = self.each(v_node, w, parse[key])
        replaces = CLASS_STATES
        if "replaces" in fields:
            r_node = fields["replaces"][1]
            if isinstance(r_node, yaml.ScalarNode) and str(self.scalar(r_node, f"{label}.replaces")) == "all":
                replaces = frozenset(DayState)
            else:
                replaces = self.each(r_node, f"{label}.replaces", _replaced_state)
                if not replaces:
                    raise self.error(r_node, f"{label}.replaces", "empty: the event would never apply")
        weekdays: frozenset[int] = frozenset()
        if "weekdays" in fields:
            weekdays = self.each(fields["weekdays"][1], f"{label}.weekdays", _weekday)
        confidence = ""
        if "confidence" in fields:
            c_node = fields["confidence"][1]
            confidence = self.text(c_node, f"{label}.confidence").upper()
            if confidence not in CONFIDENCES:
                raise self.error(c_node, f"{label}.confidence", f"use one of {', '.join(CONFIDENCES)}")
        return Event(
            id=ident,
            name=self.text(fields["name"][1], f"{label}.name"),
            start=start,
            end=end,
            state=state,
            levels=levels or frozenset(Level),
            zones=scope.get("zones", frozenset()),
            academies=scope.get("academies", frozenset()),
            departements=scope.get("departements", frozenset()),
            replaces=replaces,
            weekdays=weekdays,
            source=self.text(fields["source"][1], f"{label}.source") if "source" in fields else "",
            confidence=confidence,
            origin=f"{self.path}:{node.start_mark.line + 1}",
        )


def _academie_id(value: str) -> str:
    return find_academie(value).id


def _replaced_state(value: str) -> DayState:
    try:
        return DayState(normalise(value))
    except ValueError:
        allowed = ", ".join(s.value for s in DayState)
        raise InputError(f"unknown state {value!r}; use `all` or a list of {allowed}") from None


def _weekday(value: str) -> int:
    key = normalise(value)
    if key.isdigit() and 1 <= int(key) <= 7:
        return int(key) - 1
    if key in _WEEKDAYS:
        return _WEEKDAYS[key]
    raise InputError(f"unknown weekday {value!r}; use lundi..dimanche, mon..sun or 1..7 (ISO, Monday = 1)")
