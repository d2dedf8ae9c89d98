"""The control loop around `Controller.tick`: scheduling, lease rounds between ticks, health, SIGTERM.

Between ticks the loop wakes every `renew_every_s` to renew (leader) or try for (standby) the Lease, so
a standby takes over within one lease duration of a leader's death, not one tick. On SIGTERM the current
tick finishes (every request is bounded by a timeout), then the lease is released at once.

A leader whose ticks fail (crash, nothing planned, every component failed) `unready_after_failed_ticks`
times in a row is not healthy whatever /healthz says: /readyz turns false, a Warning Event says why, and
it gives the Lease up and stays off it for two lease durations, so the standby (maybe luckier: other
node, other network path) takes over. It becomes ready again after a good tick, or as a standby once
that pause is over.

`run_once` (`capctl run --once`) waits up to one lease duration (plus a renewal period) for the Lease, as
a standby would for a killed leader's lease to expire; if another instance still holds it, it raises
(exit 2, naming the holder) and writes nothing. An API server that does not answer is not waited for.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from capacity.common.errors import CapctlError
from capacity.operator.controller import Controller
from capacity.operator.kube.lease import LeadershipLost
from capacity.operator.ops_metrics import Health
from capacity.operator.report import TickReport

log = logging.getLogger("capctl.runner")


@dataclass
class Runner:
    controller: Controller
    health: Health
    tick_s: float
    now: Callable[[], datetime]
    clock: Callable[[], float] = time.monotonic
    stop: threading.Event = field(default_factory=threading.Event)
    after_tick: Callable[[datetime], object] | None = None  # e.g. the scheduled refit (operator/refit.py)
    failed_in_a_row: int = 0
    gave_up: bool = False  # unready until a good tick, or until the hold-off after giving the lease up ends

    def install_signals(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run_once(self, wait_s: float | None = None) -> TickReport | None:
        """Wait for the Lease (default: one lease duration and a renewal period), one tick (errors
        propagate to the CLI), then hand the lease back. Raises LeadershipLost if it stays held."""
        elector = self.controller.elector
        wait = elector.s.duration_s + elector.s.renew_every_s if wait_s is None else wait_s
        deadline = self.clock() + wait
        while not elector.try_acquire_or_renew():
            if elector.last_error is not None:  # the API does not answer: the tick reports it (exit 1)
                break
            if self.clock() >= deadline or self.stop.is_set():
                held = f"held by {elector.holder}" if elector.holder else f"not readable ({elector.last_error})"
                raise LeadershipLost(
                    f"lease {elector.s.namespace}/{elector.s.name} {held} after waiting {wait:.0f} s; nothing written"
                )
            self.stop.wait(min(1.0, max(0.0, deadline - self.clock())))
        try:
            return self._tick(raise_errors=True)
        finally:
            elector.release()

    def tick(self) -> TickReport | None:
        """One tick of the loop: errors are logged and counted, never raised (as `run_forever` does)."""
        return self._tick(raise_errors=False)

    def run_forever(self) -> None:
        elector = self.controller.elector
        renew_every = min(elector.s.renew_every_s, self.tick_s)
        next_tick = self.clock()
        try:
            while not self.stop.is_set():
                self.health.beat()
                if self.clock() >= next_tick:
                    self.tick()
                    if self.after_tick is not None:
                        self._after_tick()
                    next_tick += self.tick_s
                    if next_tick < self.clock():  # a tick longer than the period: skip, do not pile up
                        next_tick = self.clock() + self.tick_s
                else:
                    self.controller.metrics.is_leader.set(1 if elector.try_acquire_or_renew() else 0)
                    self._readiness()
                self.stop.wait(max(0.0, min(renew_every, next_tick - self.clock())))
        finally:
            elector.release()
            self.controller.metrics.is_leader.set(0)

    def _tick(self, *, raise_errors: bool) -> TickReport | None:
        try:
            report = self.controller.tick(self.now())
        except CapctlError as exc:
            log.error("tick failed", extra={"fields": {"error": str(exc)}})
            self.controller.metrics.errors.labels("tick").inc()
            self._count(None, str(exc))
            if raise_errors:
                raise
            return None
        except Exception as exc:  # the loop survives a bug in one tick; the traceback goes to the log
            log.exception("tick crashed")
            self.controller.metrics.errors.labels("internal").inc()
            self._count(None, f"tick crashed: {type(exc).__name__}: {exc}")
            if raise_errors:
                raise
            return None
        finally:
            self.health.beat()
        self._count(report, report.aborted or "; ".join(report.errors) or "every component failed")
        self._readiness()
        return report

    def _after_tick(self) -> None:
        assert self.after_tick is not None
        try:
            self.after_tick(self.now())
        except Exception:  # the loop survives a bug in a hook too
            log.exception("after-tick hook crashed")
            self.controller.metrics.errors.labels("internal").inc()

    def _count(self, report: TickReport | None, why: str) -> None:
        """Track failed leader ticks in a row; at the limit, give the Lease up (see the module doc)."""
        c = self.controller
        if report is None and not c.elector.is_leader:
            return
        if report is not None and not report.failed:
            if report.leader or not c.elector.holding_off:
                self.failed_in_a_row, self.gave_up = 0, False
            c.metrics.failed_ticks.set(self.failed_in_a_row)
            return
        if report is not None and not report.leader:
            return
        self.failed_in_a_row += 1
        c.metrics.failed_ticks.set(self.failed_in_a_row)
        limit = c.unready_after_failed_ticks
        if self.failed_in_a_row == 1:
            c.self_event("TickFailed", f"tick failed: {why}", warning=True)
        if self.failed_in_a_row >= limit and c.elector.is_leader:
            self.gave_up = True
            message = f"{self.failed_in_a_row} failed ticks in a row (last: {why}); giving the lease up to the standby"
            log.error("giving the lease up", extra={"fields": {"failed_ticks": self.failed_in_a_row, "error": why}})
            c.self_event("LeaseGivenUp", message, warning=True)
            c.step_down()
            c.elector.hold_off(2 * c.elector.s.duration_s)

    def _readiness(self) -> None:
        reachable = self.controller.elector.reachable
        failing = self.gave_up or self.failed_in_a_row >= self.controller.unready_after_failed_ticks
        if failing and not self.controller.elector.holding_off and not self.controller.elector.is_leader:
            failing = self.gave_up = False  # the pause is over: a healthy standby again
            self.failed_in_a_row = 0
        self.health.ready = reachable and not failing
        if failing:
            self.health.reason = f"{self.failed_in_a_row} failed ticks in a row"
        else:
            self.health.reason = "ok" if reachable else "Kubernetes API unreachable"
