"""For random valid mandates, the plan keeps every promise: floors, ceilings, budgets, and every replica paid.

Mandates are generated as YAML files (what a contact would write), loaded and validated like the real
ones, then a month is planned on the small test plaque (two départements, collèges and lycées).
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from capacity.planning.budget import plan_month
from capacity.planning.kernel import PlaquePlan
from capacity.planning.shortfall import _EPS
from capacity.policy.bundle import Policies, load_policies
from capacity.policy.mandates.crosscheck import floor_cost_month_eur
from capacity.policy.topology import PROFILES, load_topology
from tests.mandates.conftest import BUNDLE

SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
TOPOLOGY = load_topology(BUNDLE / "topology.yaml")
PLAQUE = TOPOLOGY.plaques[0]
FUNDERS = {
    "region-essai": ("region", "44", "[lycee]", None),
    "departement-54": ("departement", "54", "[college]", "['54']"),
    "departement-57": ("departement", "57", "[college]", "['57']"),
}


@st.composite
def mandate_texts(draw: st.DrawFn) -> dict[str, str]:
    month = draw(st.sampled_from([date(2020, 11, 1), date(2021, 3, 1), date(2021, 4, 1), date(2021, 6, 1)]))
    out = {}
    for mid, (kind, code, levels, depts) in FUNDERS.items():
        comps = []
        floors_users = None
        for comp in PLAQUE.components:
            floor = draw(st.integers(min_value=0, max_value=3))
            ceiling = draw(st.integers(min_value=max(floor, 1), max_value=30))
            comps.append(f"      {comp.name}: {{plancher: {floor}, plafond: {ceiling}}}")
            served = math.floor(
                ceiling * (comp.rps_per_replica * comp.target_utilisation) / (comp.requests_per_user_s * comp.headroom)
            )
            floors_users = served if floors_users is None else min(floors_users, served)
        lines = [
            "# yaml-language-server: $schema=../mandat.schema.json",
            "collectivite:",
            f"  id: {mid}",
            f"  type: {kind}",
            f"  code: '{code}'",
            f"  nom: Collectivité {code}",
            "validite:",
            "  du: 2020-09-01",
            f"heures_de_cours: {draw(st.sampled_from(['08:00-18:00', '07:30-12:00', '09:00-17:00']))}",
            "finance:",
            "  - plaque: lorraine",
            f"    niveaux: {levels}",
        ]
        if depts:
            lines.append(f"    departements: {depts}")
        if draw(st.booleans()):
            lines.append(f"    plancher_utilisateurs: {draw(st.integers(min_value=0, max_value=floors_users))}")
        lines.append("    composants:")
        lines.extend(comps)
        start = month + timedelta(days=draw(st.integers(min_value=0, max_value=25)))
        lines += [
            "exceptions:",
            "  examens:",
            "    - nom: Examen",
            f"      du: {start}",
            f"      au: {start + timedelta(days=draw(st.integers(min_value=0, max_value=5)))}",
            f"      plancher_utilisateurs: {draw(st.integers(min_value=0, max_value=floors_users))}",
        ]
        if draw(st.booleans()):
            begin = draw(st.integers(min_value=0, max_value=28 * 24))
            hours = draw(st.integers(min_value=1, max_value=30))
            t0 = f"{month + timedelta(hours=begin):%Y-%m-%d} {begin % 24:02d}:00"
            end = month + timedelta(hours=begin + hours)
            lines += [
                "  maintenances:",
                "    - nom: Maintenance",
                f"      debut: {t0}",
                f"      fin: {end:%Y-%m-%d} {(begin + hours) % 24:02d}:00",
            ]
        order = draw(
            st.sampled_from(
                [
                    "[[enseignants, eleves], parents]",
                    "[parents, eleves, enseignants]",
                    "[[eleves, enseignants, parents]]",
                    "[enseignants]",
                ]
            )
        )
        lines += ["penurie:", f"  ordre_admission: {order}"]
        if draw(st.booleans()):
            share = draw(st.sampled_from([0.05, 0.1, 0.5, 1]))
            lines += ["  quotas:", "    parents:", f"      part_max: {share}", "      fermeture: [07:30-17:30]"]
        out[mid] = "\n".join(lines) + "\n"
    out["_month"] = month.isoformat()
    out["_budget"] = json.dumps(draw(st.lists(st.floats(min_value=0.0, max_value=1.5), min_size=3, max_size=3)))
    return out


def write_bundle(root: Path, texts: dict[str, str]) -> date:
    shutil.copytree(BUNDLE, root, dirs_exist_ok=True)
    for p in (root / "mandats").glob("*.yaml"):
        p.unlink()
    for mid, text in texts.items():
        if not mid.startswith("_"):
            (root / "mandats" / f"{mid}.yaml").write_text(text, encoding="utf-8")
    return date.fromisoformat(texts["_month"])


def add_budgets(root: Path, extras: list[float]) -> None:
    """Budgets from just above what the floors can cost (so the files stay valid) to well above it."""
    pol = load_policies(root)
    for (mid, _), extra in zip(FUNDERS.items(), extras, strict=True):
        m = pol.mandate(mid)
        assert pol.prices is not None
        floor = floor_cost_month_eur(m, {PLAQUE.id: PLAQUE}, pol.prices)
        path = root / "mandats" / f"{mid}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("finance:", f"budget:\n  mensuel_eur: {math.ceil(floor * (1 + extra)) + 1}\nfinance:"),
            encoding="utf-8",
        )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(texts=mandate_texts())
def test_random_mandates_are_kept_to_the_replica_and_the_euro(tmp_path_factory, calendar, rates, texts) -> None:
    root = tmp_path_factory.mktemp("pol")
    month = write_bundle(root, texts)
    add_budgets(root, json.loads(texts["_budget"]))
    pol = load_policies(root)
    assert pol.prices is not None
    mp = plan_month(month, 3600, pol, calendar, rates)
    event(f"budget binding: {any(s.binding for s in mp.budgets.values())}")
    event(f"users kept out: {any(pp.shortfall.any_short() for p in mp.days for pp in p.plaques if pp.shortfall)}")
    spent = {mid: 0.0 for mid in FUNDERS}
    for plan in mp.days:
        (pp,) = plan.plaques
        step_h = plan.step_s / 3600
        for cp in pp.components:
            ids = cp.funder_ids
            assert sorted(ids) == sorted(FUNDERS)
            # every replica belongs to exactly one funder, none is negative
            assert (cp.funder_replicas.sum(axis=0) == cp.replicas).all()
            assert (cp.funder_replicas >= 0).all()
            for f, mid in enumerate(ids):
                lim = pol.mandate(mid).limits[PLAQUE.id][cp.component.name]
                r = cp.funder_replicas[f]
                assert (r <= lim.ceiling).all()
                assert (r >= cp.funder_floor[f]).all() and (cp.funder_floor[f] >= lim.floor).all()
                assert (r <= cp.funder_cap[f]).all()
                # inside a maintenance window the funder's share never goes down (unless its cap does)
                inside = cp.maintenance[f][1:] & cp.maintenance[f][:-1]
                assert (r[1:][inside] >= np.minimum(r[:-1], cp.funder_cap[f][1:])[inside]).all()
                spent[mid] += float(r.sum()) * pol.prices.replica_hour_eur(cp.component) * step_h
            for i in range(len(cp.replicas)):
                reasons = cp.reasons(i)
                if cp.replicas[i] < cp.wish[i]:
                    assert any(r.startswith(("ceiling:", "budget:")) for r in reasons)
                if cp.replicas[i] > cp.wish[i]:
                    assert any(r.startswith(("floor:", "maintenance:")) for r in reasons)
        check_shortfall(pp, pol)
    for mid, state in mp.budgets.items():
        assert math.isclose(state.planned_eur, spent[mid], rel_tol=1e-9, abs_tol=1e-6)
        if not state.floors_over_budget:
            assert spent[mid] <= state.budget_eur + 1e-6, (mid, state)


def check_shortfall(pp: PlaquePlan, pol: Policies) -> None:
    sf = pp.shortfall
    assert sf is not None
    assert (sf.kept_out >= -_EPS).all() and (sf.kept_out <= sf.demand + _EPS).all()
    for f, mid in enumerate(sf.funder_ids):
        admitted = sf.admitted[f]
        cap = sf.capacity[f]
        limited = np.isfinite(cap)
        # nobody is admitted beyond what the funder's replicas serve
        assert (admitted.sum(axis=0)[limited] <= cap[limited] + 1e-6).all()
        # users are kept out only where capacity is short, or by a closure on a day the forecast saw short
        short = sf.demand[f].sum(axis=0) > cap + _EPS
        kept = sf.kept_out[f].sum(axis=0) > _EPS
        closed = sf.closed[f].any(axis=0)
        assert (~kept | short | closed).all()
        assert not sf.closed[f].any() or sf.short_day[f]
        for profile, quota in pol.mandate(mid).shortfall.quotas.items():
            if quota.max_share is not None:
                p = PROFILES.index(profile)
                in_short = short & limited
                assert (admitted[p][in_short] <= quota.max_share * cap[in_short] + 1e-6).all()
