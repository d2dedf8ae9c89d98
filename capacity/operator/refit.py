"""`capctl run --refit weekly`: the operator refits its usage model on schedule and hot-reloads it.

In the operator rather than a CronJob running `capctl fit`, because that is the simpler one to make safe:
the leader is the only writer (a CronJob could race a second run or a human), it already holds the
Prometheus credentials, the hot reload that keeps the last good file, and the Events and metrics people
watch; a CronJob would need its own RBAC to rewrite a ConfigMap (1 MiB limit) and its own alerting. And
`capctl simulate --refit weekly` replays the very decision (`learning.refit.refit`) this module runs.

Each refit (Sunday 3 h, Paris, by default) fetches the year before, fits, and validates the candidate
against the model in force on the daily peaks of the last three weeks. Accepted: the model is written
atomically (temporary file + rename) to the refit path, which the ConfigSource reloads at the next tick.
Rejected or failed: nothing is written, the last good model stays. Either way: an Event on the operator
and `capctl_refit_total{result}`. The fetch and the fit run in a thread: ticks and Lease renewals go on.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from capacity.common.errors import CapctlError
from capacity.common.timegrid import PARIS
from capacity.learning.history import History
from capacity.learning.model_file import Model, rates_for_plaques, save_model
from capacity.learning.refit import (
    ACCEPTED,
    DEFAULT_OPTIONS,
    DEFAULT_SCHEDULE,
    FAILED,
    REJECTED,
    RefitOptions,
    RefitSchedule,
    first_refit,
    history_window,
    next_refit,
    refit,
)
from capacity.operator.controller import Controller
from capacity.operator.kube.lease import LeadershipLost
from capacity.operator.reload import ConfigSource
from capacity.planning.demand import UsageRates
from capacity.policy.topology import Plaque

log = logging.getLogger("capctl.refit")
#: Where accepted refits are written when `--refit-model` is not given (the chart's /tmp emptyDir).
DEFAULT_REFIT_MODEL = Path(tempfile.gettempdir()) / "capctl" / "refit-model.json"
Fetch = Callable[[Sequence[Plaque], date, date], History]
Spawn = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class RefitSettings:
    path: Path = DEFAULT_REFIT_MODEL
    schedule: RefitSchedule = DEFAULT_SCHEDULE
    options: RefitOptions = DEFAULT_OPTIONS


@dataclass(frozen=True)
class RefitReport:
    at: datetime
    result: str  # accepted | rejected | failed
    message: str


def in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="capctl-refit", daemon=True).start()


@dataclass
class Refitter:
    """Called by the runner after every tick (`poll`); refits when due, on the leader only."""

    settings: RefitSettings
    config: ConfigSource
    controller: Controller
    fetch: Fetch
    spawn: Spawn = in_thread
    next_at: datetime | None = None
    _was_leader: bool = False
    _done: list[RefitReport] = field(default_factory=list)
    _running: threading.Event = field(default_factory=threading.Event)

    def poll(self, now: datetime) -> RefitReport | None:
        """Report a finished refit (metric, Event, log), and start the next one when it is due."""
        report = self._done.pop() if self._done else None
        if report is not None:
            self._publish(report)
        leader = self.controller.elector.is_leader
        if self.next_at is None or (leader and not self._was_leader):
            # At start and on taking over: an accepted refit lives in the old leader's pod, so a model
            # older than the last scheduled refit is refitted at once.
            self.next_at = first_refit(now, self._fitted_through(), self.settings.schedule)
        self._was_leader = leader
        if now >= self.next_at and not self._running.is_set():
            self.next_at = next_refit(now, self.settings.schedule)
            if leader:  # a standby leaves it to the leader
                self._running.set()
                self.spawn(lambda: self._attempt(now))
        return report

    def _fitted_through(self) -> date | None:
        model = self.config.rates.value
        return model.fit_window[1] if isinstance(model, Model) else None

    def _attempt(self, now: datetime) -> None:
        day = now.astimezone(PARIS).date()
        try:
            policies, calendar, current = self.config.policies.value, self.config.calendar.value, self._current()
            assert policies is not None and calendar is not None
            plaques = list(policies.topology.plaques)
            history = self.fetch(plaques, *history_window(day, self.settings.options))
            meta = {"prometheus": history.source, "refit": now.isoformat()}
            outcome = refit(history, calendar, plaques, current, day, self.settings.options, meta)
            v = outcome.validation
            if outcome.accepted:
                self.settings.path.parent.mkdir(parents=True, exist_ok=True)
                save_model(outcome.model, self.settings.path)
            detail = f"{outcome.reason} ({v.days} plaque-days of the last {self.settings.options.validate_days} days)"
            self._done.append(RefitReport(now, outcome.result, detail))
        except (CapctlError, OSError) as exc:
            self._done.append(RefitReport(now, FAILED, f"refit failed, the last good model is kept: {exc}"))
        except Exception as exc:  # a bug in the fit must not kill the thread silently
            log.exception("refit crashed")
            self._done.append(RefitReport(now, FAILED, f"refit crashed, the last good model is kept: {exc!r}"))
        finally:
            self._running.clear()

    def _current(self) -> UsageRates | Mapping[str, UsageRates]:
        loaded, policies = self.config.rates.value, self.config.policies.value
        assert loaded is not None and policies is not None
        return rates_for_plaques(loaded, policies)[0]

    def _publish(self, report: RefitReport) -> None:
        c = self.controller
        c.metrics.refits.labels(report.result).inc()
        reason = {ACCEPTED: "ModelRefitted", REJECTED: "ModelRefitRejected", FAILED: "ModelRefitFailed"}[report.result]
        level = logging.INFO if report.result == ACCEPTED else logging.WARNING
        log.log(level, "model refit", extra={"fields": {"result": report.result, "detail": report.message}})
        if c.self_ref is not None:
            with contextlib.suppress(LeadershipLost, CapctlError):
                c.events.emit(
                    dict(c.self_ref), reason, report.message, warning=report.result != ACCEPTED, action="Refit"
                )
