"""Safety scenarios the real API server produces by itself: a real 409 from a concurrent writer, a real
Lease between two instances, a policy file broken and fixed mid-run (with the Warning Event it raises).

Faults the real server cannot be made to produce on demand (scripted 5xx, timeouts, dropped writes)
stay on the fake API server (tests/kube/test_safety.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from kubernetes import client

from capacity.operator.decide import Mode
from capacity.operator.kube.state import CONFIGMAP_NAME
from tests.realkube.conftest import HPA_MIN, RENTREE, Slice


def test_a_real_conflict_is_retried_from_a_fresh_read(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR)
    ge_ns = kube.namespaces["grand-est"]
    guard = a.controller.actuator.guard
    calls = 0

    def someone_writes_first() -> None:
        """Another client labels the first HPA between our read (the LIST) and our conditional patch."""
        nonlocal calls
        calls += 1
        if calls == 1:
            kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
                "web", ge_ns, {"metadata": {"labels": {"team": "ent"}}}
            )
        guard()

    a.controller.actuator.guard = someone_writes_first
    report = a.tick(RENTREE)
    assert report.ok, report
    web = next(c for c in report.components if c.target.key == ("grand-est", "web"))
    assert web.status == "applied" and web.decision is not None
    got = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("web", ge_ns)
    assert got.spec.min_replicas == web.decision.replicas
    assert got.metadata.labels == {"team": "ent"}  # the other writer's change is kept (merge patch)
    assert calls == len([c for c in report.components if c.target.hpa]) + 1  # one retry, for web only


def test_of_two_instances_only_the_leader_writes(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR, identity="capctl-a")
    b = kube.instance(mode=Mode.FLOOR, identity="capctl-b")
    assert a.tick(RENTREE).leader
    hpas = kube.hpa_versions()
    report = b.tick(RENTREE + timedelta(minutes=1))
    assert not report.leader and report.components == ()
    assert kube.hpa_versions() == hpas
    lease = client.CoordinationV1Api(kube.admin).read_namespaced_lease("capctl", kube.home)
    assert lease.spec.holder_identity == "capctl-a"
    a.elector.release()  # SIGTERM on the leader: the standby takes over at its next tick, without waiting
    assert b.tick(RENTREE + timedelta(minutes=2)).leader
    assert not a.tick(RENTREE + timedelta(minutes=3)).leader
    lease = client.CoordinationV1Api(kube.admin).read_namespaced_lease("capctl", kube.home)
    assert lease.spec.holder_identity == "capctl-b"


def test_a_lease_taken_mid_tick_stops_writes_at_once(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR, renew_every_s=0.0)  # renew before every write
    ensure = a.elector.ensure
    calls = 0
    leases = client.CoordinationV1Api(kube.admin)

    def takeover_after_first_write() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # another instance takes the lease between our first and second HPA writes
            lease = leases.read_namespaced_lease("capctl", kube.home)
            now = datetime.now(UTC)
            lease.spec.holder_identity, lease.spec.renew_time, lease.spec.acquire_time = "capctl-b", now, now
            leases.replace_namespaced_lease("capctl", kube.home, lease)
        ensure()

    a.controller.actuator.guard = takeover_after_first_write
    hpas = kube.hpas()
    report = a.tick(RENTREE)
    assert report.aborted is not None and "lost the lease" in report.aborted
    changed = [k for k, v in kube.hpas().items() if v != hpas[k]]
    assert changed == [(kube.namespaces["grand-est"], "web")]  # the first write only
    # the state (history + intent) was written before the first write, and not after the loss: the
    # successor sees a tick that did not finish
    assert json.loads(kube.state(CONFIGMAP_NAME).data["intent"])["done"] is False


def test_a_policy_file_broken_mid_run_keeps_the_last_good_one(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR)
    good = {c.target.key: c.decision.replicas for c in a.tick(RENTREE).components if c.decision}
    mandate = kube.policies / "mandats" / "region-grand-est.yaml"
    text = mandate.read_text()
    mandate.write_text(text.replace("plafond: 15", "plafond: [15"))  # a typo, mid-run
    report = a.tick(RENTREE + timedelta(minutes=1))
    assert {c.target.key: c.decision.replicas for c in report.components if c.decision} == good
    warned = [e for e in kube.events(kube.home) if e.reason == "ConfigReloadFailed"]
    assert len(warned) == 1 and "region-grand-est.yaml:" in warned[0].message
    w = warned[0]
    assert (w.type, w.source.component, w.action, w.reporting_component) == ("Warning", "capctl", "Operate", "capctl")
    assert (w.involved_object.kind, w.involved_object.name) == ("Pod", "capctl-a")
    a.tick(RENTREE + timedelta(minutes=2))  # still broken: reported once, not every tick
    assert len([e for e in kube.events(kube.home) if e.reason == "ConfigReloadFailed"]) == 1
    mandate.write_text(text.replace("plafond: 15", "plafond: 9"))  # fixed, with a lower web ceiling
    a.tick(RENTREE + timedelta(minutes=3))
    ge_ns = kube.namespaces["grand-est"]
    assert kube.hpas()[(ge_ns, "web")][1] == 48 - 6
    assert kube.hpas()[(ge_ns, "web")][0] >= HPA_MIN
    assert a.metrics.registry.get_sample_value("capctl_config_last_reload_successful", {"part": "policies"}) == 1.0
