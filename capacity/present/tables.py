"""Turn plans and calendar answers into plain data (for JSON/YAML) and compact text tables.

Pure: returns values and strings; only the CLI prints them.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from capacity.calendar.types import DayInfo, Level
from capacity.common.numbers import count
from capacity.planning.demand import DayForecast
from capacity.planning.kernel import ComponentPlan, Plan, PlaquePlan
from capacity.planning.reasons import Reason
from capacity.planning.report import plan_shortfalls
from capacity.policy.mandates.words import PROFILES_FR
from capacity.policy.topology import Plaque

OUTPUTS = ("table", "json", "yaml")


def dump(data: Any, output: str) -> str:
    """Serialise plain data as JSON or YAML."""
    if output == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def day_info_dict(info: DayInfo) -> dict[str, Any]:
    return {
        "state": info.state.value,
        "rentree": info.rentree,
        "bascule": info.bascule,
        "because": list(info.because),
    }


def level_states(pp: PlaquePlan) -> dict[str, dict[str, Any]]:
    """Day state per level of a plaque; when départements differ, the most common one plus the others."""
    return forecast_level_states(pp.plaque, pp.forecast)


def forecast_level_states(plaque: Plaque, forecast: DayForecast) -> dict[str, dict[str, Any]]:
    """`level_states` for a bare forecast (no plan), as `capctl forecast` shows it."""
    out: dict[str, dict[str, Any]] = {}
    for level in plaque.levels:
        infos = [i for s, i in zip(plaque.segments, forecast.infos, strict=True) if s.level is level]
        counts = Counter(i.state for i in infos)
        main = counts.most_common(1)[0][0]
        first = next(i for i in infos if i.state is main)
        entry = day_info_dict(first)
        others = {
            s.departement: i.state.value
            for s, i in zip(plaque.segments, forecast.infos, strict=True)
            if s.level is level and i.state is not main
        }
        if others:
            entry["exceptions"] = others
        out[level.value] = entry
    return out


def component_dict(pp: PlaquePlan, cp: ComponentPlan) -> dict[str, Any]:
    t = cp.component.target
    slots = []
    for i, start in enumerate(pp.forecast.grid.starts):
        slots.append(
            {
                "start": start.isoformat(),
                "demand": round(float(pp.forecast.users[i]), 1),
                "wish": int(cp.wish[i]),
                "replicas": int(cp.replicas[i]),
                "floor": int(cp.floor[i]),
                "ceiling": int(cp.ceiling[i]),
                "reasons": list(cp.reasons(i)),
                "funders": [
                    {
                        "collectivite": fid,
                        "wish": int(cp.funder_wish[f, i]),
                        "replicas": int(cp.funder_replicas[f, i]),
                    }
                    for f, fid in enumerate(cp.funder_ids)
                ],
            }
        )
    target: dict[str, Any] = {"namespace": t.namespace, "kind": t.kind, "name": t.name}
    if t.hpa:
        target["hpa"] = t.hpa
    return {"component": cp.component.name, "target": target, "slots": slots}


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "date": plan.day.isoformat(),
        "step_s": plan.step_s,
        "policy_sha256": plan.policy_sha256,
        "rates": plan.rates_source,
        "plaques": [
            {
                "plaque": pp.plaque.id,
                "zone": pp.plaque.zone,
                "levels": level_states(pp),
                "components": [component_dict(pp, cp) for cp in pp.components],
                "cost_eur": _costs(pp),
                "shortfall": [s for s in plan_shortfalls(plan) if s["plaque"] == pp.plaque.id],
            }
            for pp in plan.plaques
        ],
        "policy_files": dict(plan.policy_files),
        "budget_levels": dict(plan.budget_levels),
    }


def _costs(pp: PlaquePlan) -> dict[str, float]:
    """Euros per funder over the day (every component)."""
    ids = pp.components[0].funder_ids if pp.components else ()
    cost = pp.funder_cost_eur()
    return {fid: round(float(cost[f].sum()), 2) for f, fid in enumerate(ids)}


def _fmt_int(value: float) -> str:
    return count(value, "fr")  # a space between thousands (25 769) reads well in both languages


def _state_cell(pp: PlaquePlan) -> str:
    parts = []
    for level, entry in level_states(pp).items():
        mark = "*" if entry["rentree"] else ("!" if entry["bascule"] else "")
        short = {"ecole": "éc", "college": "col", "lycee": "lyc"}[level]
        parts.append(f"{short}:{entry['state']}{mark}")
    return " ".join(parts)


_PLAN_WORDS = {
    "en": {
        "title": "capctl plan {day}  (step {step} min, rates: {rates})",
        "heads": ("plaque", "z", "day states", "peak users", "replicas", "h@ceil"),
        "legend": (
            "* rentrée  ! bascule (first day of a new state)  replicas: peak sum over components",
            "h@ceil: hours some component sits at its mandate ceiling",
        ),
        "short": "Short of capacity (users kept out at the peak; cause; admission quotas applied):",
        "closures": "closures only",
        "none": "none",
        "at": "at",
        "quotas": "quotas",
    },
    "fr": {
        "title": "capctl plan {day}  (pas de {step} min, taux : {rates})",
        "heads": ("plaque", "z", "états du jour", "pointe (util.)", "réplicas", "h@plaf"),
        "legend": (
            "* rentrée  ! bascule (premier jour d'un nouvel état)  réplicas : somme des pointes des composants",
            "h@plaf : heures où un composant est au plafond de son mandat",
        ),
        "short": "Capacité insuffisante (utilisateurs tenus à l'écart à la pointe ; cause ; quotas appliqués) :",
        "closures": "fermetures seulement",
        "none": "aucun",
        "at": "à",
        "quotas": "quotas",
    },
}
_QUOTAS_FR = {"fermeture": "plages de fermeture", "part_max": "part maximale"}


def plan_table(plan: Plan, lang: str = "en") -> str:
    """Compact per-plaque summary that fits 100 columns, in one language (`lang`: en or fr)."""
    w = _PLAN_WORDS[lang]
    plaque_h, zone_h, states_h, peak_h, replicas_h, ceil_h = w["heads"]
    head = f"{plaque_h:<24} {zone_h:<1} {states_h:<32} {peak_h:>16} {replicas_h:>8} {ceil_h:>6}"
    lines = [
        str(w["title"]).format(day=plan.day.isoformat(), step=plan.step_s // 60, rates=plan.rates_source),
        head,
        "-" * len(head),
    ]
    hours = plan.step_s / 3600
    for pp in plan.plaques:
        users = pp.forecast.users
        peak = int(users.argmax())
        at = pp.forecast.grid.starts[peak].strftime("%H:%M")
        replicas = sum(int(cp.replicas.max()) for cp in pp.components)
        at_ceiling = max(float(cp.ceiling_hit.any(axis=0).sum()) * hours for cp in pp.components)
        lines.append(
            f"{pp.plaque.id:<24} {pp.plaque.zone:<1} {_state_cell(pp):<32} "
            f"{_fmt_int(float(users[peak])):>10} {at:>5} {replicas:>8} {at_ceiling:>6.1f}"
        )
    lines.append("")
    lines.extend(w["legend"])
    lines.extend(shortfall_lines(plan_shortfalls(plan), lang))
    return "\n".join(lines)


def shortfall_lines(items: Sequence[dict[str, Any]], lang: str = "en") -> list[str]:
    """Who falls short that day: users kept out at the peak, the clamp that caused it, the quotas applied."""
    if not items:
        return []
    w = _PLAN_WORDS[lang]
    out = ["", str(w["short"])]
    for s in items:
        if lang == "fr":
            causes = sorted({f"{Reason.parse(c['reason']).message('fr')} ({c['component']})" for c in s["causes"]})
            quotas = sorted({f"{PROFILES_FR[q['profile']]} : {_QUOTAS_FR[q['kind']]}" for q in s["quotas"]})
        else:
            causes = sorted({f"{c['reason']} ({c['component']})" for c in s["causes"]})
            quotas = sorted({f"{q['profile']} {q['kind']}" for q in s["quotas"]})
        sep = " ; " if lang == "fr" else "; "
        text = (
            f"{s['plaque']} / {s['collectivite']}: {_fmt_int(s['peak_kept_out'])} {w['at']} {s['at'][11:16]}{sep}"
            f"{', '.join(causes) or w['closures']}{sep}{w['quotas']} : {', '.join(quotas) or w['none']}"
            if lang == "fr"
            else f"{s['plaque']} / {s['collectivite']}: {_fmt_int(s['peak_kept_out'])} {w['at']} {s['at'][11:16]}; "
            f"{', '.join(causes) or w['closures']}; {w['quotas']}: {', '.join(quotas) or w['none']}"
        )
        out.extend(textwrap.wrap(text, width=100, initial_indent="  ", subsequent_indent="      "))
    return out


def calendar_dict(day: str, places: Sequence[tuple[dict[str, str | None], dict[Level, DayInfo]]]) -> dict[str, Any]:
    return {
        "date": day,
        "places": [
            {**place, "levels": {lv.value: day_info_dict(info) for lv, info in infos.items()}}
            for place, infos in places
        ],
    }


_CALENDAR_HEADS = {
    "en": ("place", "level", "state", "rentrée", "yes", "because"),
    "fr": ("lieu", "niveau", "état", "rentrée", "oui", "pourquoi"),
}


def calendar_table(data: dict[str, Any], lang: str = "en") -> str:
    """One line per place and level; headers and words in one language (`lang`)."""
    place_h, level_h, state_h, rentree_h, yes, why_h = _CALENDAR_HEADS[lang]
    lines = [f"{place_h:<28} {level_h:<8} {state_h:<11} {rentree_h:<7} {why_h}"]
    for place in data["places"]:
        label = place["departement"] or place["academie"] or f"zone {place['zone']}"
        if place["departement"] or place["academie"]:
            label = f"{label} (zone {place['zone']})"
        for level, info in place["levels"].items():
            lines.append(
                f"{label:<28} {level:<8} {info['state']:<11} {yes if info['rentree'] else '':<7} "
                f"{'; '.join(info['because'])}"
            )
            label = ""
    return "\n".join(lines)
