"""Operator tests: a real `kubernetes` client against the in-process fake API server.

Helpers seed the fake with the workloads the shipped topology names (HPA floors at 2, ceilings at 10, as
an application team would leave them) and build controllers the way `capctl run` does, from a kubeconfig.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from capacity.calendar import SchoolCalendar
from capacity.calendar.types import Calendar
from capacity.operator.decide import Mode
from capacity.operator.kube.api import KubeSettings
from capacity.operator.live_usage import LiveUsage
from capacity.operator.wiring import Operator, OperatorOptions, build_operator
from capacity.policy.bundle import load_policies
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.fixtures import fake_kube  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
HOME = "capctl-system"
HPA_MIN, HPA_MAX, REPLICAS = 2, 10, 2


@functools.cache
def _calendar(files: tuple[Path, ...]) -> Calendar:
    return SchoolCalendar.load(list(files))


def cached_calendar(files: Sequence[Path]) -> Calendar:
    """The shipped calendar loads in ~0.4 s; tests share it per event-file list (their content is fixed)."""
    return _calendar(tuple(files))


def seed(fake: FakeKube, policies: Path = POLICIES) -> None:
    """Every workload and HPA the topology names, plus the operator's own namespace."""
    fake.add_namespace(HOME)
    for plaque in load_policies(policies).topology.plaques:
        fake.add_namespace(plaque.namespace)
        for c in plaque.components:
            t = c.target
            if t.kind == "Deployment":
                fake.add_deployment(t.namespace, t.name, replicas=REPLICAS)
            else:
                fake.add_statefulset(t.namespace, t.name, replicas=REPLICAS)
            if t.hpa:
                fake.add_hpa(t.namespace, t.hpa, t.kind, t.name, HPA_MIN, HPA_MAX, current_replicas=REPLICAS)


def make_instance(
    fake: FakeKube,
    tmp_path: Path,
    *,
    mode: Mode,
    identity: str = "capctl-a",
    policies: Path = POLICIES,
    events: Sequence[Path] = (),
    usage: LiveUsage | None = None,
    renew_every_s: float = 5.0,
    timeout_s: tuple[float, float] = (2.0, 2.0),
    sleep: Callable[[float], None] | None = None,
) -> Operator:
    """A controller wired as `capctl run` wires it (capacity/operator/wiring.py), through a kubeconfig file."""
    kubeconfig = fake.kubeconfig(tmp_path / f"kubeconfig-{identity}")
    options = OperatorOptions(
        policies=policies,
        events=tuple(events),
        mode=mode,
        identity=identity,
        namespace=HOME,
        kube=KubeSettings(kubeconfig=kubeconfig, user_agent=f"capctl/{identity}", timeout_s=timeout_s),
        lease_renew_every_s=renew_every_s,
        self_ref={"apiVersion": "v1", "kind": "Pod", "name": identity, "namespace": HOME},
        timeout_s=timeout_s,
    )
    operator = build_operator(
        options, usage=usage, calendar_loader=cached_calendar, sleep=sleep or (lambda _s: fake.wait_idle())
    )
    return operator


@pytest.fixture
def seeded(fake_kube: FakeKube) -> FakeKube:  # noqa: F811 - the fixture imported above
    seed(fake_kube)
    fake_kube.clear_log()
    return fake_kube


def hpa(fake: FakeKube, namespace: str, name: str) -> dict[str, Any]:
    obj = fake.get_object("autoscaling/v2", "HorizontalPodAutoscaler", namespace, name)
    assert obj is not None
    return obj


def all_hpas(fake: FakeKube) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): (o["spec"]["minReplicas"], o["spec"]["maxReplicas"])
        for o in fake.list_objects("autoscaling/v2", "HorizontalPodAutoscaler")
    }


def all_scales(fake: FakeKube) -> dict[tuple[str, str, str], int]:
    out = {}
    for kind in ("Deployment", "StatefulSet"):
        for o in fake.list_objects("apps/v1", kind):
            out[(kind, o["metadata"]["namespace"], o["metadata"]["name"])] = o["spec"]["replicas"]
    return out


def metric(instance: Operator, name: str, **labels: str) -> float | None:
    value = instance.metrics.registry.get_sample_value(name, labels)
    return value
