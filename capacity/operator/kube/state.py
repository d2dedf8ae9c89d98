"""Scale-down stabilisation state, kept in a ConfigMap (`capctl-state` unless `capctl run --state-configmap`
names another, as the chart's `state.configMapName` does) so it survives restarts.

One key per plaque, its value JSON: {"<component>": {"history": [[epoch_s, replicas], ...]}}. The leader
reads it at the start of each tick and writes it back once at the end
(PUT with the resourceVersion it read; a 409 means another writer: re-read, then ours wins since only
the leader writes). A corrupt entry is dropped with a warning, never fatal: the worst outcome is a
scale-down that waits for no window, and `max-step` still paces it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from capacity.operator.decide import History
from capacity.operator.kube.api import JSON, Conflict, NotFound, call

log = logging.getLogger("capctl.state")

CONFIGMAP_NAME = "capctl-state"
FORMAT_VERSION = "1"


State = dict[tuple[str, str], History]


def encode(state: Mapping[tuple[str, str], History]) -> dict[str, str]:
    per_plaque: dict[str, dict[str, Any]] = {}
    for (plaque, component), history in sorted(state.items()):
        per_plaque.setdefault(plaque, {})[component] = {"history": [[round(t, 3), v] for t, v in history.points]}
    data = {p: json.dumps(c, separators=(",", ":"), sort_keys=True) for p, c in per_plaque.items()}
    data["format"] = FORMAT_VERSION
    return data


def decode(data: Mapping[str, str]) -> State:
    out: State = {}
    for plaque, text in data.items():
        if plaque == "format":
            continue
        try:
            comps = json.loads(text)
            for component, raw in comps.items():
                points = tuple((float(t), int(v)) for t, v in raw.get("history", []))
                out[(plaque, str(component))] = History(points=points)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("dropping unreadable state entry", extra={"fields": {"plaque": plaque, "error": str(exc)}})
    return out


class StateStore:
    """Read and write the state ConfigMap in the operator's namespace."""

    def __init__(
        self,
        api_client: Any,
        namespace: str,
        *,
        name: str = CONFIGMAP_NAME,
        timeout_s: tuple[float, float] = (3.0, 10.0),
    ) -> None:
        from kubernetes import client

        self.api = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.name = name
        self.timeout_s = timeout_s
        self._rv: str | None = None

    def load(self) -> State:
        try:
            cm = call(self.api.read_namespaced_config_map, self.name, self.namespace, timeout_s=self.timeout_s)
        except NotFound:
            self._rv = None
            return {}
        self._rv = cm["metadata"]["resourceVersion"]
        return decode(cm.get("data") or {})

    def save(self, state: Mapping[tuple[str, str], History], guard: Callable[[], None]) -> None:
        """Write the whole state; `guard` runs before each write (leadership check)."""
        data = encode(state)
        for _ in range(3):
            guard()
            body: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.name,
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": "capctl"},
                },
                "data": data,
            }
            try:
                if self._rv is None:
                    stored = call(
                        self.api.create_namespaced_config_map,
                        self.namespace,
                        body,
                        timeout_s=self.timeout_s,
                        content_type=JSON,
                    )
                else:
                    body["metadata"]["resourceVersion"] = self._rv
                    stored = call(
                        self.api.replace_namespaced_config_map,
                        self.name,
                        self.namespace,
                        body,
                        timeout_s=self.timeout_s,
                        content_type=JSON,
                    )
            except (Conflict, NotFound):
                self._refresh_rv()
                continue
            self._rv = stored["metadata"]["resourceVersion"]
            return
        raise Conflict(f"configmap {self.namespace}/{self.name} kept changing while being written", status=409)

    def _refresh_rv(self) -> None:
        try:
            cm = call(self.api.read_namespaced_config_map, self.name, self.namespace, timeout_s=self.timeout_s)
            self._rv = cm["metadata"]["resourceVersion"]
        except NotFound:
            self._rv = None
