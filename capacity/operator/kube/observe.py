"""Read what is in force for each component: its HPA (floor, ceiling) or its workload's scale.

One LIST per namespace and kind (not one GET per object): a tick over 50 plaques reads ~150 lists
instead of 300 objects, and each object keeps the resourceVersion the actuator sends back as a
precondition. Reads never write. A failed list marks its components unobserved for this tick; the
others go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from capacity.operator.kube.api import KubeClients, KubeError, NotFound, Obj, call

KIND_HPA = "HorizontalPodAutoscaler"


class WrongTarget(KubeError):
    """The HPA of that name scales another workload than the topology says (recreated, renamed):
    writing its floor would move someone else's workload. Skipped, with a Warning Event."""


@dataclass(frozen=True)
class TargetRef:
    """Where one component lives. `kind`/`name` is the workload; `hpa` its HPA, if any."""

    plaque: str
    component: str
    context: str | None
    namespace: str
    kind: str  # Deployment | StatefulSet
    name: str
    hpa: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.plaque, self.component)

    def object_ref(self) -> dict[str, str]:
        """The object the operator changes (for Events): the HPA when there is one, else the workload."""
        if self.hpa:
            return {"apiVersion": "autoscaling/v2", "kind": KIND_HPA, "name": self.hpa, "namespace": self.namespace}
        return {"apiVersion": "apps/v1", "kind": self.kind, "name": self.name, "namespace": self.namespace}


@dataclass(frozen=True)
class Observed:
    """The state read for one target. For an HPA, `replicas` is its status.currentReplicas."""

    resource_version: str
    uid: str | None
    replicas: int | None
    min_replicas: int | None = None
    max_replicas: int | None = None

    @property
    def is_hpa(self) -> bool:
        return self.max_replicas is not None


def hpa_observed(obj: Obj) -> Observed:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return Observed(
        resource_version=obj["metadata"]["resourceVersion"],
        uid=obj["metadata"].get("uid"),
        replicas=status.get("currentReplicas"),
        min_replicas=int(spec.get("minReplicas", 1)),
        max_replicas=int(spec["maxReplicas"]),
    )


def scale_observed(obj: Obj) -> Observed:
    """From a Deployment, a StatefulSet or their Scale: the desired replicas."""
    spec = obj.get("spec") or {}
    return Observed(
        resource_version=obj["metadata"]["resourceVersion"],
        uid=obj["metadata"].get("uid"),
        replicas=int(spec.get("replicas", 1)),
    )


def _lister(clients: KubeClients, context: str | None, kind: str) -> Any:
    apis = clients.apis(context)
    if kind == KIND_HPA:
        return apis.autoscaling.list_namespaced_horizontal_pod_autoscaler
    return apis.apps.list_namespaced_deployment if kind == "Deployment" else apis.apps.list_namespaced_stateful_set


def observe(
    clients: KubeClients, targets: Iterable[TargetRef], *, timeout_s: tuple[float, float]
) -> dict[tuple[str, str], Observed | KubeError]:
    """Observed state (or the error that prevented reading it) per target key: the HPA when the
    component has one (whatever the mode: the operator never fights an HPA), else the workload."""
    targets = list(targets)
    wanted: dict[tuple[str | None, str, str], dict[str, Obj] | KubeError] = {}
    for t in targets:
        wanted.setdefault((t.context, t.namespace, KIND_HPA if t.hpa else t.kind), {})
    for context, namespace, kind in wanted:
        try:
            listed = call(_lister(clients, context, kind), namespace, timeout_s=timeout_s)
            wanted[(context, namespace, kind)] = {o["metadata"]["name"]: o for o in listed.get("items") or []}
        except KubeError as exc:
            wanted[(context, namespace, kind)] = exc
    out: dict[tuple[str, str], Observed | KubeError] = {}
    for t in targets:
        hpa = t.hpa is not None
        found = wanted[(t.context, t.namespace, KIND_HPA if hpa else t.kind)]
        name = t.hpa if hpa and t.hpa else t.name
        if isinstance(found, KubeError):
            out[t.key] = found
        elif name not in found:
            kind = KIND_HPA if hpa else t.kind
            out[t.key] = NotFound(
                f"{kind} {t.namespace}/{name} not found (topology: {t.plaque}/{t.component})", status=404
            )
        elif hpa:
            out[t.key] = _check_hpa(t, found[name])
        else:
            out[t.key] = scale_observed(found[name])
    return out


def _check_hpa(t: TargetRef, obj: Obj) -> Observed | KubeError:
    """The HPA must scale the workload the topology names; otherwise acting on it would be wrong."""
    ref = (obj.get("spec") or {}).get("scaleTargetRef") or {}
    if ref.get("kind") != t.kind or ref.get("name") != t.name:
        return WrongTarget(
            f"HPA {t.namespace}/{t.hpa} scales {ref.get('kind')} {ref.get('name')}, but the topology says "
            f"{t.plaque}/{t.component} is {t.kind} {t.name}; fix topology.yaml or the HPA"
        )
    return hpa_observed(obj)


def read_one(clients: KubeClients, t: TargetRef, *, timeout_s: tuple[float, float]) -> Observed:
    """Fresh read of one target (after a 409): the HPA, or the workload's scale subresource.

    The HPA is checked again like `observe` does (raises WrongTarget): it may have been recreated
    under the same name for another workload since the first read."""
    apis = clients.apis(t.context)
    if t.hpa:
        obj = call(apis.autoscaling.read_namespaced_horizontal_pod_autoscaler, t.hpa, t.namespace, timeout_s=timeout_s)
        checked = _check_hpa(t, obj)
        if isinstance(checked, KubeError):
            raise checked
        return checked
    read = apis.apps.read_namespaced_deployment_scale
    if t.kind != "Deployment":
        read = apis.apps.read_namespaced_stateful_set_scale
    return scale_observed(call(read, t.name, t.namespace, timeout_s=timeout_s))
