"""In each mode, one tick changes exactly what it should and nothing else (request bodies asserted)."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.report import TickReport
from capacity.policy.bundle import load_policies
from tests.kube.conftest import HOME, HPA_MAX, HPA_MIN, POLICIES, REPLICAS, all_hpas, all_scales, make_instance, seed
from tests.support.fake_kube import FakeKube

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
MERGE = "application/merge-patch+json"
HPA_PATH = re.compile(r"^/apis/autoscaling/v2/namespaces/([^/]+)/horizontalpodautoscalers/([^/]+)$")


def assert_recommends_raising_grand_est_api(report: TickReport, registry: CollectorRegistry) -> None:
    """In recommend mode on the rentrée morning: grand-est's api is recommended above the HPA's minimum,
    and the planned-replicas metric says the same number."""
    ge = {c.target.component: c for c in report.components if c.target.plaque == "grand-est"}
    assert ge["api"].status == "recommended"
    assert ge["api"].decision is not None and ge["api"].decision.replicas > HPA_MIN  # it would raise
    assert registry.get_sample_value("capctl_planned_replicas", {"plaque": "grand-est", "component": "api"}) == float(
        ge["api"].decision.replicas
    )


def ceilings(policies: Path = POLICIES) -> dict[tuple[str, str], int]:
    """Sum of the mandate ceilings per (namespace, HPA), straight from the mandate files."""
    pol = load_policies(policies)
    out = {}
    for plaque in pol.topology.plaques:
        for c in plaque.components:
            if c.target.hpa:
                total = sum(f.limits(c.name).ceiling for f in pol.funders(plaque))
                out[(c.target.namespace, c.target.hpa)] = total
    return out


def writes_outside(fake: FakeKube, allowed: str) -> list[tuple[str, str]]:
    return [(w.method, w.path) for w in fake.writes() if not re.search(allowed, w.path)]


def test_recommend_writes_nothing_to_workloads(seeded: FakeKube, tmp_path: Path) -> None:
    hpas, scales = all_hpas(seeded), all_scales(seeded)
    a = make_instance(seeded, tmp_path, mode=Mode.RECOMMEND)
    report = a.tick(RENTREE)
    assert report.ok and report.leader
    assert all_hpas(seeded) == hpas and all_scales(seeded) == scales
    # only its own Lease and state ConfigMap, in its own namespace
    assert writes_outside(seeded, rf"^/api(s/coordination\.k8s\.io)?/v1/namespaces/{HOME}/(leases|configmaps)") == []
    assert_recommends_raising_grand_est_api(report, a.metrics.registry)


def test_floor_patches_each_hpa_once_with_its_resource_version(seeded: FakeKube, tmp_path: Path) -> None:
    before = {k: v["metadata"]["resourceVersion"] for k, v in _hpa_objects(seeded).items()}
    scales = all_scales(seeded)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert report.ok
    decided = {
        (c.target.namespace, c.target.hpa): c.decision.replicas
        for c in report.components
        if c.target.hpa and c.decision is not None
    }
    top = ceilings()
    assert HPA_MAX not in top.values()  # so every HPA's maxReplicas must change
    patches = [w for w in seeded.writes() if HPA_PATH.match(w.path)]
    assert len(patches) == len(before)  # every HPA: its ceiling differs from 10
    for w in patches:
        m = HPA_PATH.match(w.path)
        assert m is not None
        key = (m.group(1), m.group(2))
        assert (w.method, w.content_type, w.status) == ("PATCH", MERGE, 200)
        spec = {"maxReplicas": top[key]}
        if decided[key] != HPA_MIN:
            spec["minReplicas"] = decided[key]
        assert w.body == {"metadata": {"resourceVersion": before[key]}, "spec": spec}
    assert all_hpas(seeded) == {k: (decided[k], top[k]) for k in before}
    assert all_scales(seeded) == scales  # floor mode never touches a workload's scale
    for w in seeded.writes():  # proper content types: JSON for POST/PUT, RFC 7386 for patches
        assert w.content_type == (MERGE if w.method == "PATCH" else "application/json"), (w.method, w.path)
    events = [w.body for w in seeded.writes(r"/events$")]
    assert len(events) == len(patches)
    ge_api = next(e for e in events if e["involvedObject"]["name"] == "api" and "grand-est" in e["message"])
    assert ge_api["involvedObject"]["kind"] == "HorizontalPodAutoscaler"
    assert ge_api["reason"] == "FloorRaised"
    assert f"minReplicas {HPA_MIN} → {decided[('ent-grand-est', 'api')]}" in ge_api["message"]
    assert "prewarm" in ge_api["message"]
    # a second tick at the same time finds everything in place: no workload write at all
    seeded.clear_log()
    assert all(c.status == "unchanged" for c in a.tick(RENTREE).components if c.target.hpa)
    assert [w for w in seeded.writes() if HPA_PATH.match(w.path)] == []


def test_direct_scales_workloads_without_hpa_and_floors_the_others(fake_kube: FakeKube, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    topo = policies / "topology.yaml"
    topo.write_text(topo.read_text().replace("      hpa: api\n", ""))  # api: a Deployment with no HPA
    seed(fake_kube, policies)
    fake_kube.clear_log()
    hpas_before = all_hpas(fake_kube)
    a = make_instance(fake_kube, tmp_path, mode=Mode.DIRECT, policies=policies)
    report = a.tick(RENTREE)
    assert report.ok
    by_key = {c.target.key: c for c in report.components}
    scale_writes = [w for w in fake_kube.writes() if w.path.endswith("/scale")]
    expected_paths = set()
    for c in report.components:
        if c.target.hpa is None and c.decision is not None and c.decision.replicas != REPLICAS:
            plural = "deployments" if c.target.kind == "Deployment" else "statefulsets"
            expected_paths.add(f"/apis/apps/v1/namespaces/{c.target.namespace}/{plural}/{c.target.name}/scale")
    assert {w.path for w in scale_writes} == expected_paths
    assert any("/deployments/api/scale" in p for p in expected_paths)
    assert any("/statefulsets/messagerie/scale" in p for p in expected_paths)
    for w in scale_writes:
        assert (w.method, w.content_type, w.status) == ("PATCH", MERGE, 200)
        assert set(w.body) == {"metadata", "spec"} and set(w.body["metadata"]) == {"resourceVersion"}
        assert list(w.body["spec"]) == ["replicas"]
    ge_api = by_key[("grand-est", "api")]
    assert ge_api.mode is Mode.DIRECT and ge_api.decision is not None
    assert all_scales(fake_kube)[("Deployment", "ent-grand-est", "api")] == ge_api.decision.replicas
    # components with an HPA are never scaled directly (that would fight the HPA): their HPA gets the floor
    assert by_key[("grand-est", "web")].mode is Mode.FLOOR
    assert all_scales(fake_kube)[("Deployment", "ent-grand-est", "web")] == REPLICAS
    assert all_hpas(fake_kube)[("ent-grand-est", "web")] != hpas_before[("ent-grand-est", "web")]
    assert not any(re.search(r"/(deployments|statefulsets)/[^/]+$", w.path) for w in fake_kube.writes())


def _hpa_objects(fake: FakeKube) -> dict[tuple[str, str], dict[str, object]]:
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in fake.list_objects("autoscaling/v2", "HorizontalPodAutoscaler")
    }
