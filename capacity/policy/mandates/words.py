"""The words of `capctl policy explain` and `policy diff`: plain French for collectivité contacts.

Pure: turns the plain data of capacity/planning/report.py into text. Numbers are written the French
way (1 234,5 ; 12,30 €), dates in full (mardi 6 avril 2021).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from capacity.policy.mandates.problems import LEVELS_FR

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
PROFILES_FR = {"eleves": "élèves", "enseignants": "enseignants", "parents": "parents"}
STATES_FR = {
    "presentiel": "en classe",
    "hybride": "en demi-jauge",
    "distanciel": "à distance",
    "vacances": "en vacances",
    "ferie": "férié",
    "weekend": "week-end",
}
KINDS_FR = {"ceiling": "plafond", "budget": "budget"}


def number(x: float, decimals: int = 0) -> str:
    """1234.5 → '1 234' (or '1 234,5' with decimals)."""
    text = f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text


def euros(x: float) -> str:
    return f"{number(x, 2)} €"


def hours(x: float) -> str:
    """10 → '10 h', 2.5 → '2,5 h', 0.25 → '0,25 h'."""
    if float(x).is_integer():
        return f"{number(x)} h"
    return f"{number(x, 2).rstrip('0').rstrip(',')} h"


def day_text(d: date) -> str:
    return f"{DAYS[d.weekday()]} {d.day}{'er' if d.day == 1 else ''} {MONTHS[d.month - 1]} {d.year}"


def month_text(ym: str) -> str:
    year, month = ym.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def clock(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")


def short_days(days: Sequence[str]) -> str:
    return ", ".join(f"{date.fromisoformat(d).day}" for d in days)


def shortfall_lines(s: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """Who was kept out, by which quota, and what caused it."""
    by = ", ".join(f"{number(v)} {PROFILES_FR[p]}" for p, v in s["kept_out_at_peak"].items() if v)
    lines = [
        f"{indent}Pénurie : jusqu'à {number(s['peak_kept_out'])} utilisateurs tenus à l'écart à {clock(s['at'])} "
        f"(sur {number(s['demand_at_peak'])} qui voulaient se connecter) : {by} ; "
        f"{number(s['user_hours_kept_out'])} utilisateurs·heures, pendant {hours(s['hours_short'])}."
    ]
    for q in s["quotas"]:
        who = PROFILES_FR[q["profile"]]
        if q["kind"] == "fermeture":
            lines.append(
                f"{indent}  Quota : {who} non admis pendant les plages de fermeture ({hours(q['hours'])} ; "
                f"jusqu'à {number(q['kept_out_max'])} {who} à la fois)."
            )
        else:
            lines.append(f"{indent}  Quota : {who} limités à leur part maximale de la capacité ({hours(q['hours'])}).")
    for c in s["causes"]:
        kind = KINDS_FR[c["kind"]]
        lines.append(
            f"{indent}  Cause : {kind} du mandat {s['collectivite']} sur le composant {c['component']} "
            f"({hours(c['hours'])})."
        )
    closure_only = s["hours_short"] - sum(c["hours"] for c in s["causes"])
    if closure_only > 1e-9:
        lines.append(
            f"{indent}  Le reste du temps ({hours(closure_only)}), seules les plages de fermeture tiennent des "
            "utilisateurs à l'écart : la capacité aurait suffi."
        )
    return lines


def explain_text(data: Mapping[str, Any]) -> str:
    d = date.fromisoformat(data["date"])
    out = [
        f"Mandat {data['collectivite']} ({data['nom']}) — {day_text(d)}",
        f"Fichier : {data['policy_file']} (empreinte {data['file_sha256'][:12]}) ; "
        f"politiques {data['policy_sha256'][:12]}",
    ]
    if not data["plaques"]:
        out.append("Ce mandat ne finance aucune plaque ce jour-là.")
    for pl in data["plaques"]:
        out.append("")
        states = sorted({f"{LEVELS_FR[s['level']]} {STATES_FR[s['state']]}" for s in pl["segments"]})
        depts = sorted({s["departement"] for s in pl["segments"]})
        out.append(f"Plaque {pl['plaque']} — {', '.join(states)} (départements {', '.join(depts)})")
        out.append(
            f"  {'composant':<10} {'plancher':>8} {'plafond':>7} {'réplicas':>9} {'h plancher':>10} "
            f"{'h plafond':>9} {'h budget':>8} {'dépense':>10}"
        )
        for c in pl["components"]:
            floor = str(c["floor_min"]) if c["floor_min"] == c["floor_max"] else f"{c['floor_min']}–{c['floor_max']}"
            ceiling = str(c["ceiling"])
            if c["budget_ceiling"] < c["ceiling"]:
                ceiling = f"{c['budget_ceiling']}/{c['ceiling']}"
            replicas = f"{c['replicas_min']}–{c['replicas_max']}"
            out.append(
                f"  {c['component']:<10} {floor:>8} {ceiling:>7} {replicas:>9} {hours(c['hours_at_floor']):>10} "
                f"{hours(c['hours_at_ceiling']):>9} {hours(c['hours_cut_by_budget']):>8} {euros(c['eur']):>10}"
            )
        out.append(f"  Dépense du jour sur cette plaque : {euros(pl['eur'])}.")
        for e in pl["exams"]:
            out.append(f"  Examens : « {e} » — plancher relevé pendant les heures de cours.")
        for w in pl["maintenance"]:
            out.append(
                f"  Maintenance : « {w['name']} » — pas de baisse de capacité "
                f"de {clock(w['start'])} à {clock(w['end'])}."
            )
        if pl["shortfall"]:
            out.extend(shortfall_lines(pl["shortfall"]))
        else:
            out.append("  Pénurie : aucune ; tous les utilisateurs prévus sont servis.")
    out.append("")
    out.extend(budget_lines(data["budget"]))
    return "\n".join(out)


def budget_lines(b: Mapping[str, Any] | None) -> list[str]:
    if b is None:
        return ["Budget : aucun budget mensuel dans ce mandat (seuls les plafonds limitent)."]
    if "month" not in b:
        return [f"Budget : {euros(b['monthly_eur'])} par mois (pas de tarifs de l'opérateur pour le vérifier)."]
    month = month_text(b["month"])
    share = 100 * b["planned_eur"] / b["monthly_eur"] if b["monthly_eur"] else 0.0
    of = "d'" if month[0] in "aeiouy" else "de "
    lines = [
        f"Budget {of}{month} : {euros(b['monthly_eur'])} ; prévision du mois {euros(b['planned_eur'])} "
        f"({number(share)} %), dont planchers {euros(b['floors_eur'])}."
    ]
    if b["binding"]:
        lines.append(
            f"  Sans limite budgétaire le mois coûterait {euros(b['forecast_eur'])} : les plafonds sont ramenés à "
            f"{number(100 * b['level'])} % pour tout le mois."
        )
        if b["cut_days"]:
            lines.append(f"  Jours où le budget réduit la capacité : {short_days(b['cut_days'])} {month}.")
        if b["short_days"]:
            lines.append(f"  Jours où il laisse des utilisateurs dehors : {short_days(b['short_days'])} {month}.")
    else:
        lines.append("  Le budget suffit : il ne limite pas la capacité ce mois-ci.")
    if b["floors_over_budget"]:
        lines.append("  Attention : les planchers coûtent à eux seuls plus que le budget ; ils restent garantis.")
    return lines


DIFF_LABELS = {
    "eur": "dépense (€)",
    "replica_hours": "réplicas·heures",
    "hours_at_ceiling": "heures au plafond",
    "hours_cut_by_budget": "heures limitées par le budget",
    "peak_kept_out": "pointe d'utilisateurs tenus à l'écart",
    "user_hours_kept_out": "utilisateurs·heures tenus à l'écart",
    "days_short": "jours de pénurie",
}


def diff_text(data: Mapping[str, Any]) -> str:
    out = [
        f"Effet de la modification du {day_text(date.fromisoformat(data['from']))} au "
        f"{day_text(date.fromisoformat(data['to']))}",
        f"  avant : {data['old']} ({data['old_sha256'][:12]})",
        f"  après : {data['new']} ({data['new_sha256'][:12]})",
    ]
    changed = [r for r in data["collectivites"] if r["changed"]]
    if not changed:
        out.append("Aucun changement de coût, de capacité ni de pénurie sur la période.")
        return "\n".join(out)
    for row in changed:
        out.append("")
        out.append(f"{row['collectivite']}")
        out.append(f"  {'':<38} {'avant':>12} {'après':>12} {'écart':>12}")
        for key, label in DIFF_LABELS.items():
            v = row[key]
            dec = 2 if key == "eur" else 0
            sign = "+" if v["change"] > 0 else ""
            out.append(
                f"  {label:<38} {number(v['old'], dec):>12} {number(v['new'], dec):>12} "
                f"{sign + number(v['change'], dec):>12}"
            )
    unchanged = len(data["collectivites"]) - len(changed)
    if unchanged:
        out.append("")
        out.append(f"{unchanged} autre(s) collectivité(s) sans changement.")
    return "\n".join(out)
