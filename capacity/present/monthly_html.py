"""The monthly report of one collectivité as one self-contained French HTML page.

Reads the plain data of capacity/planning/monthly.py. Inline CSS and SVG only: no script, no font, no
image, no link to fetch, so the page opens offline, can be mailed as one file and prints on A4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

from capacity.planning.reasons import Reason
from capacity.policy.mandates import words
from capacity.policy.mandates.problems import LEVELS_FR
from capacity.policy.mandates.words import PROFILES_FR, STATES_FR, clock, day_text, hours, month_text
from capacity.present import palette
from capacity.present.svg import Layer, Line, bars, legend

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:820px;margin:2em auto;
padding:0 1em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
.sub{color:#555;margin-top:0}.box{background:#f4f7fb;border-left:4px solid #0072B2;padding:.6em 1em}
.warn{background:#fdf1ea;border-left-color:#D55E00}
table{border-collapse:collapse;width:100%;margin:.6em 0;font-size:.92em}
th,td{border-bottom:1px solid #e2e2e2;padding:.25em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.legend{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:1.2em;font-size:.9em}
.key{display:inline-block;width:12px;height:12px;margin-right:.4em;vertical-align:-1px}
.key.line{height:0;border-top:3px dashed;width:18px;vertical-align:3px}
svg{max-width:100%;height:auto}footer{margin-top:2.5em;color:#666;font-size:.85em}
@media print{body{margin:0}h2{break-after:avoid}svg,table{break-inside:avoid}}
"""


def euros(x: float) -> str:
    """Like words.euros, with non-breaking spaces: "1 320,72 €" never breaks across lines."""
    return words.euros(x).replace(" ", "\u00a0")


def number(x: float) -> str:
    return words.number(x).replace(" ", "\u00a0")


def _d(iso: str) -> str:
    return day_text(date.fromisoformat(iso))


def _moment(iso: str) -> str:
    """'2021-08-24T20:00:00+02:00' → 'mardi 24 août 2021 à 20:00' (Paris time, as the mandate says it)."""
    return f"{day_text(date.fromisoformat(iso[:10]))} à {clock(iso)}"


def _short_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day}"


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{text}</p>' if cls else f"<p>{text}</p>"


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    th = "".join(f'<th class="{"n" if i in numeric else ""}">{h}</th>' for i, h in enumerate(heads))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _levels(levels: Sequence[str]) -> str:
    return ", ".join(LEVELS_FR[lv] for lv in levels)


def _guarantees(g: Mapping[str, Any]) -> str:
    out = []
    valid = g["validity"]
    period = (
        f"du {_d(valid['from'])} au {_d(valid['to'])}"
        if valid["from"] and valid["to"]
        else f"à partir du {_d(valid['from'])}"
        if valid["from"]
        else "sans limite de dates"
    )
    budget = g["monthly_budget_eur"]
    out.append(
        "<ul>"
        f"<li>Mandat en vigueur {period}.</li>"
        f"<li>Heures de cours : {escape(g['class_hours'].replace('-', ' – '))}, du lundi au vendredi les jours de "
        "classe.</li>"
        + (
            f"<li>Budget : au plus <strong>{euros(budget)}</strong> par mois.</li>"
            if budget is not None
            else "<li>Pas de budget mensuel : seuls les plafonds limitent la dépense.</li>"
        )
        + "</ul>"
    )
    for pl in g["plaques"]:
        depts = ", ".join(pl["departements"]) if pl["departements"] else "tous les départements de la plaque"
        users = (
            f" ; <strong>{number(pl['floor_users'])} utilisateurs</strong> servis à coup sûr pendant les heures "
            "de cours"
            if pl["floor_users"]
            else ""
        )
        out.append(_p(f"Plaque <strong>{escape(pl['plaque'])}</strong> : {_levels(pl['levels'])} ({depts}){users}."))
        rows = [
            [
                escape(c["component"]),
                str(c["floor"]),
                str(c["ceiling"]),
                number(c["floor_users"]) if c["floor_users"] else "—",
            ]
            for c in pl["components"]
        ]
        out.append(
            _table(
                ["Composant", "Plancher (réplicas)", "Plafond (réplicas)", "Plancher (utilisateurs)"], rows, (1, 2, 3)
            )
        )
    for e in g["exams"]:
        floor = f" : {number(e['floor_users'])} utilisateurs garantis" if e["floor_users"] else ""
        out.append(_p(f"Examens « {escape(e['name'])} » du {_d(e['from'])} au {_d(e['to'])}{floor}."))
    for w in g["maintenance"]:
        out.append(
            _p(
                f"Maintenance « {escape(w['name'])} » : pas de baisse de capacité du {_moment(w['start'])} "
                f"au {_moment(w['end'])}."
            )
        )
    order = " puis ".join(" et ".join(PROFILES_FR[p] for p in group) for group in g["admission_order"])
    out.append(_p(f"En cas de pénurie, sont admis d'abord : {order}."))
    for profile, q in g["quotas"].items():
        rules = []
        if q["max_share"] is not None:
            rules.append(f"au plus {number(100 * q['max_share'])} % de la capacité")
        if q["closed"]:
            rules.append("non admis " + ", ".join(f"de {r.replace('-', ' à ')}" for r in q["closed"]))
        out.append(_p(f"Quota des {PROFILES_FR[profile]} les jours de pénurie : {' ; '.join(rules)}."))
    return "\n".join(out)


def _budget(data: Mapping[str, Any]) -> str:
    b, days = data["budget"], data["days"]
    month = month_text(data["month"])
    out = []
    if b is not None and "month" in b:
        share = 100 * b["planned_eur"] / b["monthly_eur"] if b["monthly_eur"] else 0.0
        text = (
            f"Dépense prévue pour {month} : <strong>{euros(b['planned_eur'])}</strong> sur un budget de "
            f"{euros(b['monthly_eur'])} ({number(share)} %), dont {euros(b['floors_eur'])} pour les planchers."
        )
        if b["binding"]:
            text += (
                f" Sans limite budgétaire, le mois aurait coûté {euros(b['forecast_eur'])} : les plafonds ont été "
                f"ramenés à {number(100 * b['level'])} % pour tout le mois."
            )
        out.append(_p(text, "box warn" if b["binding"] else "box"))
    else:
        out.append(_p(f"Dépense prévue pour {month} : <strong>{euros(data['total_eur'])}</strong>.", "box"))
    labels = [_short_day(d["date"]) for d in days]
    cut = [d["eur"] if d["hours_cut_by_budget"] > 0 else 0.0 for d in days]
    short = [d["eur"] if d["peak_kept_out"] > 0 and not d["hours_cut_by_budget"] else 0.0 for d in days]
    plain = [d["eur"] - c - s for d, c, s in zip(days, cut, short, strict=True)]
    keys = [("Dépense du jour", palette.SERIES["cost"], False)]
    if any(cut):
        keys.append(("Jour où le budget abaisse la capacité", palette.SERIES["budget_cut"], False))
    if any(short):
        keys.append(("Jour avec des utilisateurs tenus à l'écart", palette.SERIES["shortfall"], False))
    out.append(legend(keys))
    out.append(
        bars(
            f"Dépense par jour en {month}, en euros",
            labels,
            [
                Layer("dépense", plain, palette.SERIES["cost"]),
                Layer("budget limitant", cut, palette.SERIES["budget_cut"]),
                Layer("pénurie", short, palette.SERIES["shortfall"]),
            ],
            unit="€ / jour",
            fmt="{:,.0f}",
        )
    )
    if b is not None and b.get("monthly_eur"):
        out.append(
            legend(
                [("Dépense cumulée", palette.SERIES["cost"], False), ("Budget du mois", palette.SERIES["budget"], True)]
            )
        )
        out.append(
            bars(
                f"Dépense cumulée en {month} et budget, en euros",
                labels,
                [Layer("dépense cumulée", [d["cumulative_eur"] for d in days], palette.SERIES["cost"])],
                lines=[Line("budget", [b["monthly_eur"]], palette.SERIES["budget"], dashed=True)],
                unit="€ cumulés",
            )
        )
    rows = [
        [
            _d(d["date"]),
            escape(", ".join(sorted({f"{LEVELS_FR[lv]} {STATES_FR[st]}" for lv, st in d["states"]}))),
            euros(d["eur"]),
            euros(d["cumulative_eur"]),
            hours(d["hours_cut_by_budget"]) if d["hours_cut_by_budget"] else "—",
            number(d["peak_kept_out"]) if d["peak_kept_out"] else "—",
        ]
        for d in days
    ]
    out.append(
        "<details><summary>Le détail jour par jour</summary>"
        + _table(
            ["Jour", "Élèves", "Dépense", "Cumul", "Heures limitées par le budget", "Tenus à l'écart (pointe)"],
            rows,
            (2, 3, 4, 5),
        )
        + "</details>"
    )
    return "\n".join(out)


def _shortfalls(data: Mapping[str, Any]) -> str:
    days = [d for d in data["days"] if d["peak_kept_out"] > 0]
    if not days:
        return _p("Aucun utilisateur n'a été tenu à l'écart ce mois-ci : la capacité financée a suffi.", "box")
    out = [
        _p(
            f"Des utilisateurs ont été tenus à l'écart <strong>{len(days)} jour(s)</strong> "
            f"({number(data['user_hours_kept_out'])} utilisateurs·heures au total).",
            "box warn",
        )
    ]
    for d in days:
        out.append(f"<h3>{_d(d['date'])}</h3>")
        for s in d["shortfalls"]:
            who = ", ".join(f"{number(v)} {PROFILES_FR[p]}" for p, v in s["kept_out_at_peak"].items() if v)
            out.append(
                _p(
                    f"Plaque {escape(s['plaque'])} : jusqu'à "
                    f"<strong>{number(s['peak_kept_out'])} utilisateurs</strong> "
                    f"tenus à l'écart à {clock(s['at'])} (sur {number(s['demand_at_peak'])} qui voulaient se "
                    f"connecter) : {who} ; pendant {hours(s['hours_short'])}."
                )
            )
            why = [
                f"{Reason.parse(c['reason']).message('fr')}, composant {escape(c['component'])} ({hours(c['hours'])})"
                for c in s["causes"]
            ]
            why += [
                f"quota des {PROFILES_FR[q['profile']]} : "
                + ("plages de fermeture" if q["kind"] == "fermeture" else "part maximale de la capacité")
                + f" ({hours(q['hours'])})"
                for q in s["quotas"]
            ]
            if why:
                out.append("<p>Pourquoi :</p><ul>" + "".join(f"<li>{w}</li>" for w in why) + "</ul>")
        slots = d["slots"]
        keys = [(PROFILES_FR[p], palette.PROFILES[p], False) for p in palette.PROFILES]
        out.append(legend(keys))
        out.append(
            bars(
                f"Utilisateurs tenus à l'écart le {_d(d['date'])}, par heure et par profil",
                [s["at"][:2] + " h" for s in slots],
                [Layer(PROFILES_FR[p], [s[p] for s in slots], c) for p, c in palette.PROFILES.items()],
                unit="utilisateurs",
                height=220,
            )
        )
    return "\n".join(out)


def _outlook(data: Mapping[str, Any]) -> str:
    weeks = data["outlook"]
    if not weeks:
        return _p("Le calendrier scolaire connu s'arrête là : pas de prévision au-delà.")
    rows = []
    for w in weeks:
        states = ", ".join(sorted({f"{LEVELS_FR[lv]} {STATES_FR[st]}" for lv, st in w["states"] if st != "weekend"}))
        risk = (
            f"{len(w['days_short'])} jour(s), jusqu'à {number(w['peak_kept_out'])} le {_d(w['peak_day'])}"
            if w["peak_day"]
            else "aucune prévue"
        )
        rows.append([f"du {_d(w['from'])}<br>au {_d(w['to'])}", escape(states) or "—", euros(w["eur"]), risk])
    return _p(
        "Ce que le plan prévoit pour les semaines suivantes (prévision actuelle ; elle s'affine chaque jour)."
    ) + _table(["Semaine", "Élèves", "Dépense prévue", "Pénurie"], rows, (2,))


def monthly_html(data: Mapping[str, Any], version: str = "") -> str:
    """The page: header, guarantees, cost against budget, users kept out, the coming weeks."""
    month = month_text(data["month"])
    title = f"{data['nom']} — rapport de {month}" if month[0] not in "aeiouy" else f"{data['nom']} — rapport d'{month}"
    contacts = ", ".join(escape(c["name"]) for c in data["contacts"])
    file_name = data["file"].rsplit("/", 1)[-1]
    sections = [
        f"<h1>{escape(title)}</h1>",
        _p(f"Mandat {escape(data['collectivite'])} ({escape(file_name)}){' — ' + contacts if contacts else ''}", "sub"),
        "<h2>Ce que le mandat garantit</h2>",
        _guarantees(data["guarantees"]),
        "<h2>La dépense du mois et le budget</h2>",
        _budget(data),
        "<h2>Les utilisateurs tenus à l'écart, et pourquoi</h2>",
        _shortfalls(data),
        "<h2>Les semaines à venir</h2>",
        _outlook(data),
        f"<footer>Établi par capctl {escape(version)} à partir du mandat {escape(file_name)} "
        f"(empreinte {escape(data['file_sha256'][:12])}) ; créneaux de {data['step_s'] // 60} min ; "
        "montants au tarif de l'opérateur, prévisions du calendrier scolaire.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
