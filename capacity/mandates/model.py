"""Mandate values. One file per collectivité; the planner clamps each funder's share with its limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from capacity.calendar.types import Level

KINDS = ("region", "departement", "commune")


@dataclass(frozen=True)
class ComponentLimits:
    """Floor (guaranteed replicas) and ceiling (most replicas it pays for) of one component."""

    floor: int
    ceiling: int


@dataclass(frozen=True)
class Funding:
    """The part of a plaque a collectivité funds: levels, and départements (empty = all of the plaque)."""

    plaque: str
    levels: tuple[Level, ...]
    departements: tuple[str, ...] = ()

    def covers(self, level: Level, departement: str) -> bool:
        return level in self.levels and (not self.departements or departement in self.departements)


@dataclass(frozen=True)
class Mandate:
    """What one collectivité allows. `sha256` is the content hash of its file (audit trail)."""

    id: str
    kind: str
    code: str
    name: str
    fundings: tuple[Funding, ...]
    limits: Mapping[str, Mapping[str, ComponentLimits]]  # plaque → component → limits
    path: str
    sha256: str

    def funding_for(self, plaque: str) -> Funding | None:
        for f in self.fundings:
            if f.plaque == plaque:
                return f
        return None
