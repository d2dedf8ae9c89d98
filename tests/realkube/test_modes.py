"""Recommend / floor / direct ticks on the real API server: what tests/kube/test_modes.py checks on the fake.

The mornings: 2021-04-26 (zone B's rentrée after the spring holidays: floors go up before the 7–9 h rush)
and 2021-04-19 (the first Monday of those holidays: they do not).
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from capacity.operator.decide import Mode
from capacity.operator.kube.state import CONFIGMAP_NAME
from tests.kube.test_modes import assert_recommends_raising_grand_est_api, ceilings
from tests.realkube.conftest import HOLIDAY, HPA_MAX, HPA_MIN, RENTREE, REPLICAS, Slice, make_slice

ZONES_B_C = ("grand-est", "seine-maritime", "occitanie")


def test_recommend_writes_nothing_to_workloads(kube: Slice) -> None:
    hpas, versions, scales = kube.hpas(), kube.hpa_versions(), kube.scales()
    a = kube.instance(mode=Mode.RECOMMEND)
    report = a.tick(RENTREE)
    assert report.ok and report.leader, report
    assert kube.hpas() == hpas and kube.hpa_versions() == versions and kube.scales() == scales
    assert [e for ns in kube.namespaces.values() for e in kube.events(ns)] == []  # no Event about workloads
    # only its own Lease and state ConfigMap, in its own namespace
    leases = client.CoordinationV1Api(kube.admin).list_namespaced_lease(kube.home).items
    assert [x.metadata.name for x in leases] == ["capctl"] and leases[0].spec.holder_identity == "capctl-a"
    own = [c.metadata.name for c in kube.core.list_namespaced_config_map(kube.home).items]
    assert [n for n in own if n != "kube-root-ca.crt"] == [CONFIGMAP_NAME]  # (that one: kube-controller-manager's)
    assert kube.state().metadata.labels == {"app.kubernetes.io/managed-by": "capctl"}
    assert_recommends_raising_grand_est_api(report, a.metrics.registry)


def test_floor_on_the_rentree_morning_sets_every_hpa_and_records_events(kube: Slice) -> None:
    before = kube.hpa_versions()
    scales = kube.scales()
    a = kube.instance(mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert report.ok, report
    decided = {
        (c.target.namespace, c.target.hpa): c.decision.replicas
        for c in report.components
        if c.target.hpa and c.decision is not None
    }
    top = ceilings(kube.policies)
    assert HPA_MAX not in top.values()  # so every HPA's maxReplicas must change
    assert kube.hpas() == {k: (decided[k], top[k]) for k in before}
    assert all(v != before[k] for k, v in kube.hpa_versions().items())  # every HPA written
    assert kube.scales() == scales  # floor mode never touches a workload's scale
    ge_ns = kube.namespaces["grand-est"]
    for plaque in ZONES_B_C:  # zone B and C: rentrée, floors above the application team's 2
        ns = kube.namespaces[plaque]
        assert all(decided[(n, h)] > HPA_MIN for (n, h) in decided if n == ns), plaque

    events = [e for ns in kube.namespaces.values() for e in kube.events(ns)]
    assert len(events) == len(before)  # one Event per changed HPA
    for e in events:
        assert e.source.component == "capctl" and e.reporting_component == "capctl"
        assert e.reporting_instance == "capctl-a" and e.action == "Scale" and e.type == "Normal"
        assert e.involved_object.kind == "HorizontalPodAutoscaler" and e.involved_object.uid  # the real object
        assert e.metadata.namespace == e.involved_object.namespace
        assert e.reason in ("FloorRaised", "CeilingChanged")
    ge_api = next(e for e in events if e.involved_object.name == "api" and e.metadata.namespace == ge_ns)
    assert ge_api.reason == "FloorRaised"
    assert f"minReplicas {HPA_MIN} → {decided[(ge_ns, 'api')]}" in ge_api.message
    assert "prewarm" in ge_api.message
    real_uid = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("api", ge_ns).metadata.uid
    assert ge_api.involved_object.uid == real_uid

    # a second tick at the same time finds everything in place: no workload write at all
    versions = kube.hpa_versions()
    again = a.tick(RENTREE)
    assert all(c.status == "unchanged" for c in again.components if c.target.hpa)
    assert kube.hpa_versions() == versions
    assert len([e for ns in kube.namespaces.values() for e in kube.events(ns)]) == len(events)


def test_floor_on_a_holiday_morning_does_not_raise_zone_b(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR)
    holiday = {c.target.key: c.decision.replicas for c in a.tick(HOLIDAY).components if c.decision and c.target.hpa}
    hpas = kube.hpas()
    # the same components on the rentrée morning, in a fresh slice
    other = make_slice(kube.cp, kube.tmp / "rentree")
    try:
        rentree = {
            c.target.key: c.decision.replicas
            for c in other.instance(mode=Mode.FLOOR).tick(RENTREE).components
            if c.decision and c.target.hpa
        }
    finally:
        other.close()
    for (plaque, component), floor in rentree.items():
        if plaque not in ZONES_B_C:
            continue
        ns = kube.namespaces[plaque]
        got = hpas[(ns, component if component != "auth" else "cas")][0]
        assert got == holiday[(plaque, component)]
        assert got < floor, (plaque, component)
        if plaque != "grand-est":  # grand-est's mandates guarantee 12 replicas; the others stay as found
            assert got == HPA_MIN


def test_direct_scales_workloads_without_hpa_and_floors_the_others(kube: Slice) -> None:
    s = make_slice(kube.cp, kube.tmp / "direct", edit=lambda text: text.replace("      hpa: api\n", ""))
    try:
        hpas_before = s.hpas()
        a = s.instance(mode=Mode.DIRECT)
        report = a.tick(RENTREE)
        assert report.ok, report
        by_key = {c.target.key: c for c in report.components}
        scales = s.scales()
        expected = {}
        for c in report.components:
            if c.target.hpa is None and c.decision is not None:
                expected[(c.target.kind, c.target.namespace, c.target.name)] = c.decision.replicas
        assert {k: scales[k] for k in expected} == expected
        assert any(k[2] == "api" and v != REPLICAS for k, v in expected.items())
        assert any(k[0] == "StatefulSet" and v != REPLICAS for k, v in expected.items())
        ge_ns = s.namespaces["grand-est"]
        ge_api = by_key[("grand-est", "api")]
        assert ge_api.mode is Mode.DIRECT and ge_api.decision is not None
        # components with an HPA are never scaled directly (that would fight the HPA): their HPA gets the floor
        assert by_key[("grand-est", "web")].mode is Mode.FLOOR
        assert scales[("Deployment", ge_ns, "web")] == REPLICAS
        assert s.hpas()[(ge_ns, "web")] != hpas_before[(ge_ns, "web")]
        scaled = [e for e in s.events(ge_ns) if e.involved_object.kind == "Deployment"]
        assert [(e.involved_object.name, e.reason) for e in scaled] == [("api", "ScaledUp")]
        assert f"replicas {REPLICAS} → {ge_api.decision.replicas}" in scaled[0].message
    finally:
        s.close()


def test_the_state_configmap_holds_history_and_intent_and_is_read_by_a_successor(kube: Slice) -> None:
    rush = RENTREE.replace(hour=8, minute=0)
    first = kube.instance(mode=Mode.FLOOR, identity="capctl-a", state_name="capctl-stab")
    floors = {c.target.key: c.decision.replicas for c in first.tick(rush).components if c.decision}
    cm = kube.state("capctl-stab")
    assert cm.data["format"] == "1" and set(cm.data) == {"format", "intent", *kube.namespaces}
    assert cm.metadata.labels == {"app.kubernetes.io/managed-by": "capctl"}
    try:
        kube.state(CONFIGMAP_NAME)
        raise AssertionError("the default-named ConfigMap should not exist when another name is given")
    except ApiException as exc:
        assert exc.status == 404
    first.elector.release()  # the pod is replaced
    restarted = kube.instance(mode=Mode.FLOOR, identity="capctl-b", state_name="capctl-stab")
    report = restarted.tick(rush.replace(minute=25))
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.planned is not None and ge.decision is not None
    assert ge.planned.replicas < floors[("grand-est", "api")]  # the plan went down after the rush...
    assert ge.decision.replicas == floors[("grand-est", "api")]  # ...but the window (read back) holds it
    assert int(kube.state("capctl-stab").metadata.resource_version) > int(cm.metadata.resource_version)
