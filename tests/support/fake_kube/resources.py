"""The resource types the fake serves, and the discovery documents that describe exactly those.

Each type carries the per-resource facts the real registry strategies encode (status subresource, how
`metadata.generation` moves, whether a PUT may create), so the store can stay generic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Generation = Literal["none", "spec", "spec+annotations"]

SERVER_VERSION = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.0-fake",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    model: str  # kubernetes.client model class that describes the wire schema
    singular: str
    short_names: tuple[str, ...] = ()
    has_status: bool = False
    has_scale: bool = False
    generation: Generation = "none"
    allow_create_on_update: bool = False
    verbs: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        "V1Deployment",
        "deployment",
        ("deploy",),
        has_status=True,
        has_scale=True,
        generation="spec+annotations",
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        "V1StatefulSet",
        "statefulset",
        ("sts",),
        has_status=True,
        has_scale=True,
        generation="spec",
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        "V2HorizontalPodAutoscaler",
        "horizontalpodautoscaler",
        ("hpa",),
        has_status=True,
        generation="spec",
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", "V1Lease", "lease"),
    ResourceType("", "v1", "configmaps", "ConfigMap", "V1ConfigMap", "configmap", ("cm",)),
    ResourceType("", "v1", "events", "Event", "CoreV1Event", "event", ("ev",), allow_create_on_update=True),
)

SCALE_MODEL = "V1Scale"


def find_by_path(prefix: str, plural: str) -> ResourceType | None:
    for rt in RESOURCES:
        if rt.prefix == prefix and rt.plural == plural:
            return rt
    return None


def find_by_kind(api_version: str, kind: str) -> ResourceType:
    for rt in RESOURCES:
        if rt.api_version == api_version and rt.kind == kind:
            return rt
    served = ", ".join(f"{rt.api_version}/{rt.kind}" for rt in RESOURCES)
    raise KeyError(f"the fake does not serve {api_version}/{kind}; it serves {served}")


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": True,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
            **({"shortNames": list(rt.short_names)} if rt.short_names else {}),
        }
    ]
    if rt.has_scale:
        entries.append(
            {
                "name": f"{rt.plural}/scale",
                "singularName": "",
                "namespaced": True,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }
        )
    return entries


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group_list() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for rt in RESOURCES:
        if rt.group and rt.version not in groups.setdefault(rt.group, []):
            groups[rt.group].append(rt.version)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g, v) for g, v in groups.items()]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group(name: str) -> dict[str, Any] | None:
    versions = [rt.version for rt in RESOURCES if rt.group == name]
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, sorted(set(versions)))}


def resource_list(prefix: str) -> dict[str, Any] | None:
    served = [rt for rt in RESOURCES if rt.prefix == prefix]
    if not served:
        return None
    entries = [entry for rt in served for entry in _resource_entries(rt)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": served[0].api_version,
        "resources": entries,
    }
