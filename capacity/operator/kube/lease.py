"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.

Two replicas run; the one holding the Lease acts. Expiry is judged on the local monotonic clock from
the moment a change of the record was *observed*, never by comparing clocks between pods. Every write
the operator makes is preceded by `ensure()`: it renews when a renewal is due and raises
`LeadershipLost` as soon as the lease is not ours or may have expired, so a leader that lost its lease
stops writing at once. `release()` (on SIGTERM) hands the lease over without waiting for expiry.

A record naming our identity that this process did not write (another process started with the same
`--identity`, or our previous life) is treated like any other holder's: taken only once it expired.
Without that, two processes with one identity would both renew and both write. `hold_off()` keeps a
leader that gave the lease up (failing ticks) from taking it back before the standby could.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capacity.common.errors import CapctlError
from capacity.operator.kube.api import JSON, Conflict, KubeError, NotFound, Obj, Transient, call, micro_time

log = logging.getLogger("capctl.lease")


class LeadershipLost(CapctlError):
    """This instance does not (or may no longer) hold the Lease: it must not write."""


@dataclass(frozen=True)
class LeaseSettings:
    name: str
    namespace: str
    identity: str
    duration_s: float = 15.0
    renew_every_s: float = 5.0  # renew at most this long after the last renewal, before a write
    margin_s: float = 2.0  # stop writing this long before the local view of the lease expires
    timeout_s: tuple[float, float] = (3.0, 5.0)


class LeaderElector:
    def __init__(
        self,
        api_client: Any,
        settings: LeaseSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from kubernetes import client

        self.api = client.CoordinationV1Api(api_client)
        self.s = settings
        self.clock = clock
        self.wall = wall
        self._renewed_at: float | None = None  # monotonic time of the request that last renewed it
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self.reachable = False  # the last round got an answer from the API server
        self.last_error: str | None = None
        self.holder: str | None = None  # the holder in the last record read ("" or None: free)
        self._written = False  # this process has written the current record of the lease
        self._not_before = float("-inf")

    # ----------------------------------------------------------------- state

    @property
    def is_leader(self) -> bool:
        return self._renewed_at is not None and self.clock() < self._renewed_at + self.s.duration_s - self.s.margin_s

    def renew_if_due(self) -> None:
        """Renew a held lease whose renewal is due, raising nothing: for long work between writes (planning a
        national topology takes longer than a Lease); a renewal that fails is caught by `ensure` at the next
        write."""
        if self._renewed_at is not None and self.clock() - self._renewed_at >= self.s.renew_every_s:
            self.try_acquire_or_renew()

    def ensure(self) -> None:
        """Guard before a write: renew if due; raise LeadershipLost unless the lease is surely ours."""
        if self._renewed_at is None:
            raise LeadershipLost(f"{self.s.identity} is not the leader")
        if self.clock() - self._renewed_at >= self.s.renew_every_s and not self.try_acquire_or_renew():
            raise LeadershipLost(f"{self.s.identity} lost the lease {self.s.namespace}/{self.s.name}")
        if not self.is_leader:
            self._renewed_at = None
            raise LeadershipLost(f"{self.s.identity}: lease {self.s.namespace}/{self.s.name} may have expired")

    # ----------------------------------------------------------------- protocol

    def try_acquire_or_renew(self) -> bool:
        """One round of the election; True when this instance holds the lease afterwards."""
        started = self.clock()
        if started < self._not_before:
            return False
        try:
            held = self._round(started)
            self.reachable, self.last_error = True, None
        except KubeError as exc:
            log.warning("lease round failed", extra={"fields": {"error": str(exc)}})
            self.reachable, self.last_error = not isinstance(exc, Transient), str(exc)
            held = self.is_leader  # keep acting only while our last renewal is surely valid
        if not held:
            if self._renewed_at is not None:
                log.warning("leadership lost", extra={"fields": {"identity": self.s.identity}})
            self._renewed_at = None
        return held

    def _round(self, started: float) -> bool:
        try:
            lease = call(self.api.read_namespaced_lease, self.s.name, self.s.namespace, timeout_s=self.s.timeout_s)
        except NotFound:
            return self._create(started)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        self.holder = holder
        record = (holder, spec.get("renewTime"), spec.get("leaseDurationSeconds"), spec.get("leaseTransitions"))
        if record != self._observed:
            self._observed, self._observed_at = record, started
            self._written = False
        duration = float(spec.get("leaseDurationSeconds") or self.s.duration_s)
        ours = holder == self.s.identity and self._written
        if holder and not ours and started < self._observed_at + duration:
            if holder == self.s.identity:
                log.warning(
                    "the lease names this identity but this process did not write it; waiting for it to expire",
                    extra={"fields": {"identity": self.s.identity, "lease": self.s.name}},
                )
            return False
        now = micro_time(self.wall())
        new_spec = dict(spec)
        new_spec.update(holderIdentity=self.s.identity, leaseDurationSeconds=int(self.s.duration_s), renewTime=now)
        if not ours:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        try:
            stored = self._replace(lease, new_spec)
        except Conflict:
            return False
        return self._won(stored, started, acquired=not ours)

    def _replace(self, lease: Obj, spec: Obj) -> Obj:
        """PUT the lease with `spec`, conditional on the resourceVersion it was read at (409 if it moved)."""
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": lease["metadata"], "spec": spec}
        stored: Obj = call(
            self.api.replace_namespaced_lease,
            self.s.name,
            self.s.namespace,
            body,
            timeout_s=self.s.timeout_s,
            content_type=JSON,
        )
        return stored

    def _create(self, started: float) -> bool:
        now = micro_time(self.wall())
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.s.name, "namespace": self.s.namespace},
            "spec": {
                "holderIdentity": self.s.identity,
                "leaseDurationSeconds": int(self.s.duration_s),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        try:
            stored = call(
                self.api.create_namespaced_lease, self.s.namespace, body, timeout_s=self.s.timeout_s, content_type=JSON
            )
        except Conflict:
            return False
        return self._won(stored, started, acquired=True)

    def _won(self, stored: Obj, started: float, *, acquired: bool) -> bool:
        spec = stored.get("spec") or {}
        self._observed = (
            spec.get("holderIdentity") or "",
            spec.get("renewTime"),
            spec.get("leaseDurationSeconds"),
            spec.get("leaseTransitions"),
        )
        self._observed_at = started
        self._written = True
        self.holder = self.s.identity
        if acquired or self._renewed_at is None:
            log.info("leadership acquired", extra={"fields": {"identity": self.s.identity, "lease": self.s.name}})
        self._renewed_at = started
        return True

    @property
    def holding_off(self) -> bool:
        return self.clock() < self._not_before

    def hold_off(self, seconds: float) -> None:
        """Do not try for the lease during `seconds` (after giving it up, so that the standby gets it)."""
        self._not_before = self.clock() + seconds

    def release(self) -> None:
        """Give the lease up now (SIGTERM): empty holder, 1 s duration, so a standby takes over at once."""
        if self._renewed_at is None:
            return
        self._renewed_at = None
        self._written = False
        try:
            lease = call(self.api.read_namespaced_lease, self.s.name, self.s.namespace, timeout_s=self.s.timeout_s)
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.s.identity:
                return
            spec.update(holderIdentity=None, leaseDurationSeconds=1, renewTime=micro_time(self.wall()))
            self._replace(lease, spec)
            log.info("lease released", extra={"fields": {"identity": self.s.identity}})
        except KubeError as exc:
            log.warning("lease release failed; it will expire", extra={"fields": {"error": str(exc)}})
