"""What a plan did for and to each mandate, as plain data (for JSON/YAML) — the words are in explain.py.

Pure: reads plans, never plans itself. Used by `capctl plan` (who fell short on a day), `capctl policy
explain` (one mandate, one day) and `capctl policy diff` (two bundles over a period).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from capacity.planning.budget import BudgetState
from capacity.planning.kernel import Plan, PlaquePlan
from capacity.planning.shortfall import CAUSE_NAMES, Shortfall
from capacity.policy.mandates.model import Mandate
from capacity.policy.topology import PROFILES

_EPS = 1e-6


def funder_index(pp: PlaquePlan, mandate_id: str) -> int | None:
    ids = pp.components[0].funder_ids if pp.components else ()
    return ids.index(mandate_id) if mandate_id in ids else None


def shortfall_dict(pp: PlaquePlan, f: int) -> dict[str, Any] | None:
    """Users kept out of one funder's part of a plaque-day, the quotas that applied and why (None: nobody)."""
    sf = pp.shortfall
    if sf is None:
        return None
    kept = sf.kept_out[f]
    total = kept.sum(axis=0)
    if not (total > _EPS).any():
        return None
    step_h = pp.forecast.grid.step_s / 3600
    peak = int(total.argmax())
    fid = sf.funder_ids[f]
    policy_quotas = _quotas(pp, f)
    return {
        "collectivite": fid,
        "peak_kept_out": round(float(total[peak])),
        "at": pp.forecast.grid.starts[peak].isoformat(),
        "demand_at_peak": round(float(sf.demand[f][:, peak].sum())),
        "kept_out_at_peak": {p: round(float(kept[i, peak])) for i, p in enumerate(PROFILES)},
        "max_kept_out": {p: round(float(kept[i].max())) for i, p in enumerate(PROFILES)},
        "user_hours_kept_out": round(float(total.sum() * step_h)),
        "hours_short": round(float((total > _EPS).sum() * step_h), 2),
        "quotas": policy_quotas,
        "causes": _causes(pp, sf, f),
    }


def _quotas(pp: PlaquePlan, f: int) -> list[dict[str, Any]]:
    sf = pp.shortfall
    assert sf is not None
    out: list[dict[str, Any]] = []
    step_h = pp.forecast.grid.step_s / 3600
    for i, profile in enumerate(PROFILES):
        if sf.closed[f, i].any():
            out.append(
                {
                    "profile": profile,
                    "kind": "fermeture",
                    "hours": round(float(sf.closed[f, i].sum() * step_h), 2),
                    "kept_out_max": round(float((sf.demand[f, i] * sf.closed[f, i]).max())),
                }
            )
        if sf.capped[f, i].any():
            out.append(
                {"profile": profile, "kind": "part_max", "hours": round(float(sf.capped[f, i].sum() * step_h), 2)}
            )
    return out


def _causes(pp: PlaquePlan, sf: Shortfall, f: int) -> list[dict[str, Any]]:
    """Which clamp of which component limited the funder where users were kept out by capacity."""
    lost = (sf.kept_out[f].sum(axis=0) > _EPS) & (sf.cause[f] != 0)
    out: dict[tuple[str, str], int] = {}
    for slot in np.flatnonzero(lost):
        kind = CAUSE_NAMES[int(sf.cause[f, slot])]
        comp = pp.components[int(sf.bottleneck[f, slot])].component.name
        out[(kind, comp)] = out.get((kind, comp), 0) + 1
    step_h = pp.forecast.grid.step_s / 3600
    fid = sf.funder_ids[f]
    return [
        {"reason": f"{kind}:{fid}", "kind": kind, "component": comp, "hours": round(n * step_h, 2)}
        for (kind, comp), n in sorted(out.items())
    ]


def plan_shortfalls(plan: Plan) -> list[dict[str, Any]]:
    """Every plaque and funder that falls short on the plan's day."""
    out = []
    for pp in plan.plaques:
        for f in range(len(pp.components[0].funder_ids) if pp.components else 0):
            entry = shortfall_dict(pp, f)
            if entry is not None:
                out.append({"plaque": pp.plaque.id, **entry})
    return out


def component_rows(pp: PlaquePlan, f: int) -> list[dict[str, Any]]:
    """Per component: floor and ceiling that applied, hours at each, replicas and euros for one funder."""
    step_h = pp.forecast.grid.step_s / 3600
    rows = []
    for cp in pp.components:
        floor = cp.funder_floor[f] if cp.funder_floor is not None else np.zeros(len(cp.need), dtype=np.int64)
        cap = cp.funder_cap[f] if cp.funder_cap is not None else np.full(len(cp.need), -1)
        ceiling = int(cp.funder_ceiling[f])
        r = cp.funder_replicas[f]
        rows.append(
            {
                "component": cp.component.name,
                "floor_min": int(floor.min()),
                "floor_max": int(floor.max()),
                "ceiling": ceiling,
                "budget_ceiling": int(cap.min()),
                "replicas_min": int(r.min()),
                "replicas_max": int(r.max()),
                "hours_at_floor": round(float(cp.floor_hit[f].sum() * step_h), 2),
                "hours_at_ceiling": round(float(cp.ceiling_hit[f].sum() * step_h), 2),
                "hours_cut_by_budget": round(float(_sum(cp.budget_hit, f) * step_h), 2),
                "hours_held_for_maintenance": round(float(_sum(cp.hold_hit, f) * step_h), 2),
                "replica_hours": round(float(r.sum() * step_h), 2),
                "eur": round(float(cp.funder_cost_eur[f].sum()), 2),
            }
        )
    return rows


def _sum(mask: np.ndarray[Any, Any] | None, f: int) -> int:
    return 0 if mask is None else int(mask[f].sum())


def budget_dict(state: BudgetState | None, mandate: Mandate) -> dict[str, Any] | None:
    if state is None:
        return None if mandate.monthly_budget_eur is None else {"monthly_eur": mandate.monthly_budget_eur}
    return {
        "month": state.month.strftime("%Y-%m"),
        "monthly_eur": round(state.budget_eur, 2),
        "spent_before_eur": round(state.spent_eur, 2),
        "forecast_eur": round(state.forecast_eur, 2),
        "planned_eur": round(state.planned_eur, 2),
        "floors_eur": round(state.floor_eur, 2),
        "level": round(state.level, 4),
        "binding": state.binding,
        "floors_over_budget": state.floors_over_budget,
        "cut_days": [d.isoformat() for d in state.cut_days],
        "short_days": [d.isoformat() for d in state.short_days],
    }


def explain_dict(
    mandate: Mandate, plan: Plan, budgets: Mapping[str, BudgetState], policy_files: Mapping[str, str]
) -> dict[str, Any]:
    """What mandate `mandate` did to the plan of `plan.day`, per plaque it funds."""
    plaques = []
    for pp in plan.plaques:
        f = funder_index(pp, mandate.id)
        if f is None:
            continue
        infos = [
            {
                "level": s.level.value,
                "departement": s.departement,
                "state": i.state.value,
                "rentree": i.rentree,
                "bascule": i.bascule,
            }
            for k, (s, i) in enumerate(zip(pp.plaque.segments, pp.forecast.infos, strict=True))
            if k in _segments(pp, mandate)
        ]
        cost = pp.funder_cost_eur()[f]
        plaques.append(
            {
                "plaque": pp.plaque.id,
                "segments": infos,
                "components": component_rows(pp, f),
                "eur": round(float(cost.sum()), 2),
                "shortfall": shortfall_dict(pp, f),
                "exams": [e.name for e in mandate.exams if e.applies(pp.plaque.id, plan.day)],
                "maintenance": [
                    {"name": w.name, "start": w.start.isoformat(), "end": w.end.isoformat()}
                    for w in mandate.maintenance
                    if (w.plaque in (None, pp.plaque.id)) and w.start.date() <= plan.day <= w.end.date()
                ],
            }
        )
    name = next((k for k in policy_files if k.endswith(mandate.path.rsplit("/", 1)[-1])), mandate.path)
    return {
        "collectivite": mandate.id,
        "nom": mandate.name,
        "date": plan.day.isoformat(),
        "file": mandate.path,
        "file_sha256": mandate.sha256,
        "policy_sha256": plan.policy_sha256,
        "policy_file": name,
        "budget": budget_dict(budgets.get(mandate.id), mandate),
        "plaques": plaques,
    }


def _segments(pp: PlaquePlan, mandate: Mandate) -> set[int]:
    funding = mandate.funding_for(pp.plaque.id)
    if funding is None:
        return set()
    return {i for i, s in enumerate(pp.plaque.segments) if funding.covers(s.level, s.departement)}


def period_totals(plans: Sequence[Plan]) -> dict[str, dict[str, float]]:
    """Per collectivité over a period: euros, replica-hours, users kept out (peak, user-hours), days short."""
    out: dict[str, dict[str, float]] = {}
    for plan in plans:
        for pp in plan.plaques:
            step_h = pp.forecast.grid.step_s / 3600
            cost = pp.funder_cost_eur()
            ids = pp.components[0].funder_ids if pp.components else ()
            for f, fid in enumerate(ids):
                t = out.setdefault(
                    fid,
                    {
                        "eur": 0.0,
                        "replica_hours": 0.0,
                        "peak_kept_out": 0.0,
                        "user_hours_kept_out": 0.0,
                        "days_short": 0.0,
                        "hours_at_ceiling": 0.0,
                        "hours_cut_by_budget": 0.0,
                    },
                )
                t["eur"] += float(cost[f].sum())
                t["replica_hours"] += float(sum(cp.funder_replicas[f].sum() for cp in pp.components) * step_h)
                ceiling = np.any([cp.ceiling_hit[f] for cp in pp.components], axis=0)
                budget = np.any([cp.budget_hit[f] for cp in pp.components], axis=0)
                t["hours_at_ceiling"] += float(ceiling.sum() * step_h)
                t["hours_cut_by_budget"] += float(np.asarray(budget).sum() * step_h)
                sf = pp.shortfall
                if sf is not None:
                    total = sf.kept_out[f].sum(axis=0)
                    t["peak_kept_out"] = max(t["peak_kept_out"], float(total.max()))
                    t["user_hours_kept_out"] += float(total.sum() * step_h)
                    t["days_short"] += float((total > _EPS).any())
    return out


DIFF_FIELDS = (
    "eur",
    "replica_hours",
    "hours_at_ceiling",
    "hours_cut_by_budget",
    "peak_kept_out",
    "user_hours_kept_out",
    "days_short",
)


def diff_rows(old: Mapping[str, Mapping[str, float]], new: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Per collectivité present in either: old, new and change for every total (rounded)."""
    rows = []
    for fid in sorted(set(old) | set(new)):
        a, b = old.get(fid, {}), new.get(fid, {})
        row: dict[str, Any] = {"collectivite": fid}
        for k in DIFF_FIELDS:
            x, y = round(a.get(k, 0.0), 2), round(b.get(k, 0.0), 2)
            row[k] = {"old": x, "new": y, "change": round(y - x, 2)}
        row["changed"] = any(abs(row[k]["change"]) > 0.005 for k in DIFF_FIELDS)
        rows.append(row)
    return rows
