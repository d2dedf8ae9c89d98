"""Plaques: whom each serves (levels × départements × profiles), who funds it and what it scales.

Operator-owned configuration (`policies/topology.yaml`). A *segment* is one level in one département;
its population is a vector over profiles (élèves, enseignants, parents). Each component carries its
capacity model (see sizing.py) and the Kubernetes object that scales it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import Level, Place
from capacity.common.yamlio import YamlDoc, load_yaml_file

PROFILES: tuple[str, ...] = ("eleves", "enseignants", "parents")
COMPONENT_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Target:
    """The Kubernetes object a component scales, and its HPA if it has one."""

    namespace: str
    kind: str
    name: str
    hpa: str | None = None


@dataclass(frozen=True)
class Component:
    """One scalable part of a plaque and its capacity model (units in the names)."""

    name: str
    target: Target
    requests_per_user_s: float
    rps_per_replica: float
    target_utilisation: float
    headroom: float
    min_replicas: int
    lead_time_s: int
    prewarm_s: int
    cpu_per_replica: float
    memory_gib_per_replica: float


@dataclass(frozen=True)
class Segment:
    """One level in one département of a plaque, with its population per profile (PROFILES order)."""

    level: Level
    departement: str
    population: tuple[float, float, float]

    @property
    def place(self) -> Place:
        return Place(departement=self.departement)


@dataclass(frozen=True)
class Plaque:
    """One regional deployment of the ENT."""

    id: str
    name: str
    zone: str
    namespace: str
    academies: tuple[str, ...]
    funders: tuple[str, ...]
    segments: tuple[Segment, ...]
    components: tuple[Component, ...]
    kube_context: str | None = None

    @property
    def levels(self) -> tuple[Level, ...]:
        return tuple(sorted({s.level for s in self.segments}, key=list(Level).index))

    def population_matrix(self) -> npt.NDArray[np.float64]:
        """Population as an array [segment, profile]."""
        return np.array([s.population for s in self.segments], dtype=np.float64)

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Topology:
    plaques: tuple[Plaque, ...]
    source: str

    def plaque(self, plaque_id: str) -> Plaque:
        for p in self.plaques:
            if p.id == plaque_id:
                return p
        known = ", ".join(p.id for p in self.plaques)
        from capacity.common.errors import InputError

        raise InputError(f"unknown plaque {plaque_id!r}; known plaques: {known}")


_COMPONENT_FIELDS: dict[str, type] = {
    "kind": str,
    "name": str,
    "hpa": str,
    "requests_per_user_s": float,
    "rps_per_replica": float,
    "target_utilisation": float,
    "headroom": float,
    "min_replicas": int,
    "lead_time_s": int,
    "prewarm_s": int,
    "cpu_per_replica": float,
    "memory_gib_per_replica": float,
}


def load_topology(path: Path) -> Topology:
    """Load and validate `topology.yaml`; every error names the file, the line and the field."""
    doc = load_yaml_file(path)
    root = _mapping(doc, (), doc.data)
    _only(doc, (), root, ("version", "defaults", "plaques"))
    if isinstance(root.get("defaults"), dict):
        _only(doc, ("defaults",), root["defaults"], ("components",))
    if root.get("version") != 1:
        raise doc.error(("version",), "expected `version: 1`")
    defaults = _mapping(doc, ("defaults", "components"), root.get("defaults", {}).get("components", {}))
    plaques_raw = _mapping(doc, ("plaques",), root.get("plaques"))
    if not plaques_raw:
        raise doc.error(("plaques",), "no plaque defined")
    plaques = tuple(_plaque(doc, pid, raw, defaults) for pid, raw in plaques_raw.items())
    return Topology(plaques=plaques, source=str(path))


def _mapping(doc: YamlDoc, key: tuple[str, ...], value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(key, f"expected a mapping, found {type(value).__name__}")
    return value


#: What a plaque of topology.yaml may say (anything else is a typo that would silently be ignored).
PLAQUE_FIELDS = ("name", "zone", "namespace", "population", "components", "academies", "funders", "kube_context")


def _only(doc: YamlDoc, key: tuple[str, ...], raw: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse a key this file does not know, naming the closest known one."""
    import difflib

    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise doc.error((*key, str(name)), f"unknown key `{name}`{hint} (expected one of: {', '.join(allowed)})")


def _plaque(doc: YamlDoc, pid: str, raw: Any, defaults: dict[str, Any]) -> Plaque:
    key = ("plaques", pid)
    raw = _mapping(doc, key, raw)
    _only(doc, key, raw, PLAQUE_FIELDS)
    for required in ("name", "zone", "namespace", "population"):
        if required not in raw:
            raise doc.error(key, f"missing field `{required}`")
    zone = str(raw["zone"]).upper()
    if zone not in ("A", "B", "C"):
        raise doc.error((*key, "zone"), f"zone must be A, B or C, found {raw['zone']!r}")
    namespace = str(raw["namespace"])
    segments = _segments(doc, (*key, "population"), raw["population"])
    comp_raw = _mapping(doc, (*key, "components"), raw.get("components", {}) or {})
    names = list(dict.fromkeys([*defaults.keys(), *comp_raw.keys()]))
    components = tuple(
        _component(doc, (*key, "components", n), n, namespace, {**defaults.get(n, {}), **(comp_raw.get(n) or {})})
        for n in names
    )
    if not components:
        raise doc.error(key, "no component defined (give defaults.components or plaques.<id>.components)")
    return Plaque(
        id=pid,
        name=str(raw["name"]),
        zone=zone,
        namespace=namespace,
        academies=tuple(str(a) for a in raw.get("academies", []) or []),
        funders=tuple(str(f) for f in raw.get("funders", []) or []),
        segments=segments,
        components=components,
        kube_context=raw.get("kube_context"),
    )


def _segments(doc: YamlDoc, key: tuple[str, ...], raw: Any) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for level_name, per_dept in _mapping(doc, key, raw).items():
        try:
            level = Level(level_name)
        except ValueError:
            raise doc.error((*key, level_name), "level must be ecole, college or lycee") from None
        for dept, counts in _mapping(doc, (*key, level_name), per_dept).items():
            ckey = (*key, level_name, str(dept))
            counts = _mapping(doc, ckey, counts)
            values = []
            for profile in PROFILES:
                v = counts.get(profile, 0)
                if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                    raise doc.error((*ckey, profile), f"expected a number of accounts >= 0, found {v!r}")
                values.append(float(v))
            unknown = set(counts) - set(PROFILES)
            if unknown:
                raise doc.error(ckey, f"unknown profile(s) {sorted(unknown)}; use {', '.join(PROFILES)}")
            out.append(Segment(level=level, departement=str(dept), population=(values[0], values[1], values[2])))
    if not out:
        raise doc.error(key, "empty population")
    return tuple(out)


def _component(doc: YamlDoc, key: tuple[str, ...], name: str, namespace: str, raw: dict[str, Any]) -> Component:
    values: dict[str, Any] = {}
    for fname, ftype in _COMPONENT_FIELDS.items():
        if fname not in raw:
            if fname == "hpa":
                values[fname] = None
                continue
            raise doc.error(key, f"component {name!r} lacks `{fname}` (set it here or in defaults.components)")
        v = raw[fname]
        if ftype is str:
            values[fname] = str(v)
            continue
        if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
            raise doc.error((*key, fname), f"expected a number >= 0, found {v!r}")
        values[fname] = ftype(v)
    unknown = set(raw) - set(_COMPONENT_FIELDS) - {"namespace"}
    if unknown:
        raise doc.error(key, f"unknown field(s) {sorted(unknown)}")
    if values["kind"] not in COMPONENT_KINDS:
        raise doc.error((*key, "kind"), f"kind must be one of {COMPONENT_KINDS}")
    if not 0 < values["target_utilisation"] <= 1:
        raise doc.error((*key, "target_utilisation"), "must be in (0, 1]")
    if values["rps_per_replica"] <= 0:
        raise doc.error((*key, "rps_per_replica"), "must be > 0")
    if values["headroom"] < 1:
        raise doc.error((*key, "headroom"), "must be >= 1 (1.1 means +10 %)")
    target = Target(
        namespace=str(raw.get("namespace", namespace)),
        kind=values.pop("kind"),
        name=values.pop("name"),
        hpa=values.pop("hpa"),
    )
    return Component(name=name, target=target, **values)
