"""Scale-down stabilisation state, kept in a ConfigMap (`capctl-state` unless `capctl run --state-configmap`
names another, as the chart's `state.configMapName` does) so it survives restarts.

One key per plaque, its value JSON: {"<component>": {"history": [[epoch_s, replicas], ...]}}, and the
key `intent`: what the leader is about to write in this tick (see `Intent`). The leader reads it at the
start of each tick and writes it *before* its first workload write (history and intent), then once more
after its writes when there were any (intent done). A leader killed mid-tick thus leaves the window's
history and the list of its writes: the successor keeps the window and finishes (and reports) the tick.
PUT with the resourceVersion it read; a 409 means another writer: re-read, then ours wins since only
the leader writes. A corrupt entry or point (not a number, infinite, negative) is dropped with a
warning, never fatal: the worst outcome is a scale-down that waits for no window, and `max-step`
still paces it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from capacity.operator.decide import History
from capacity.operator.kube.api import JSON, Conflict, NotFound, call

log = logging.getLogger("capctl.state")

CONFIGMAP_NAME = "capctl-state"
FORMAT_VERSION = "1"


INTENT_KEY = "intent"
RESERVED = ("format", INTENT_KEY)
#: No component runs more replicas than this; a larger number in the state is corruption.
MAX_REPLICAS = 100_000

State = dict[tuple[str, str], History]


@dataclass(frozen=True)
class Intent:
    """The writes a leader planned for one tick, recorded before the first of them.

    `writes` maps (plaque, component) to the spec fields it sets. `done` is set once every write was
    tried. A successor that reads an intent not done knows the tick was cut short: it says so, and its
    own tick (same plan, idempotent writes of only what differs) finishes it.
    """

    leader: str
    at: str
    writes: Mapping[tuple[str, str], Mapping[str, int]]
    done: bool = False

    def to_json(self) -> str:
        writes = [[p, c, dict(spec)] for (p, c), spec in sorted(self.writes.items())]
        body = {"leader": self.leader, "at": self.at, "done": self.done, "writes": writes}
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Intent | None:
        try:
            raw = json.loads(text)
            writes = {(str(p), str(c)): {str(k): _replicas(v) for k, v in spec.items()} for p, c, spec in raw["writes"]}
            return Intent(str(raw["leader"]), str(raw["at"]), writes, bool(raw["done"]))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("dropping unreadable state intent", extra={"fields": {"error": str(exc)}})
            return None


def encode(state: Mapping[tuple[str, str], History], intent: Intent | None = None) -> dict[str, str]:
    per_plaque: dict[str, dict[str, Any]] = {}
    for (plaque, component), history in sorted(state.items()):
        per_plaque.setdefault(plaque, {})[component] = {"history": [[round(t, 3), v] for t, v in history.points]}
    data = {p: json.dumps(c, separators=(",", ":"), sort_keys=True) for p, c in per_plaque.items()}
    data["format"] = FORMAT_VERSION
    if intent is not None:
        data[INTENT_KEY] = intent.to_json()
    return data


def decode(data: Mapping[str, str]) -> State:
    """Histories per (plaque, component); unreadable entries and invalid points are dropped, said once."""
    out: State = {}
    for plaque, text in data.items():
        if plaque in RESERVED:
            continue
        try:
            comps = json.loads(text)
            for component, raw in comps.items():
                out[(plaque, str(component))] = _history(plaque, str(component), raw.get("history", []))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("dropping unreadable state entry", extra={"fields": {"plaque": plaque, "error": str(exc)}})
    return out


def _replicas(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v != int(v):
        raise ValueError(f"not a whole number of replicas: {v!r}")
    if not 0 <= v <= MAX_REPLICAS:
        raise ValueError(f"replicas out of range: {v!r}")
    return int(v)


def _history(plaque: str, component: str, raw: Any) -> History:
    points: list[tuple[float, int]] = []
    bad: list[str] = []
    for item in raw:
        try:
            t, v = item
            if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
                raise ValueError(f"not a time: {t!r}")
            points.append((float(t), _replicas(v)))
        except (ValueError, TypeError) as exc:
            bad.append(str(exc))
    if bad:
        fields = {"plaque": plaque, "component": component, "dropped": len(bad), "error": bad[0]}
        log.warning("dropping invalid state points", extra={"fields": fields})
    return History(points=tuple(sorted(points)))


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
        self.intent: Intent | None = None  # as read by the last `load`

    def load(self) -> State:
        self.intent = None
        try:
            cm = call(self.api.read_namespaced_config_map, self.name, self.namespace, timeout_s=self.timeout_s)
        except NotFound:
            self._rv = None
            return {}
        self._rv = cm["metadata"]["resourceVersion"]
        data = cm.get("data") or {}
        if INTENT_KEY in data:
            self.intent = Intent.from_json(data[INTENT_KEY])
        return decode(data)

    def save(
        self, state: Mapping[tuple[str, str], History], guard: Callable[[], None], intent: Intent | None = None
    ) -> None:
        """Write the whole state; `guard` runs before each write (leadership check)."""
        data = encode(state, intent)
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
            fields = {"configmap": f"{self.namespace}/{self.name}", "resource_version": self._rv}
            if intent is not None:
                fields.update(intent_writes=len(intent.writes), intent_done=intent.done)
            log.debug("state saved", extra={"fields": fields})
            return
        raise Conflict(f"configmap {self.namespace}/{self.name} kept changing while being written", status=409)

    def _refresh_rv(self) -> None:
        try:
            cm = call(self.api.read_namespaced_config_map, self.name, self.namespace, timeout_s=self.timeout_s)
            self._rv = cm["metadata"]["resourceVersion"]
        except NotFound:
            self._rv = None
