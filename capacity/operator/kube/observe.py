"""Read what is in force for each component: its HPA (floor, ceiling) or its workload's scale.

Lists, not one GET per object, and each object keeps the resourceVersion the actuator sends back as a
precondition. A kind spread over several namespaces is read with one LIST across all namespaces, in
pages of `PAGE` (a thousand plaques: ~25 requests instead of 2,000); where RBAC grants only some
namespaces (403 on the cluster-wide list), the caller's `namespaced` set remembers it and that kind is
read with one LIST per namespace from then on. Reads never write. A failed list marks its components
unobserved for this tick; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from capacity.operator.kube.api import KubeClients, KubeError, NotFound, Obj, call
from capacity.policy.topology import Topology

KIND_HPA = "HorizontalPodAutoscaler"
PAGE = 2000  # objects per page of a cluster-wide list: a few MB of JSON, a national topology in ~5 pages
log = logging.getLogger("capctl.observe")


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


def targets_of(topology: Topology) -> list[TargetRef]:
    """Every component of every plaque, as the workload and HPA it scales (topology order)."""
    return [
        TargetRef(
            plaque=p.id,
            component=c.name,
            context=p.kube_context,
            namespace=c.target.namespace,
            kind=c.target.kind,
            name=c.target.name,
            hpa=c.target.hpa,
        )
        for p in topology.plaques
        for c in p.components
    ]


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


def _all_lister(clients: KubeClients, context: str | None, kind: str) -> Any:
    apis = clients.apis(context)
    if kind == KIND_HPA:
        return apis.autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces
    if kind == "Deployment":
        return apis.apps.list_deployment_for_all_namespaces
    return apis.apps.list_stateful_set_for_all_namespaces


def _list_all(
    clients: KubeClients, context: str | None, kind: str, namespaces: set[str], timeout_s: tuple[float, float]
) -> dict[str, dict[str, Obj]]:
    """Objects of `kind` in `namespaces` by namespace and name, from one paged list across all namespaces."""
    found: dict[str, dict[str, Obj]] = {ns: {} for ns in namespaces}
    token: str | None = None
    while True:
        page: dict[str, Any] = {"_continue": token} if token else {}
        listed = call(_all_lister(clients, context, kind), timeout_s=timeout_s, limit=PAGE, **page)
        for o in listed.get("items") or []:
            meta = o["metadata"]
            if meta.get("namespace") in found:
                found[meta["namespace"]][meta["name"]] = o
        token = (listed.get("metadata") or {}).get("continue")
        if not token:
            return found


def observe(
    clients: KubeClients,
    targets: Iterable[TargetRef],
    *,
    timeout_s: tuple[float, float],
    cluster_wide: bool = False,
    namespaced: set[tuple[str | None, str]] | None = None,
) -> dict[tuple[str, str], Observed | KubeError]:
    """Observed state (or the error that prevented reading it) per target key: the HPA when the
    component has one (whatever the mode: the operator never fights an HPA), else the workload.

    `cluster_wide`: try one LIST across namespaces per kind; `namespaced`: (context, kind) pairs where that
    was refused (the caller keeps it between ticks, this call adds to it).
    """
    targets = list(targets)
    namespaced = set() if namespaced is None else namespaced
    wanted: dict[tuple[str | None, str, str], dict[str, Obj] | KubeError] = {}
    groups: dict[tuple[str | None, str], set[str]] = {}
    for t in targets:
        kind = KIND_HPA if t.hpa else t.kind
        wanted.setdefault((t.context, t.namespace, kind), {})
        groups.setdefault((t.context, kind), set()).add(t.namespace)
    for (context, kind), namespaces in groups.items():
        if cluster_wide and len(namespaces) > 1 and (context, kind) not in namespaced:
            try:
                for ns, objs in _list_all(clients, context, kind, namespaces, timeout_s).items():
                    wanted[(context, ns, kind)] = objs
                continue
            except KubeError as exc:
                if exc.status != 403:
                    wanted.update({(context, ns, kind): exc for ns in namespaces})
                    continue
                log.info(
                    "cluster-wide list forbidden: listing per namespace",
                    extra={"fields": {"context": context, "kind": kind, "error": str(exc)}},
                )
                namespaced.add((context, kind))
        for namespace in namespaces:
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
