"""One collectivité's month, as plain data: what its mandate guarantees, what each day cost against the
budget, when users were kept out and why, and what the plan says for the weeks after.

Pure (no clock: `today` is a parameter): the month comes planned (`MonthPlan`); `plan_outlook` plans the
weeks after it. The words and charts are capacity/present/monthly_html.py; `capctl report` wires the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from capacity.calendar.types import Calendar
from capacity.planning.budget import MonthPlan, Rates, plan_month
from capacity.planning.kernel import Plan
from capacity.planning.report import budget_dict, explain_dict, funder_index
from capacity.policy.bundle import Policies
from capacity.policy.mandates.model import Mandate
from capacity.policy.topology import PROFILES

#: Length of the outlook after the month, in days (four weeks).
OUTLOOK_DAYS = 28
_EPS = 1e-6


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of the calendar month of `month`."""
    first = month.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def outlook_window(month: date, last_supported: date, today: date | None = None) -> tuple[date, date] | None:
    """The weeks to look ahead: after the month (or after `today` when it falls within it), within the calendar."""
    _, last = month_bounds(month)
    start = last + timedelta(days=1)
    if today is not None and month.replace(day=1) <= today <= last:
        start = today + timedelta(days=1)
    end = min(start + timedelta(days=OUTLOOK_DAYS - 1), last_supported)
    return (start, end) if start <= end else None


def plan_outlook(
    window: tuple[date, date], step_s: int, policies: Policies, calendar: Calendar, rates: Rates
) -> list[Plan]:
    """Plans of the outlook days, month by month with budgets; days some plaque cannot plan are left out."""
    out: list[Plan] = []
    month = window[0].replace(day=1)
    while month <= window[1]:
        out.extend(
            p for p in plan_month(month, step_s, policies, calendar, rates).days if window[0] <= p.day <= window[1]
        )
        month = month_bounds(month)[1] + timedelta(days=1)
    return out


def guarantees(mandate: Mandate, month: date) -> dict[str, Any]:
    """What the mandate promises, in its own terms (floors, ceilings, budget, exams, maintenance, admission)."""
    first, last = month_bounds(month)
    plaques = []
    for f in mandate.fundings:
        plaques.append(
            {
                "plaque": f.plaque,
                "levels": [lv.value for lv in f.levels],
                "departements": list(f.departements),
                "floor_users": mandate.floor_users.get(f.plaque),
                "components": [
                    {"component": name, "floor": lim.floor, "ceiling": lim.ceiling, "floor_users": lim.floor_users}
                    for name, lim in mandate.limits[f.plaque].items()
                ],
            }
        )
    return {
        "validity": {
            "from": None if mandate.validity.start == date.min else mandate.validity.start.isoformat(),
            "to": None if mandate.validity.end is None else mandate.validity.end.isoformat(),
        },
        "class_hours": str(mandate.class_hours),
        "monthly_budget_eur": mandate.monthly_budget_eur,
        "plaques": plaques,
        "exams": [
            {"name": e.name, "from": e.start.isoformat(), "to": e.end.isoformat(), "floor_users": e.floor_users}
            for e in mandate.exams
            if e.start <= last and e.end >= first
        ],
        "maintenance": [
            {"name": w.name, "start": w.start.isoformat(), "end": w.end.isoformat()}
            for w in mandate.maintenance
            if w.start.date() <= last and w.end.date() >= first
        ],
        "admission_order": [list(g) for g in mandate.shortfall.order],
        "quotas": {
            p: {"max_share": q.max_share, "closed": [str(r) for r in q.closed]}
            for p, q in mandate.shortfall.quotas.items()
        },
    }


def kept_out_slots(plan: Plan, mandate_id: str) -> list[dict[str, Any]]:
    """Per slot of the day where the mandate's users were kept out: time and users per profile (all plaques)."""
    totals: dict[str, dict[str, float]] = {}
    for pp in plan.plaques:
        f = funder_index(pp, mandate_id)
        sf = pp.shortfall
        if f is None or sf is None:
            continue
        kept = sf.kept_out[f]
        for slot, start in enumerate(pp.forecast.grid.starts):
            if kept[:, slot].sum() > _EPS:
                row = totals.setdefault(start.strftime("%H:%M"), dict.fromkeys(PROFILES, 0.0))
                for i, p in enumerate(PROFILES):
                    row[p] += float(kept[i, slot])
    return [{"at": at, **{p: round(v) for p, v in row.items()}} for at, row in sorted(totals.items())]


def _day_row(mandate: Mandate, plan: Plan, files: Mapping[str, str], budgets: Mapping[str, Any]) -> dict[str, Any]:
    explained = explain_dict(mandate, plan, budgets, files)
    comps = [c for pl in explained["plaques"] for c in pl["components"]]
    short = [{"plaque": pl["plaque"], **pl["shortfall"]} for pl in explained["plaques"] if pl["shortfall"]]
    return {
        "date": plan.day.isoformat(),
        "eur": round(sum(pl["eur"] for pl in explained["plaques"]), 2),
        "states": sorted({(s["level"], s["state"]) for pl in explained["plaques"] for s in pl["segments"]}),
        "hours_at_ceiling": max((c["hours_at_ceiling"] for c in comps), default=0.0),
        "hours_cut_by_budget": max((c["hours_cut_by_budget"] for c in comps), default=0.0),
        "peak_kept_out": max((s["peak_kept_out"] for s in short), default=0),
        "user_hours_kept_out": sum(s["user_hours_kept_out"] for s in short),
        "shortfalls": short,
        "slots": kept_out_slots(plan, mandate.id) if short else [],
        "exams": sorted({e for pl in explained["plaques"] for e in pl["exams"]}),
    }


def outlook_weeks(mandate: Mandate, plans: Sequence[Plan], files: Mapping[str, str]) -> list[dict[str, Any]]:
    """The following weeks, seven days at a time: cost, days with users kept out, the worst moment, events."""
    rows = [_day_row(mandate, p, files, {}) for p in plans]
    weeks = []
    for i in range(0, len(rows), 7):
        week = rows[i : i + 7]
        worst = max(week, key=lambda r: r["peak_kept_out"])
        weeks.append(
            {
                "from": week[0]["date"],
                "to": week[-1]["date"],
                "eur": round(sum(r["eur"] for r in week), 2),
                "days_short": [r["date"] for r in week if r["peak_kept_out"] > 0],
                "peak_kept_out": worst["peak_kept_out"],
                "peak_day": worst["date"] if worst["peak_kept_out"] > 0 else None,
                "hours_cut_by_budget": round(sum(r["hours_cut_by_budget"] for r in week), 2),
                "states": sorted({tuple(s) for r in week for s in r["states"]}),
                "exams": sorted({e for r in week for e in r["exams"]}),
            }
        )
    return weeks


def monthly_dict(
    mandate: Mandate,
    month: MonthPlan,
    outlook: Sequence[Plan],
    policy_files: Mapping[str, str],
) -> dict[str, Any]:
    """Everything the monthly report of `mandate` says, for the month planned in `month` (budgets applied)."""
    days = [_day_row(mandate, p, policy_files, month.budgets) for p in month.days if _funds(mandate, p)]
    spent = 0.0
    for d in days:
        spent += d["eur"]
        d["cumulative_eur"] = round(spent, 2)
    short = [d for d in days if d["peak_kept_out"] > 0]
    return {
        "collectivite": mandate.id,
        "nom": mandate.name,
        "type": mandate.kind,
        "month": month.month.strftime("%Y-%m"),
        "file": mandate.path,
        "file_sha256": mandate.sha256,
        "step_s": month.step_s,
        "contacts": [{"name": c.name, "role": c.role, "email": c.email} for c in mandate.contacts],
        "guarantees": guarantees(mandate, month.month),
        "budget": budget_dict(month.budgets.get(mandate.id), mandate),
        "total_eur": round(spent, 2),
        "days": days,
        "days_short": [d["date"] for d in short],
        "user_hours_kept_out": sum(d["user_hours_kept_out"] for d in days),
        "unfunded": {d.isoformat(): why for d, why in sorted(month.unfunded.items())},
        "outlook": outlook_weeks(mandate, [p for p in outlook if _funds(mandate, p)], policy_files),
    }


def _funds(mandate: Mandate, plan: Plan) -> bool:
    return any(funder_index(pp, mandate.id) is not None for pp in plan.plaques)
