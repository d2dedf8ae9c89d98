"""At national scale the operator plans once per day and configuration and reads workloads in a few
lists; these tests check that the shortcuts change nothing a user would see."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from capacity.calendar import SchoolCalendar
from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.kube import observe
from capacity.operator.lookahead import PlaqueDay, window
from capacity.operator.plan_cache import PlanCache
from capacity.operator.reload import ConfigSource
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_day
from capacity.policy.bundle import load_policies
from tests.kube.conftest import POLICIES, all_hpas, cached_calendar, make_instance
from tests.support.fake_kube import FakeKube

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
ALL_HPAS = r"^/apis/autoscaling/v2/horizontalpodautoscalers$"
NAMESPACED_HPAS = r"^/apis/autoscaling/v2/namespaces/[^/]+/horizontalpodautoscalers$"


def _lists(fake: FakeKube, pattern: str) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.method == "GET" and re.search(pattern, r.path)]


def test_workloads_are_read_across_namespaces_page_by_page(
    seeded: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observe, "PAGE", 2)  # 5 namespaces with HPAs: three pages
    a = make_instance(seeded, tmp_path, mode=Mode.RECOMMEND)
    a.controller.cluster_wide_lists = True  # capctl run --cluster-wide-lists
    report = a.tick(RENTREE)
    assert report.ok and all(c.status == "recommended" for c in report.components)
    pages = _lists(seeded, ALL_HPAS)
    assert len(pages) >= 3 and "continue" not in pages[0] and all("continue" in p for p in pages[1:])
    assert _lists(seeded, NAMESPACED_HPAS) == []


def test_by_default_it_lists_per_namespace_only(seeded: FakeKube, tmp_path: Path) -> None:
    """Least-privilege RBAC grants namespaces: no cluster-scope request unless the site asks for it."""
    a = make_instance(seeded, tmp_path, mode=Mode.RECOMMEND)
    assert a.tick(RENTREE).ok
    assert _lists(seeded, ALL_HPAS) == [] and len(_lists(seeded, NAMESPACED_HPAS)) == 5


def test_without_cluster_wide_rights_it_lists_per_namespace_and_remembers(seeded: FakeKube, tmp_path: Path) -> None:
    seeded.fail_next("GET", ALL_HPAS, status=403, message="forbidden: cannot list at the cluster scope")
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    a.controller.cluster_wide_lists = True
    first = a.tick(RENTREE)
    assert first.ok and all(c.status != "failed" for c in first.components)
    assert len(_lists(seeded, ALL_HPAS)) == 1 and len(_lists(seeded, NAMESPACED_HPAS)) == 5
    seeded.clear_log()
    assert a.tick(RENTREE + timedelta(minutes=1)).ok
    assert _lists(seeded, ALL_HPAS) == [] and len(_lists(seeded, NAMESPACED_HPAS)) == 5


def test_a_failed_cluster_wide_list_leaves_its_components_unobserved_for_the_tick(
    seeded: FakeKube, tmp_path: Path
) -> None:
    seeded.fail_next("GET", ALL_HPAS, status=503)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    a.controller.cluster_wide_lists = True
    report = a.tick(RENTREE)
    with_hpa = [c for c in report.components if c.target.hpa]
    assert with_hpa and all(c.status == "failed" for c in with_hpa)
    assert all(c.status != "failed" for c in report.components if not c.target.hpa)
    assert a.tick(RENTREE + timedelta(minutes=1)).ok  # not remembered: the next tick lists cluster-wide again


@pytest.mark.parametrize("day", [date(2021, 4, 26), date(2021, 3, 17)])  # budgets bind; a maintenance window
def test_the_operators_day_digest_says_what_the_plan_says(day: date) -> None:
    plan = plan_day(day, 300, load_policies(), SchoolCalendar.load([]), default_rates())
    for pp in plan.plaques:
        digest = PlaqueDay.of(pp)
        assert np.array_equal(digest.users, pp.forecast.users)
        for cp in pp.components:
            cd = digest.components[cp.component.name]
            for field in ("replicas", "wish", "floor", "ceiling"):
                assert np.array_equal(getattr(cd, field), getattr(cp, field))
            for i in range(len(cp.replicas)):
                reasons, clamps = cd.reasons[cd.why[i]]
                assert reasons == cp.reasons(i)
                hits = [("floor", f) for k, f in enumerate(cp.funder_ids) if cp.floor_hit[k, i]]
                hits += [("ceiling", f) for k, f in enumerate(cp.funder_ids) if cp.ceiling_hit[k, i]]
                assert sorted(clamps) == sorted(hits)


def test_the_operator_plans_what_capctl_plan_prints() -> None:
    """The operator's cached plan (budget levels computed on their own) equals `plan_day`'s, window by window."""
    source = ConfigSource(POLICIES, calendar_loader=cached_calendar)
    cfg, _ = source.poll()
    now = RENTREE.replace(hour=23, minute=40)  # the window crosses midnight: two days
    days, held = PlanCache().days(cfg, [now.date(), now.date() + timedelta(days=1)])
    assert held == {}
    plans = [plan_day(d, 300, cfg.policies, cfg.calendar, cfg.rates) for d in (now.date(), now.date() + timedelta(1))]
    for i, plaque in enumerate(cfg.policies.topology.plaques):
        reference = [PlaqueDay.of(p.plaques[i]) for p in plans]
        for c in plaque.components:
            for t in (RENTREE, now):
                ours = window(days[plaque.id] if t is now else days[plaque.id][:1], c.name, t, 3600)
                theirs = window(reference if t is now else reference[:1], c.name, t, 3600)
                assert ours == theirs


def test_an_edited_mandate_is_planned_again_at_the_next_tick(seeded: FakeKube, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, policies=policies)
    night = RENTREE.replace(hour=3)  # the floors rule, not the forecast
    assert a.tick(night).ok
    before = all_hpas(seeded)[("ent-seine-maritime", "web")][0]
    mandate = policies / "mandats" / "departement-76.yaml"
    text = mandate.read_text()
    edited = re.sub(r"(web:\s*\{plancher:\s*)\d+", r"\g<1>7", text)
    assert edited != text
    mandate.write_text(edited)
    assert a.tick(night + timedelta(minutes=1)).ok
    assert before < 7 <= all_hpas(seeded)[("ent-seine-maritime", "web")][0]


def test_planning_longer_than_the_lease_keeps_it_from_the_standby(
    seeded: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A national topology plans for longer than a Lease: the leader renews between plaques, so a standby that
    watches the Lease does not take over mid-planning and the leader's writes go through."""
    from capacity.operator import plan_cache

    t = [0.0]
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    b = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-b")
    a.elector.clock = b.elector.clock = lambda: t[0]
    assert a.tick(RENTREE - timedelta(days=1)).leader
    real = plan_cache.plan_plaques
    standby: list[bool] = []

    def slow(*args: object, **kwargs: object) -> object:
        t[0] += 6.0  # each plaque takes 6 s of the 15 s Lease
        if len(standby) == 0 or (len(standby) == 1 and t[0] >= 24.0):
            # b watches the Lease while a plans: first look at 6 s, then past a whole Lease without a change
            monkeypatch.setattr(plan_cache, "plan_plaques", real)
            standby.append(b.tick(RENTREE).leader)
            monkeypatch.setattr(plan_cache, "plan_plaques", slow)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_cache, "plan_plaques", slow)
    report = a.tick(RENTREE)
    assert standby == [False, False]
    assert report.ok and report.leader
    assert all_hpas(seeded)[("ent-grand-est", "api")][0] > 2
