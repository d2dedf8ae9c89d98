"""Operator tests against a REAL kube-apiserver (tests/support/envtest.py): same scenarios as tests/kube.

One control plane serves the whole session; each test gets its own slice of it: a copy of the shipped
policies whose plaque namespaces carry a unique suffix, its own operator namespace, and the workloads the
topology names (HPA floors at 2, ceilings at 10, as an application team would leave them). Controllers are
built the way `capctl run` builds them, from a kubeconfig file (admin certificate, or a ServiceAccount token).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.kube.api import KubeSettings
from capacity.operator.kube.state import CONFIGMAP_NAME
from capacity.operator.wiring import Operator, OperatorOptions, build_operator
from capacity.policy.bundle import load_policies
from tests.kube.conftest import HPA_MAX, HPA_MIN, POLICIES, REPLICAS, cached_calendar
from tests.support.envtest import (  # noqa: F401 - fixtures and the summary hook
    ControlPlane,
    control_plane,
    controller_manager,
    pytest_terminal_summary,
    unique_name,
)

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)  # Monday after the spring holidays of zone B
HOLIDAY = datetime(2021, 4, 19, 6, 30, tzinfo=PARIS)  # Monday of those holidays (zone B)
NAMESPACE_LINE = re.compile(r"^(\s+namespace:\s*)(\S+)\s*$", re.MULTILINE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder carries the `kube` marker (`-m "not kube"` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.kube)


@dataclass
class Slice:
    """One test's part of the shared control plane."""

    cp: ControlPlane
    tmp: Path
    home: str  # the operator's own namespace (Lease, state ConfigMap, its own Events)
    policies: Path  # the shipped policies, plaque namespaces suffixed
    namespaces: dict[str, str]  # plaque -> namespace
    admin: Any  # kubernetes.client.ApiClient as system:masters
    _closers: list[Any] = field(default_factory=list)

    # -- typed APIs (admin)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.admin)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.admin)

    @property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.admin)

    # -- reading what is in force

    def hpas(self) -> dict[tuple[str, str], tuple[int, int]]:
        out = {}
        for ns in self.namespaces.values():
            for h in self.autoscaling.list_namespaced_horizontal_pod_autoscaler(ns).items:
                out[(ns, h.metadata.name)] = (h.spec.min_replicas, h.spec.max_replicas)
        return out

    def hpa_versions(self) -> dict[tuple[str, str], str]:
        return {
            (ns, h.metadata.name): h.metadata.resource_version
            for ns in self.namespaces.values()
            for h in self.autoscaling.list_namespaced_horizontal_pod_autoscaler(ns).items
        }

    def scales(self) -> dict[tuple[str, str, str], int]:
        out = {}
        for ns in self.namespaces.values():
            for d in self.apps.list_namespaced_deployment(ns).items:
                out[("Deployment", ns, d.metadata.name)] = d.spec.replicas
            for s in self.apps.list_namespaced_stateful_set(ns).items:
                out[("StatefulSet", ns, s.metadata.name)] = s.spec.replicas
        return out

    def events(self, namespace: str | None = None) -> list[client.CoreV1Event]:
        spaces = [namespace] if namespace else [*self.namespaces.values(), self.home]
        return [e for ns in spaces for e in self.core.list_namespaced_event(ns).items]

    def state(self, name: str = CONFIGMAP_NAME) -> client.V1ConfigMap:
        return self.core.read_namespaced_config_map(name, self.home)

    # -- the operator

    def kubeconfig(self, name: str = "admin", token: str | None = None) -> Path:
        return self.cp.write_kubeconfig(self.tmp / f"kubeconfig-{name}", token=token)

    def instance(
        self,
        *,
        mode: Mode,
        identity: str = "capctl-a",
        kubeconfig: Path | None = None,
        policies: Path | None = None,
        lease: str = "capctl",
        state_name: str = CONFIGMAP_NAME,
        renew_every_s: float = 5.0,
    ) -> Operator:
        """A controller wired as `capctl run` wires it (capacity/operator/wiring.py), through a kubeconfig file."""
        kubeconfig = kubeconfig or self.kubeconfig()
        timeout_s = (5.0, 15.0)
        operator = build_operator(
            OperatorOptions(
                policies=policies or self.policies,
                mode=mode,
                identity=identity,
                namespace=self.home,
                lease_name=lease,
                state_configmap=state_name,
                kube=KubeSettings(kubeconfig=kubeconfig, user_agent=f"capctl/{identity}", timeout_s=timeout_s),
                lease_renew_every_s=renew_every_s,
                self_ref={"apiVersion": "v1", "kind": "Pod", "name": identity, "namespace": self.home},
                timeout_s=timeout_s,
            ),
            calendar_loader=cached_calendar,
        )
        self._closers.append(operator.clients)
        return operator

    def close(self) -> None:
        for c in self._closers:
            c.close()
        self.admin.close()


def suffixed_policies(dest: Path, suffix: str, edit: Callable[[str], str] = lambda t: t) -> tuple[Path, dict[str, str]]:
    """The shipped policies with every plaque namespace renamed `<namespace>-<suffix>`."""
    shutil.copytree(POLICIES, dest)
    topo = dest / "topology.yaml"
    text = NAMESPACE_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}-{suffix}", edit(topo.read_text()))
    topo.write_text(text)
    namespaces = {p.id: p.namespace for p in load_policies(dest).topology.plaques}
    return dest, namespaces


def seed(s: Slice) -> None:
    """Namespaces, and every workload and HPA the topology names, created through the real API."""
    for ns in [s.home, *s.namespaces.values()]:
        s.core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for plaque in load_policies(s.policies).topology.plaques:
        for c in plaque.components:
            t = c.target
            labels = {"app": t.name}
            template = {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": t.name, "image": f"registry.invalid/ent/{t.name}:1"}]},
            }
            spec: dict[str, Any] = {"replicas": REPLICAS, "selector": {"matchLabels": labels}, "template": template}
            if t.kind == "Deployment":
                s.apps.create_namespaced_deployment(
                    t.namespace,
                    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": t.name}, "spec": spec},
                )
            else:
                spec["serviceName"] = t.name
                s.apps.create_namespaced_stateful_set(
                    t.namespace,
                    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": t.name}, "spec": spec},
                )
            if t.hpa:
                s.autoscaling.create_namespaced_horizontal_pod_autoscaler(
                    t.namespace,
                    {
                        "apiVersion": "autoscaling/v2",
                        "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": t.hpa},
                        "spec": {
                            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": t.kind, "name": t.name},
                            "minReplicas": HPA_MIN,
                            "maxReplicas": HPA_MAX,
                            "metrics": [
                                {
                                    "type": "Resource",
                                    "resource": {
                                        "name": "cpu",
                                        "target": {"type": "Utilization", "averageUtilization": 70},
                                    },
                                }
                            ],
                        },
                    },
                )


def make_slice(cp: ControlPlane, tmp: Path, edit: Callable[[str], str] = lambda t: t) -> Slice:
    suffix = unique_name("t").removeprefix("t-")
    policies, namespaces = suffixed_policies(tmp / "policies", suffix, edit)
    s = Slice(
        cp=cp, tmp=tmp, home=f"capctl-{suffix}", policies=policies, namespaces=namespaces, admin=cp.admin_client()
    )
    seed(s)
    return s


@pytest.fixture
def kube(control_plane: ControlPlane, tmp_path: Path) -> Iterator[Slice]:  # noqa: F811 - fixture imported above
    """This test's namespaces, seeded with the shipped topology's workloads, on the shared real API server."""
    s = make_slice(control_plane, tmp_path)
    try:
        yield s
    finally:
        s.close()


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 60.0, every_s: float = 0.5) -> float:
    """Poll `check` until true (bounded); return the seconds it took."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)
