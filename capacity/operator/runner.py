"""The control loop around `Controller.tick`: scheduling, lease rounds between ticks, health, SIGTERM.

Between ticks the loop wakes every `renew_every_s` to renew (leader) or try for (standby) the Lease, so
a standby takes over within one lease duration of a leader's death, not one tick. On SIGTERM the current
tick finishes (every request is bounded by a timeout), then the lease is released at once.
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
from capacity.operator.controller import Controller, TickReport
from capacity.operator.ops_metrics import Health

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

    def install_signals(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
            self.stop.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run_once(self) -> TickReport | None:
        """One tick (errors propagate to the CLI), then hand the lease back."""
        try:
            return self._tick(raise_errors=True)
        finally:
            self.controller.elector.release()

    def run_forever(self) -> None:
        elector = self.controller.elector
        renew_every = min(elector.s.renew_every_s, self.tick_s)
        next_tick = self.clock()
        try:
            while not self.stop.is_set():
                self.health.beat()
                if self.clock() >= next_tick:
                    self._tick(raise_errors=False)
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
            if raise_errors:
                raise
            return None
        except Exception:  # the loop survives a bug in one tick; the traceback goes to the log
            log.exception("tick crashed")
            self.controller.metrics.errors.labels("internal").inc()
            if raise_errors:
                raise
            return None
        finally:
            self.health.beat()
        self._readiness()
        return report

    def _after_tick(self) -> None:
        assert self.after_tick is not None
        try:
            self.after_tick(self.now())
        except Exception:  # the loop survives a bug in a hook too
            log.exception("after-tick hook crashed")
            self.controller.metrics.errors.labels("internal").inc()

    def _readiness(self) -> None:
        reachable = self.controller.elector.reachable
        self.health.ready = reachable
        self.health.reason = "ok" if reachable else "Kubernetes API unreachable"
