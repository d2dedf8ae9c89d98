"""Checks across files: mandates against the topology, the operator's prices and each other.

Each problem points at the field of the mandate file at fault (file:line:column), or at the
topology's segment when no mandate covers it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from capacity.common.yamlio import PathKey, YamlDoc, load_yaml_file
from capacity.policy.mandates.loader import MandateFile
from capacity.policy.mandates.model import Mandate, Validity
from capacity.policy.mandates.problems import LEVELS_FR, Problem, hints, suggest
from capacity.policy.mandates.schema import dotted
from capacity.policy.prices import Prices
from capacity.policy.sizing import floor_replicas, users_served
from capacity.policy.topology import Plaque, Topology

#: Static budget check: a 31-day month, 23 of them weekdays with class hours.
MONTH_DAYS, MONTH_CLASS_DAYS = 31, 23


def cross_check(
    topology: Topology, prices: Prices | None, reads: Sequence[MandateFile], topo_path: Path
) -> list[Problem]:
    """Every problem between files; a broken file is checked through its valid part (loader.MandateFile)."""
    out: list[Problem] = []
    plaques = {p.id: p for p in topology.plaques}
    parsed = [r.checked for r in reads if r.checked is not None]
    for m, doc in parsed:
        out.extend(_against_topology(m, doc, plaques, prices))
    out.extend(_against_each_other(parsed, plaques))
    out.extend(_ceilings_below_minimum(parsed, plaques))
    if not any(r.funding_unknown for r in reads):
        # a broken funding would show as a part of a plaque without funder: its own error says enough
        out.extend(_coverage(topology, [m for m, _ in parsed], topo_path))
    return [p for p in out if not any(r.hides(p) for r in reads)]


def _at(doc: YamlDoc, key: PathKey, code: str, **kw: Any) -> Problem:
    line, column = doc.position(key)
    return Problem(code, doc.path, line=line, column=column, field=dotted(key), **kw)


def _against_topology(m: Mandate, doc: YamlDoc, plaques: dict[str, Plaque], prices: Prices | None) -> list[Problem]:
    out: list[Problem] = []
    for i, funding in enumerate(m.fundings):
        key: PathKey = ("finance", i)
        plaque = plaques.get(funding.plaque)
        if plaque is None:
            guess = suggest(funding.plaque, plaques)
            params = {"plaque": funding.plaque, "known": ", ".join(plaques), **hints(guess)}
            out.append(
                _at(
                    doc,
                    (*key, "plaque"),
                    "unknown_plaque",
                    found=funding.plaque,
                    params=params,
                    example=f"plaque: {guess or next(iter(plaques))}",
                )
            )
            continue
        if m.id not in plaque.funders:
            out.append(
                _at(
                    doc,
                    (*key, "plaque"),
                    "not_a_funder",
                    found=funding.plaque,
                    params={"mandate": m.id, "plaque": plaque.id},
                )
            )
        if not any(funding.covers(s.level, s.departement) for s in plaque.segments):
            parts = ", ".join(sorted({f"{s.level.value} {s.departement}" for s in plaque.segments}))
            parts_fr = ", ".join(sorted({f"{LEVELS_FR[s.level.value]} du {s.departement}" for s in plaque.segments}))
            params = {"plaque": plaque.id, "parts": parts, "parts_fr": parts_fr}
            out.append(_at(doc, key, "funds_nothing", params=params))
        out.extend(_components(m, doc, key, plaque))
    out.extend(_exceptions(m, doc, plaques))
    out.extend(_budget(m, doc, plaques, prices))
    return out


def _components(m: Mandate, doc: YamlDoc, key: PathKey, plaque: Plaque) -> list[Problem]:
    out: list[Problem] = []
    known = [c.name for c in plaque.components]
    limits = m.limits[plaque.id]
    for name in limits:
        if name not in known:
            guess = suggest(name, known)
            params = {"component": name, "plaque": plaque.id, "known": ", ".join(known), **hints(guess)}
            out.append(_at(doc, (*key, "composants", name), "unknown_component", found=name, params=params))
    for comp in plaque.components:
        lim = limits.get(comp.name)
        if lim is None:
            out.append(
                _at(
                    doc,
                    (*key, "composants"),
                    "missing_component",
                    params={"component": comp.name, "plaque": plaque.id, "known": ", ".join(known)},
                    example=f"{comp.name}: {{plancher: 1, plafond: 10}}",
                )
            )
            continue
        users = m.component_floor_users(plaque.id, comp.name)
        if users is not None:
            need = floor_replicas(users, comp)
            if need > lim.ceiling:
                own = lim.floor_users is not None
                where = (
                    (*key, "composants", comp.name, "plancher_utilisateurs") if own else (*key, "plancher_utilisateurs")
                )
                out.append(_users_above_ceiling(doc, where, users, need, lim.ceiling, comp))
    return out


def _users_above_ceiling(doc: YamlDoc, key: PathKey, users: float, need: int, ceiling: int, comp: Any) -> Problem:
    max_users = int(users_served(np.array([ceiling]), comp)[0])
    params = {
        "users": f"{users:g}",
        "replicas": need,
        "component": comp.name,
        "ceiling": ceiling,
        "max_users": max_users,
    }
    return _at(doc, key, "floor_users_above_ceiling", found=users, params=params, example=f"{key[-1]}: {max_users}")


def _exceptions(m: Mandate, doc: YamlDoc, plaques: dict[str, Plaque]) -> list[Problem]:
    out: list[Problem] = []
    funded = [f.plaque for f in m.fundings]
    scoped: list[tuple[PathKey, str | None, tuple[str, ...]]] = []
    scoped += [(("exceptions", "examens", i), e.plaque, tuple(e.floors)) for i, e in enumerate(m.exams)]
    scoped += [(("exceptions", "maintenances", i), w.plaque, w.components) for i, w in enumerate(m.maintenance)]
    for key, plaque_id, comps in scoped:
        if plaque_id is not None and plaque_id not in funded:
            out.append(
                _at(
                    doc,
                    (*key, "plaque"),
                    "not_funded_here",
                    found=plaque_id,
                    params={"plaque": plaque_id, "known": ", ".join(funded)},
                )
            )
            continue
        targets = [plaques[p] for p in ([plaque_id] if plaque_id else funded) if p in plaques]
        for j, name in enumerate(comps):
            for plaque in targets:
                known = [c.name for c in plaque.components]
                if name not in known:
                    guess = suggest(name, known)
                    sub: PathKey = (*key, "composants", j) if key[1] == "maintenances" else (*key, "composants", name)
                    found: dict[str, object] = {"component": name, "plaque": plaque.id, "known": ", ".join(known)}
                    found.update(hints(guess))
                    out.append(_at(doc, sub, "unknown_component", found=name, params=found))
    for i, e in enumerate(m.exams):
        key = ("exceptions", "examens", i)
        for plaque_id in [e.plaque] if e.plaque else funded:
            target = plaques.get(plaque_id or "")
            if target is None or plaque_id not in m.limits:
                continue
            for comp in target.components:
                lim = m.limits[target.id].get(comp.name)
                if lim is None:
                    continue
                if comp.name in e.floors and e.floors[comp.name] > lim.ceiling:
                    params: dict[str, object] = {"floor": e.floors[comp.name], "ceiling": lim.ceiling}
                    params["component"] = comp.name
                    out.append(
                        _at(
                            doc,
                            (*key, "composants", comp.name, "plancher"),
                            "floor_above_ceiling",
                            found=e.floors[comp.name],
                            params=params,
                            example=f"plancher: {lim.ceiling}",
                        )
                    )
                if e.floor_users is not None and floor_replicas(e.floor_users, comp) > lim.ceiling:
                    need = floor_replicas(e.floor_users, comp)
                    out.append(
                        _users_above_ceiling(
                            doc, (*key, "plancher_utilisateurs"), e.floor_users, need, lim.ceiling, comp
                        )
                    )
    return out


def floor_cost_month_eur(m: Mandate, plaques: dict[str, Plaque], prices: Prices) -> float:
    """Most the floors can cost in a month: base floors all the time, user floors in class hours."""
    class_h = (m.class_hours.end_min - m.class_hours.start_min) / 60
    total = 0.0
    for f in m.fundings:
        plaque = plaques.get(f.plaque)
        if plaque is None:
            continue
        for comp in plaque.components:
            lim = m.limits[f.plaque].get(comp.name)
            if lim is None:
                continue
            users = m.component_floor_users(f.plaque, comp.name)
            extra = max(0, floor_replicas(users, comp) - lim.floor) if users is not None else 0
            replica_hours = lim.floor * 24 * MONTH_DAYS + extra * max(class_h, 0) * MONTH_CLASS_DAYS
            total += replica_hours * prices.replica_hour_eur(comp)
    return total


def _budget(m: Mandate, doc: YamlDoc, plaques: dict[str, Plaque], prices: Prices | None) -> list[Problem]:
    if m.monthly_budget_eur is None:
        return []
    key: PathKey = ("budget", "mensuel_eur")
    if prices is None:
        return [_at(doc, key, "budget_without_prices", found=m.monthly_budget_eur)]
    floor_eur = floor_cost_month_eur(m, plaques, prices)
    if floor_eur > m.monthly_budget_eur:
        need = math.ceil(floor_eur)
        params = {"budget": f"{m.monthly_budget_eur:g}", "floor_eur": need}
        return [
            _at(
                doc,
                key,
                "budget_below_floor",
                found=m.monthly_budget_eur,
                params=params,
                example=f"mensuel_eur: {need}",
            )
        ]
    return []


def _ceilings_below_minimum(parsed: Sequence[tuple[Mandate, YamlDoc]], plaques: dict[str, Plaque]) -> list[Problem]:
    """The plaque's ceiling (the sum of its funders' in force) never below the component's technical minimum.

    A ceiling under it would cap the plaque at (or near) zero replicas: refused, never planned with. The
    set of funders in force changes only when a mandate starts or ends, so those days are enough to check.
    """
    out: list[Problem] = []
    for plaque in plaques.values():
        funders = [(m, doc) for m, doc in parsed if m.funding_for(plaque.id) is not None]
        days = sorted(
            {m.validity.start for m, _ in funders}
            | {m.validity.end + timedelta(days=1) for m, _ in funders if m.validity.end and m.validity.end < date.max}
        )
        reported: set[tuple[str, str]] = set()
        for day in days:
            live = [(m, doc) for m, doc in funders if m.validity.contains(day)]
            for comp in plaque.components:
                least = max(1, comp.min_replicas)
                ceilings = [(m, doc, m.limits[plaque.id].get(comp.name)) for m, doc in live]
                if not live or any(lim is None for _, _, lim in ceilings):
                    continue  # a missing ceiling is reported on its own
                total = sum(lim.ceiling for _, _, lim in ceilings if lim is not None)
                if total >= least:
                    continue
                for m, doc, lim in ceilings:
                    if lim is None or (m.path, comp.name) in reported:
                        continue
                    reported.add((m.path, comp.name))
                    i = next(i for i, f in enumerate(m.fundings) if f.plaque == plaque.id)
                    params = {
                        "component": comp.name,
                        "plaque": plaque.id,
                        "total": total,
                        "minimum": least,
                        "day": day.isoformat(),
                    }
                    key: PathKey = ("finance", i, "composants", comp.name, "plafond")
                    example = f"plafond: {lim.ceiling + least - total}"
                    out.append(
                        _at(doc, key, "ceiling_below_minimum", found=lim.ceiling, params=params, example=example)
                    )
    return out


def _against_each_other(parsed: Sequence[tuple[Mandate, YamlDoc]], plaques: dict[str, Plaque]) -> list[Problem]:
    out: list[Problem] = []
    for j, (m, doc) in enumerate(parsed):
        for other, _ in parsed[:j]:
            if not m.validity.overlaps(other.validity):
                continue
            if other.id == m.id:
                out.append(
                    _at(
                        doc,
                        ("collectivite", "id"),
                        "duplicate_mandate",
                        found=m.id,
                        params={"mandate": m.id, "other_path": other.path},
                    )
                )
                continue
            for i, funding in enumerate(m.fundings):
                mine = other.funding_for(funding.plaque)
                plaque = plaques.get(funding.plaque)
                if mine is None or plaque is None:
                    continue
                both = [
                    s
                    for s in plaque.segments
                    if funding.covers(s.level, s.departement) and mine.covers(s.level, s.departement)
                ]
                if both:
                    s = both[0]
                    params = {
                        "level": s.level.value,
                        "departement": s.departement,
                        "plaque": plaque.id,
                        "other": other.id,
                        "other_path": other.path,
                    }
                    out.append(_at(doc, ("finance", i), "segment_claimed_twice", params=params))
    return out


def _coverage(topology: Topology, mandates: Sequence[Mandate], topo_path: Path) -> list[Problem]:
    """Every segment funded from the first mandate's start to the last one's end, without a gap."""
    out: list[Problem] = []
    doc: YamlDoc | None = None
    for plaque in topology.plaques:
        funding = [m for m in mandates if m.funding_for(plaque.id) is not None]
        if not funding:
            continue
        start = min(m.validity.start for m in funding)
        ends = [m.validity.end for m in funding]
        end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        for seg in plaque.segments:
            covering = sorted(
                (m.validity for m in funding if m.funding_for(plaque.id).covers(seg.level, seg.departement)),  # type: ignore[union-attr]
                key=lambda v: v.start,
            )
            gap = first_gap(covering, Validity(start, end))
            if gap is None:
                continue
            if doc is None:
                doc = load_yaml_file(topo_path)
            key: PathKey = ("plaques", plaque.id, "population", seg.level.value, seg.departement)
            line, column = doc.position(key)
            if not covering:
                when = ("", "")
            else:
                last = "" if gap.end is None else f" au {gap.end}"
                last_en = "" if gap.end is None else f" to {gap.end}"
                when = (f"du {gap.start}{last}", f"from {gap.start}{last_en}")
            params = {
                "plaque": plaque.id,
                "level": seg.level.value,
                "departement": seg.departement,
                "when_fr": when[0],
                "when_en": when[1],
            }
            out.append(
                Problem("unfunded_segment", str(topo_path), line=line, column=column, field=dotted(key), params=params)
            )
    return out


def first_gap(covering: Sequence[Validity], span: Validity) -> Validity | None:
    """First period of `span` not covered by any of `covering` (sorted by start), or None."""
    if not covering:
        return span
    cursor = span.start
    for v in covering:
        if v.start > cursor:
            return Validity(cursor, v.start - timedelta(days=1))
        if v.end is None:
            return None
        cursor = max(cursor, v.end + timedelta(days=1))
    if span.end is None or cursor <= span.end:
        return Validity(cursor, span.end)
    return None
