"""End to end with the real controllers: after a floor tick, the real HPA controller (kube-controller-manager)
raises each Deployment's .spec.replicas to the new minReplicas. No metrics API is needed for that: an HPA
whose target runs below minReplicas is brought up to it before any metric is read.
"""

from __future__ import annotations

from capacity.operator.decide import Mode
from tests.realkube.conftest import RENTREE, REPLICAS, Slice, wait_for
from tests.support.envtest import ControlPlane


def test_after_a_floor_tick_the_hpa_controller_raises_the_deployments(
    controller_manager: ControlPlane, kube: Slice
) -> None:
    a = kube.instance(mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert report.ok, report
    floors = {
        (c.target.namespace, c.target.name): c.decision.replicas
        for c in report.components
        if c.target.hpa and c.target.kind == "Deployment" and c.decision is not None
    }
    assert len(floors) >= 10 and all(v > REPLICAS for v in floors.values())

    def raised() -> bool:
        scales = kube.scales()
        return all(scales[("Deployment", ns, name)] == floor for (ns, name), floor in floors.items())

    took = wait_for("the HPA controller to scale every Deployment to its new floor", raised, timeout_s=90.0)
    ge_ns = kube.namespaces["grand-est"]
    hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("api", ge_ns)
    assert hpa.status.desired_replicas == floors[(ge_ns, "api")]
    # the workloads without an HPA (messagerie, a StatefulSet) are left alone in floor mode
    assert all(v == REPLICAS for (kind, _, _), v in kube.scales().items() if kind == "StatefulSet")
    print(f"HPA controller converged in {took:.1f} s")
