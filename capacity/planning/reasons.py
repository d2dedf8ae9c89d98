"""The one vocabulary of reasons: why a number is what it is, for the planner, `decide`, Events and reports.

On the wire (plan JSON, Events, logs, the state ConfigMap) a reason is a short string — `forecast`,
`prewarm`, `rush-band`, `nowcast`, `floor:<collectivité>`, `ceiling:<collectivité>`, `budget:<collectivité>`,
`maintenance:<collectivité>`, `observed`, `fallback`, `stabilisation`, `max-step` — and stays so: scripts,
dashboards and alerts match on it. `Reason` is its typed form: kind + collectivité, with a sentence in English
and in French for people. Everything that writes a reason builds it here (`Reason(...).wire`); everything that
shows one to a person parses it back (`Reason.parse(wire).message(lang)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonKind(StrEnum):
    FORECAST = "forecast"
    PREWARM = "prewarm"
    RUSH_BAND = "rush-band"
    NOWCAST = "nowcast"
    FLOOR = "floor"
    CEILING = "ceiling"
    BUDGET = "budget"
    MAINTENANCE = "maintenance"
    OBSERVED = "observed"
    FALLBACK = "fallback"
    STABILISATION = "stabilisation"
    MAX_STEP = "max-step"


#: Kinds that belong to one collectivité's mandate (`kind:<id>` on the wire).
MANDATE_KINDS = frozenset({ReasonKind.FLOOR, ReasonKind.CEILING, ReasonKind.BUDGET, ReasonKind.MAINTENANCE})

_MESSAGES: dict[ReasonKind, tuple[str, str]] = {
    ReasonKind.FORECAST: ("sized on the forecast demand", "dimensionné sur la demande prévue"),
    ReasonKind.PREWARM: (
        "raised ahead of the demand to come (pods need time to start)",
        "relevé avant la demande à venir (les pods mettent du temps à démarrer)",
    ),
    ReasonKind.RUSH_BAND: (
        "sized on the forecast's upper band: a rush too steep for the reactive autoscaler",
        "dimensionné sur la borne haute de la prévision : une pointe trop raide pour l'autoscaler réactif",
    ),
    ReasonKind.NOWCAST: (
        "raised for the rest of the day: this morning's users ran above the forecast",
        "relevé pour le reste de la journée : les utilisateurs de ce matin dépassaient la prévision",
    ),
    ReasonKind.FLOOR: ("floor guaranteed by {who}", "plancher garanti par {who}"),
    ReasonKind.CEILING: ("ceiling set by {who}", "plafond fixé par {who}"),
    ReasonKind.BUDGET: ("held within the monthly budget of {who}", "contenu dans le budget mensuel de {who}"),
    ReasonKind.MAINTENANCE: (
        "maintenance window of {who}: no scale-down",
        "fenêtre de maintenance de {who} : pas de réduction",
    ),
    ReasonKind.OBSERVED: (
        "the users connected now need more than planned",
        "les utilisateurs connectés en ce moment demandent plus que prévu",
    ),
    ReasonKind.FALLBACK: (
        "live metrics unavailable: no scale-down while blind",
        "métriques en direct indisponibles : aucune réduction à l'aveugle",
    ),
    ReasonKind.STABILISATION: (
        "held by the stabilisation window before scaling down",
        "maintenu par la fenêtre de stabilisation avant de réduire",
    ),
    ReasonKind.MAX_STEP: (
        "scale-down limited to a share of the replicas per tick",
        "réduction limitée à une part des réplicas par cycle",
    ),
}


@dataclass(frozen=True)
class Reason:
    """One reason: its kind and, for a mandate's clamp, the collectivité whose mandate applied."""

    kind: ReasonKind
    collectivite: str | None = None

    def __post_init__(self) -> None:
        if (self.kind in MANDATE_KINDS) != (self.collectivite is not None):
            raise ValueError(f"reason {self.kind.value!r} {'needs' if self.kind in MANDATE_KINDS else 'takes no'} id")

    @property
    def wire(self) -> str:
        """The string written to plans, Events, logs and state (unchanged since the first release)."""
        return f"{self.kind.value}:{self.collectivite}" if self.collectivite is not None else self.kind.value

    def message(self, lang: str = "en") -> str:
        """A sentence for people, in English (`en`) or French (`fr`)."""
        en, fr = _MESSAGES[self.kind]
        return (fr if lang == "fr" else en).format(who=self.collectivite)

    @classmethod
    def parse(cls, wire: str) -> Reason:
        """The typed form of a wire string; ValueError for a string outside the vocabulary."""
        kind, _, who = wire.partition(":")
        return cls(ReasonKind(kind), who or None)


def floor(collectivite: str) -> str:
    return Reason(ReasonKind.FLOOR, collectivite).wire


def ceiling(collectivite: str) -> str:
    return Reason(ReasonKind.CEILING, collectivite).wire


def budget(collectivite: str) -> str:
    return Reason(ReasonKind.BUDGET, collectivite).wire


def maintenance(collectivite: str) -> str:
    return Reason(ReasonKind.MAINTENANCE, collectivite).wire
