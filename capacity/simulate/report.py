"""The replay as JSON (issue 6's shape, plus details) and as a table that fits 100 columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from capacity.common.numbers import count, percent
from capacity.simulate.metrics import DayShortfall, StrategyResult
from capacity.simulate.run import SweepPoint


def _day(d: DayShortfall | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "date": d.day.isoformat(),
        "underprovisioned_user_minutes": round(d.underprovisioned_user_minutes, 1),
        "peak_unserved_users": round(d.peak_unserved_users, 1),
    }


def strategy_dict(r: StrategyResult) -> dict[str, Any]:
    return {
        "strategy": r.strategy,
        "replica_hours": round(r.replica_hours, 2),
        "cost_eur": round(r.cost_eur, 2),
        "underprovisioned_user_minutes": round(r.underprovisioned_user_minutes, 1),
        "demand_user_minutes": round(r.demand_user_minutes, 1),
        "underprovisioned_share": r.underprovisioned_share,
        "saturated_hours": r.saturated_hours,
        "worst_day": _day(r.worst_day),
        "scaling_actions": r.scaling_actions,
        "cost_ratio_to_oracle": r.cost_ratio_to_oracle,
        "mornings": [_day(m) for m in r.mornings],
    }


def report_dict(meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint]) -> dict[str, Any]:
    return {
        **meta,
        "strategies": [strategy_dict(r) for r in results],
        "sweep": [{"startup_s": p.startup_s, "strategies": [strategy_dict(r) for r in p.results]} for p in sweep],
    }


_WORDS = {
    "en": {
        "title": "Season replay {first} → {last}, demand: {source}, start-up delay {startup} min, step {step} min",
        "heads": (
            "strategy",
            "replica-h",
            "cost €",
            "×oracle",
            "short u·min",
            "share",
            "sat. h",
            "actions",
            "worst day",
        ),
        "mornings": "Mornings (6-12 h), under-provisioned user-minutes / peak users not served:",
        "sweep": "Start-up delay sweep: under-provisioned share of demand, cost × oracle",
    },
    "fr": {
        "title": "Rejeu {first} → {last}, demande : {source}, délai de démarrage {startup} min, pas de {step} min",
        "heads": (
            "stratégie",
            "réplica-h",
            "coût €",
            "×oracle",
            "manque u·min",
            "part",
            "sat. h",
            "actions",
            "pire jour",
        ),
        "mornings": "Matinées (6-12 h), utilisateurs·minutes non servis / pointe d'utilisateurs non servis :",
        "sweep": "Délai de démarrage : part de la demande non servie, coût × oracle",
    },
}


def report_table(
    meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint], lang: str = "en"
) -> str:
    """The replay in one language (`lang`: en or fr), 100 columns."""
    w = _WORDS[lang]
    h = w["heads"]
    lines = [
        str(w["title"]).format(
            first=meta["from"],
            last=meta["to"],
            source=meta["source"],
            startup=meta["startup_s"] // 60,
            step=meta["step_s"] // 60,
        ),
        f"{h[0]:<9} {h[1]:>10} {h[2]:>10} {h[3]:>7} {h[4]:>12} {h[5]:>8} {h[6]:>6} {h[7]:>7}  {h[8]}",
    ]
    for r in results:
        worst = f"{r.worst_day.day} ({count(r.worst_day.underprovisioned_user_minutes, lang)})" if r.worst_day else "-"
        lines.append(
            f"{r.strategy:<9} {count(r.replica_hours, lang):>10} {count(r.cost_eur, lang):>10} {_ratio(r, lang):>7} "
            f"{count(r.underprovisioned_user_minutes, lang):>12} {percent(r.underprovisioned_share, lang):>8} "
            f"{r.saturated_hours:>6d} {r.scaling_actions:>7d}  {worst}"
        )
    days = [m.day for m in results[0].mornings] if results else []
    if days:
        lines.append("")
        lines.append(str(w["mornings"]))
        lines.append(f"{h[0]:<9} " + " ".join(f"{d.isoformat():>24}" for d in days))
        for r in results:
            cells = [
                f"{count(m.underprovisioned_user_minutes, lang):>12} / {count(m.peak_unserved_users, lang):>9}"
                for m in r.mornings
            ]
            lines.append(f"{r.strategy:<9} " + " ".join(cells))
    if sweep:
        lines.append("")
        lines.append(str(w["sweep"]))
        lines.append(f"{h[0]:<9} " + " ".join(f"{p.startup_s // 60:>10} min    " for p in sweep))
        for i, r in enumerate(results):
            cells = [
                f"{percent(p.results[i].underprovisioned_share, lang):>8} ×{_ratio(p.results[i], lang):>5}"
                for p in sweep
            ]
            lines.append(f"{r.strategy:<9} " + " ".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


def _ratio(r: StrategyResult, lang: str = "en") -> str:
    if r.cost_ratio_to_oracle is None:
        return "-"
    text = f"{r.cost_ratio_to_oracle:.2f}"
    return text.replace(".", ",") if lang == "fr" else text
