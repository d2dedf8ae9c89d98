"""The plan's reasons (`floor:<id>`, `budget:<id>`, `prewarm`…) in French, in one place.

The plan speaks a small vocabulary of reasons, in English, for operators and JSON; people reading
French output (the monthly report, the policy commands) get these words instead.
"""

from __future__ import annotations

_PLAIN_FR = {
    "forecast": "prévision",
    "prewarm": "préchauffage avant la pointe prévue",
    "rush-band": "pointe du matin dimensionnée sur la fourchette haute de la prévision",
    "stabilisation": "stabilisation (pas de baisse trop rapide)",
    "fallback": "valeur de repli (prévision indisponible)",
}
_BY_MANDATE_FR = {
    "floor": "plancher du mandat {id}",
    "ceiling": "plafond du mandat {id}",
    "budget": "budget mensuel du mandat {id}",
    "maintenance": "maintenance déclarée par le mandat {id}",
}


def reason_fr(reason: str) -> str:
    """One reason in French; an unknown one is shown as is (never hidden)."""
    kind, _, who = reason.partition(":")
    if who and kind in _BY_MANDATE_FR:
        return _BY_MANDATE_FR[kind].format(id=who)
    return _PLAIN_FR.get(reason, reason)


def reasons_fr(reasons: list[str] | tuple[str, ...]) -> str:
    return ", ".join(reason_fr(r) for r in reasons)
