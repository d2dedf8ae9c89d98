"""Kubernetes Events (core/v1): one for every change the operator makes, with its reasons.

`kubectl describe hpa web -n ent-grand-est` then shows who raised the floor, when, from what to what,
and why. Events are best effort: a failure to record one is logged and counted, never undoes or blocks
the change it describes. Like every write, they are guarded by the leadership check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from capacity.operator.kube.api import JSON, KubeClients, KubeError, call, micro_time, rfc3339

log = logging.getLogger("capctl.events")
COMPONENT = "capctl"


class EventRecorder:
    def __init__(
        self,
        clients: KubeClients,
        identity: str,
        *,
        guard: Callable[[], None],
        on_error: Callable[[KubeError], None] = lambda _e: None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout_s: tuple[float, float] = (3.0, 5.0),
    ) -> None:
        self.clients = clients
        self.identity = identity
        self.guard = guard
        self.on_error = on_error
        self.wall = wall
        self.timeout_s = timeout_s

    def emit(
        self,
        involved: dict[str, Any],
        reason: str,
        message: str,
        *,
        context: str | None = None,
        warning: bool = False,
        action: str = "Scale",
    ) -> None:
        """Record one Event about `involved` ({apiVersion, kind, name, namespace[, uid]})."""
        now = self.wall()
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{involved['name']}.", "namespace": involved["namespace"]},
            "involvedObject": involved,
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": COMPONENT},
            "firstTimestamp": rfc3339(now),
            "lastTimestamp": rfc3339(now),
            "eventTime": micro_time(now),
            "count": 1,
            "action": action,
            "reportingComponent": COMPONENT,
            "reportingInstance": self.identity[:128],
        }
        try:
            self.guard()
            call(
                self.clients.apis(context).core.create_namespaced_event,
                involved["namespace"],
                body,
                timeout_s=self.timeout_s,
                content_type=JSON,
            )
        except KubeError as exc:
            log.warning("event not recorded", extra={"fields": {"reason": reason, "error": str(exc)}})
            self.on_error(exc)
