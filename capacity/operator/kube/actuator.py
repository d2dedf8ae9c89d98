"""The only code that writes to workloads: HPA floors (floor mode) and scale subresources (direct mode).

Every write is ONE merge patch carrying the resourceVersion the decision was based on, so it either
applies whole or not at all, and never over a change it did not see:
  * 409 Conflict: read the object again, decide again from what is now in force, retry at once;
  * 5xx, 429, timeout: back off (exponential, jittered) and resend the same conditional patch. If the
    lost attempt had in fact been applied, the resend gets a 409, the fresh read shows the value in
    place, and nothing more is written;
  * anything else (403, 404, 422): give up for this tick, report;
  * the re-read shows an HPA that now scales another workload (recreated under the same name):
    `skipped`, nothing written (the controller emits a Warning Event).
Every write is logged before it is sent, so a process killed mid-write leaves a trace.
After `give_up_after` components in a row failed on 5xx/timeouts, the rest of the tick writes nothing:
an API server that is down is not hammered, and the next tick starts afresh.
Before every write, `guard()` checks leadership: a leader that lost its lease raises out at once.
Recommend mode never reaches this module.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from capacity.operator.decide import Decision, Mode
from capacity.operator.kube.api import MERGE_PATCH, Conflict, KubeClients, KubeError, Obj, Transient, call
from capacity.operator.kube.observe import Observed, TargetRef, WrongTarget, read_one

log = logging.getLogger("capctl.actuator")


@dataclass(frozen=True)
class Outcome:
    """What happened to one component: `applied`, `unchanged`, `skipped` or `failed` (with the error)."""

    status: str
    decision: Decision
    before: Observed
    spec: dict[str, int]
    attempts: int = 1
    error: str | None = None
    transient: bool = False


def spec_change(mode: Mode, observed: Observed, decision: Decision) -> dict[str, int]:
    """The spec fields to change, only those that differ (empty: nothing to write)."""
    if mode is Mode.FLOOR:
        want_max = max(1, decision.ceiling)
        want_min = min(max(1, decision.replicas), want_max)
        out = {}
        if observed.min_replicas != want_min:
            out["minReplicas"] = want_min
        if observed.max_replicas != want_max:
            out["maxReplicas"] = want_max
        return out
    if mode is Mode.DIRECT:
        return {} if observed.replicas == decision.replicas else {"replicas": decision.replicas}
    return {}


class Actuator:
    def __init__(
        self,
        clients: KubeClients,
        guard: Callable[[], None],
        *,
        timeout_s: tuple[float, float] = (3.0, 10.0),
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        give_up_after: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clients = clients
        self.guard = guard
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.give_up_after = give_up_after
        self.sleep = sleep
        self._failing = 0

    def reset(self) -> None:
        """A new tick: give the API server a fresh chance."""
        self._failing = 0

    def apply(
        self, target: TargetRef, mode: Mode, observed: Observed, redecide: Callable[[Observed], Decision]
    ) -> Outcome:
        """Bring `target` to the decision (re-made from fresh state after a conflict)."""
        first, obs = observed, observed
        decision = redecide(obs)
        if self._failing >= self.give_up_after and spec_change(mode, obs, decision):
            msg = f"not attempted: the API server failed {self._failing} components in a row this tick"
            return Outcome("failed", decision, first, {}, 0, error=msg)
        outcome = self._apply(target, mode, first, decision, redecide)
        transient = outcome.status == "failed" and outcome.error is not None and outcome.transient
        self._failing = self._failing + 1 if transient else 0
        return outcome

    def _apply(
        self,
        target: TargetRef,
        mode: Mode,
        first: Observed,
        decision: Decision,
        redecide: Callable[[Observed], Decision],
    ) -> Outcome:
        obs = first
        sent = False  # a write may have landed without us seeing the answer
        error: KubeError | None = None
        for attempt in range(1, self.max_attempts + 1):
            spec = spec_change(mode, obs, decision)
            if not spec:
                status = "applied" if sent else "unchanged"
                return Outcome(status, decision, first, spec_change(mode, first, decision), attempt)
            self.guard()
            fields = {"target": f"{target.namespace}/{target.hpa or target.name}", "spec": spec, "attempt": attempt}
            log.info("writing", extra={"fields": {"plaque": target.plaque, "component": target.component, **fields}})
            try:
                self._patch(target, mode, obs.resource_version, spec)
                return Outcome("applied", decision, first, spec_change(mode, first, decision), attempt)
            except Conflict as exc:
                error = exc
                log.info("conflict; re-reading", extra={"fields": {"target": f"{target.namespace}/{target.name}"}})
                try:
                    obs = read_one(self.clients, target, timeout_s=self.timeout_s)
                except WrongTarget as wrong:
                    return Outcome("skipped", decision, first, {}, attempt, error=str(wrong))
                except KubeError as read_exc:
                    error = read_exc
                    if not isinstance(read_exc, Transient):
                        break
                    if attempt < self.max_attempts:
                        self._backoff(attempt)
                    continue
                decision = redecide(obs)
            except Transient as exc:
                error, sent = exc, True
                log.warning("API error; backing off", extra={"fields": {"attempt": attempt, "error": str(exc)}})
                if attempt < self.max_attempts:
                    self._backoff(attempt)
            except KubeError as exc:
                error = exc
                break
        msg = str(error) if error else "gave up"
        return Outcome(
            "failed", decision, first, {}, self.max_attempts, error=msg, transient=isinstance(error, Transient)
        )

    def _backoff(self, attempt: int) -> None:
        self.sleep(self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random() / 2))

    def _patch(self, t: TargetRef, mode: Mode, resource_version: str, spec: dict[str, int]) -> Obj:
        body: dict[str, Any] = {"metadata": {"resourceVersion": resource_version}, "spec": spec}
        apis = self.clients.apis(t.context)
        fn: Callable[..., Any]
        if mode is Mode.FLOOR and t.hpa:
            fn, name = apis.autoscaling.patch_namespaced_horizontal_pod_autoscaler, t.hpa
        elif mode is Mode.DIRECT:
            fn = apis.apps.patch_namespaced_deployment_scale
            if t.kind != "Deployment":
                fn = apis.apps.patch_namespaced_stateful_set_scale
            name = t.name
        else:
            raise ValueError(f"mode {mode} does not write to {t.kind} {t.name}")
        return call(fn, name, t.namespace, body, timeout_s=self.timeout_s, content_type=MERGE_PATCH)
