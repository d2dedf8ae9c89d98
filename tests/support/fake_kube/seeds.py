"""Manifests for seeding the fake with workloads that look like a converged cluster.

Each builder returns what the real objects look like once their controllers have caught up (status equal to
spec, observedGeneration current), so an operator under test starts from a plausible steady state.
"""

from __future__ import annotations

from typing import Any


def _template(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:1.0"}]},
    }


def workload(
    kind: str, namespace: str, name: str, replicas: int, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    labels = labels or {"app": name}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": dict(labels)},
        "template": _template(name, labels),
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    status: dict[str, Any] = {
        "observedGeneration": 1,
        "replicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "updatedReplicas": replicas,
    }
    if kind == "StatefulSet":
        status["currentReplicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
        "status": status,
    }


def hpa(
    namespace: str,
    name: str,
    target_kind: str,
    target_name: str,
    min_replicas: int,
    max_replicas: int,
    current_replicas: int | None = None,
) -> dict[str, Any]:
    current = min_replicas if current_replicas is None else current_replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target_name},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        "status": {"observedGeneration": 1, "currentReplicas": current, "desiredReplicas": current},
    }
