"""One tick of the operator: observe → plan → decide → act → publish.

  observe  reload changed config files (a broken one keeps the last good version), take or renew the
           Lease, read the stabilisation state and what is in force for every component;
  plan     the day plan (cached per day and config version) and, per component, the most it needs
           between now and now + its lead time + the anticipation margin; live users per plaque when
           Prometheus is configured (implausible readings make the plaque unknown, see live_usage.py);
  decide   `kube.decide.decide` per component (pure);
  record   the stabilisation history and the intent (every write this tick will make) in the state
           ConfigMap, *before* the first write: a leader killed mid-tick leaves both, and its successor
           keeps the window, confirms the writes that landed (log + Event) and finishes the others;
  act      floor/direct components through the actuator (the only writer of workloads), an Event per
           change; then the intent is marked done;
  publish  metrics, one log line per change or problem, and a report the CLI can print.

Blast radius: a plaque that cannot be planned (no mandate in force, a plan error or bug) is *held*: its
current replicas stay, whatever the plan of the others, and it is said (warning log, Event, metric
`capctl_plaque_held`). A tick that plans nothing or where every component failed is `failed`; the
runner counts those (readiness, giving the Lease up).

A standby (not holding the Lease) does none of plan/decide/act/publish: it only keeps trying for the
lease. Losing the lease mid-tick aborts the tick before the next write.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from capacity.common.timegrid import PARIS
from capacity.operator import publish
from capacity.operator.decide import Decision, History, Mode, Planned, decide, effective_mode
from capacity.operator.kube.actuator import Actuator, Outcome, spec_change
from capacity.operator.kube.api import KubeClients, KubeError
from capacity.operator.kube.events import EventRecorder
from capacity.operator.kube.lease import LeaderElector, LeadershipLost
from capacity.operator.kube.observe import Observed, TargetRef, WrongTarget, observe, targets_of
from capacity.operator.kube.state import Intent, StateStore
from capacity.operator.live_usage import LiveUsage, plausible
from capacity.operator.lookahead import PlaqueDay, forecast_users, window
from capacity.operator.mornings import Mornings
from capacity.operator.ops_metrics import OpsMetrics
from capacity.operator.plan_cache import PlanCache
from capacity.operator.reload import Config, ConfigSource
from capacity.operator.report import ComponentReport, TickReport
from capacity.policy.sizing import replicas_for_users

log = logging.getLogger("capctl.controller")


@dataclass(frozen=True)
class _Pending:
    """A component decided this tick that may need a write."""

    target: TargetRef
    mode: Mode
    seen: Observed
    planned: Planned
    decision: Decision
    redecide: Callable[[Observed], Decision]


@dataclass
class Controller:
    config: ConfigSource
    clients: KubeClients
    elector: LeaderElector
    state: StateStore
    metrics: OpsMetrics
    mode: Mode
    usage: LiveUsage | None = None
    self_ref: dict[str, str] | None = None  # the operator's own object (Pod or Lease) for its Events
    timeout_s: tuple[float, float] = (3.0, 10.0)
    sleep: Callable[[float], None] = time.sleep
    plans: PlanCache = field(default_factory=PlanCache)
    cluster_wide_lists: bool = False  # read workloads across namespaces (kube/observe.py)
    _namespaced: set[tuple[str | None, str]] = field(default_factory=set)  # cluster-wide lists forbidden
    _usage_error: str | None = None
    _plaques: set[str] = field(default_factory=set)
    _components: set[tuple[str, str]] = field(default_factory=set)
    _held: dict[str, str] = field(default_factory=dict)  # plaque → why, as of the last tick
    _implausible: set[str] = field(default_factory=set)
    mornings: Mornings = field(default_factory=Mornings)  # today's readings, for the nowcast
    _own_intent: Intent | None = None  # the last intent this process recorded (its own cut ticks are no news)
    unready_after_failed_ticks: int = 3  # from the settings in force (the runner reads it)

    def __post_init__(self) -> None:
        self.plans.on_error = lambda kind: self.metrics.errors.labels(kind).inc()
        self.plans.keepalive = self.elector.renew_if_due
        self.events = EventRecorder(
            self.clients,
            self.elector.s.identity,
            guard=self.elector.ensure,
            on_error=lambda _e: self.metrics.errors.labels("event").inc(),
        )
        self.actuator = Actuator(self.clients, self.elector.ensure, timeout_s=self.timeout_s, sleep=self.sleep)
        self.clients.apis()  # import the client's API modules now, not in the first tick

    # ------------------------------------------------------------------ tick

    def tick(self, now: datetime) -> TickReport:
        started = time.perf_counter()
        leader = self.elector.try_acquire_or_renew()
        self.metrics.is_leader.set(1 if leader else 0)
        cfg = self._reload(leader)
        self.unready_after_failed_ticks = cfg.settings.unready_after_failed_ticks
        if not leader:
            self.metrics.clear_plan()
            self._plaques, self._components, self._held = set(), set(), {}
            why = None if self.elector.last_error is None else f"lease not readable: {self.elector.last_error}"
            return TickReport(now=now, leader=False, aborted=why, config_version=cfg.version)
        try:
            report = self._lead(cfg, now)
        except LeadershipLost as exc:
            log.warning("tick aborted: leadership lost", extra={"fields": {"error": str(exc)}})
            self.metrics.is_leader.set(0)
            self.metrics.clear_plan()
            self._plaques, self._components = set(), set()
            self.metrics.ticks.labels("aborted").inc()
            return TickReport(now=now, leader=False, aborted=str(exc), config_version=cfg.version)
        elapsed = time.perf_counter() - started
        self.metrics.tick_duration.observe(elapsed)
        self.metrics.ticks.labels("ok" if report.ok else "error").inc()
        self.metrics.last_tick.set(time.time())
        fields: dict[str, Any] = {
            "now": now.isoformat(),
            "mode": self.mode.value,
            "components": len(report.components),
            "changed": sum(c.status == "applied" for c in report.components),
            "failed": sum(c.status == "failed" for c in report.components),
            "held": sum(c.status == "held" for c in report.components),
            "errors": list(report.errors),
            "duration_s": round(elapsed, 3),
        }
        if report.failed:
            fields["aborted"] = report.aborted
            log.warning("tick failed: nothing planned or every component failed", extra={"fields": fields})
        else:
            log.info("tick done", extra={"fields": fields})
        return report

    def step_down(self) -> None:
        """Stop leading now: publish nothing more, hand the Lease over (the runner decides when)."""
        self.metrics.is_leader.set(0)
        self.metrics.clear_plan()
        self._plaques, self._components, self._held = set(), set(), {}
        self.elector.release()

    def _lead(self, cfg: Config, now: datetime) -> TickReport:
        errors: list[str] = []
        try:
            history = self.state.load()
        except KubeError as exc:  # without the state, a scale-down could skip its window: do nothing
            self.metrics.errors.labels("kube").inc()
            return TickReport(
                now=now, leader=True, aborted=f"stabilisation state unreadable: {exc}", config_version=cfg.version
            )
        prior = self.state.intent
        days, held = self._day_plans(cfg, now)
        self._report_held(held)
        errors.extend(f"{p}: {why}; current replicas kept" for p, why in sorted(held.items()))
        if not days:
            self._publish(days, [], {}, now)
            why = "nothing could be planned: " + "; ".join(f"{p}: {w}" for p, w in sorted(held.items()))
            return TickReport(now=now, leader=True, aborted=why, errors=tuple(errors), config_version=cfg.version)
        budgeted = [m.id for m in cfg.policies.mandates if m.monthly_budget_eur is not None and cfg.policies.prices]
        levels = self.plans.budget_levels(cfg, now.astimezone(PARIS).date())  # this month's, already planned
        if levels is not None:  # else the month could not be planned: the levels are unknown this tick
            self.metrics.budgets({fid: levels.get(fid, 1.0) for fid in budgeted})
        targets = targets_of(cfg.policies.topology)
        observed = observe(
            self.clients,
            targets,
            timeout_s=self.timeout_s,
            cluster_wide=self.cluster_wide_lists,
            namespaced=self._namespaced,
        )
        users = self._live_users(days, now)
        if self.usage is not None and self.usage.last_error:
            errors.append(self.usage.last_error)
        days = self._nowcast(cfg, days, users, now)
        if prior is not None and not prior.done and prior != self._own_intent:  # not our own known tick
            self._resume(prior, targets, observed)
        reports, pending, new_history = self._decide(cfg, targets, days, held, observed, history, users, now)
        errors.extend(self._record_and_act(pending, new_history, reports, now))
        ordered = [reports[t.key] for t in targets]
        self._publish(days, ordered, users, now)
        return TickReport(
            now=now, leader=True, components=tuple(ordered), errors=tuple(errors), config_version=cfg.version
        )

    def _decide(
        self,
        cfg: Config,
        targets: list[TargetRef],
        days: Mapping[str, list[PlaqueDay]],
        held: Mapping[str, str],
        observed: Mapping[tuple[str, str], Observed | KubeError],
        history: Mapping[tuple[str, str], History],
        users: Mapping[str, float | None],
        now: datetime,
    ) -> tuple[dict[tuple[str, str], ComponentReport], list[_Pending], dict[tuple[str, str], History]]:
        """Every component decided (nothing written yet): final reports, the writes pending, the new history."""
        reports: dict[tuple[str, str], ComponentReport] = {}
        pending: list[_Pending] = []
        new_history = {t.key: history[t.key] for t in targets if t.key in history}  # forget removed components
        for t in targets:
            if t.plaque in held:
                mode = effective_mode(self.mode, t.hpa is not None)
                reports[t.key] = ComponentReport(t, mode, "held", error=held[t.plaque])
                continue
            got = self._component(cfg, t, days[t.plaque], observed[t.key], history.get(t.key, History()), users, now)
            if isinstance(got, _Pending):
                pending.append(got)
                new_history[t.key] = got.decision.history
            else:
                reports[t.key] = got
                if got.decision is not None:
                    new_history[t.key] = got.decision.history
        return reports, pending, new_history

    def _record_and_act(
        self,
        pending: list[_Pending],
        history: Mapping[tuple[str, str], History],
        reports: dict[tuple[str, str], ComponentReport],
        now: datetime,
    ) -> list[str]:
        """Save history and intent, then write (a scale-down only if its history was saved), then mark the
        intent done. Fills `reports`; returns the errors."""
        errors: list[str] = []
        writes = {p.target.key: spec for p in pending if (spec := spec_change(p.mode, p.seen, p.decision))}
        intent = Intent(self.elector.s.identity, now.isoformat(), writes) if writes else None
        self._own_intent = intent
        try:  # before the first write: a successor keeps the window and sees the writes
            self.state.save(history, guard=self.elector.ensure, intent=intent)
            recorded = True
        except KubeError as exc:
            self.metrics.errors.labels("kube").inc()
            errors.append(f"stabilisation state not saved: {exc}")
            recorded = False
        self.actuator.reset()
        for p in pending:
            if not recorded and p.decision.direction == "down":  # no scale-down its window does not remember
                why = "state not saved: scale-down postponed"
                reports[p.target.key] = ComponentReport(
                    p.target, p.mode, "held", p.decision, p.planned, p.seen, error=why
                )
                continue
            reports[p.target.key] = self._act(p, now)
        if intent is not None and recorded:
            try:
                self.state.save(history, guard=self.elector.ensure, intent=replace(intent, done=True))
            except KubeError as exc:
                self.metrics.errors.labels("kube").inc()
                errors.append(f"stabilisation state not saved after the writes: {exc}")
        return errors

    def _resume(self, prior: Intent, targets: list[TargetRef], observed: Mapping[tuple[str, str], Any]) -> None:
        """The last tick (of `prior.leader`) stopped between its intent and its end: say so, and record the
        writes that landed (their Event may never have been sent); this tick finishes the others."""
        landed, missing = [], []
        by_key = {t.key: t for t in targets}
        for key, spec in prior.writes.items():
            seen, t = observed.get(key), by_key.get(key)
            if t is None or not isinstance(seen, Observed):
                missing.append(key)
                continue
            now_in = {"minReplicas": seen.min_replicas, "maxReplicas": seen.max_replicas, "replicas": seen.replicas}
            if all(now_in.get(k) == v for k, v in spec.items()):
                landed.append(key)
                parts = ", ".join(f"{k} {v}" for k, v in spec.items())
                message = (
                    f"{parts} for {t.plaque}/{t.component} written by {prior.leader} in its tick at {prior.at}, "
                    f"which was interrupted; confirmed by {self.elector.s.identity}"
                )
                ref = t.object_ref()
                if seen.uid:
                    ref["uid"] = seen.uid
                self.events.emit(ref, "WriteConfirmed", message, context=t.context)
            else:
                missing.append(key)
        fields = {"leader": prior.leader, "at": prior.at, "landed": len(landed), "finishing": len(missing)}
        log.warning("resuming an interrupted tick", extra={"fields": fields})
        self.self_event(
            "TickResumed",
            f"the tick of {prior.leader} at {prior.at} was interrupted: {len(landed)} of its {len(prior.writes)} "
            f"writes had landed; {self.elector.s.identity} finishes the others from the plan",
            warning=True,
        )

    # ------------------------------------------------------------------ per component

    def _component(
        self,
        cfg: Config,
        t: TargetRef,
        days: list[PlaqueDay],
        seen: Observed | KubeError,
        history: History,
        users: Mapping[str, float | None],
        now: datetime,
    ) -> ComponentReport | _Pending:
        mode = effective_mode(self.mode, t.hpa is not None)
        if isinstance(seen, WrongTarget):
            return self._wrong_target(t, mode, str(seen))
        if isinstance(seen, KubeError):
            self.metrics.errors.labels("kube").inc()
            log.error("component not observed", extra={"fields": {**publish.fields(t), "error": str(seen)}})
            return ComponentReport(t, mode, "failed", error=str(seen))
        component = days[0].plaque.component(t.component)
        plan = window(days, t.component, now, component.lead_time_s + cfg.settings.anticipation_s)
        live = users.get(t.plaque)
        need = int(replicas_for_users(np.array([live]), component)[0]) if live is not None else None
        metrics_ok = self.usage is None or live is not None

        def redecide(obs: Observed) -> Decision:
            current = obs.min_replicas if obs.is_hpa else obs.replicas
            return decide(
                plan.planned,
                current,
                history,
                now=now,
                metrics_ok=metrics_ok,
                observed_need=need,
                settings=cfg.settings.decide,
            )

        for kind, fid in plan.clamps:
            self.metrics.clamps.labels(t.plaque, t.component, kind, fid).inc()
        d = redecide(seen)
        if mode is Mode.RECOMMEND:
            self._log_decision(t, mode, d, "recommended")
            return ComponentReport(t, mode, "recommended", d, plan.planned, seen)
        return _Pending(t, mode, seen, plan.planned, d, redecide)

    def _act(self, p: _Pending, now: datetime) -> ComponentReport:
        t, mode = p.target, p.mode
        outcome = self.actuator.apply(t, mode, p.seen, p.redecide)
        if outcome.status == "skipped" and outcome.error:
            return self._wrong_target(t, mode, outcome.error, outcome.decision, p.planned)
        self._log_decision(t, mode, outcome.decision, outcome.status, outcome.error)
        if outcome.status == "failed":
            self.metrics.errors.labels("actuation").inc()
        elif outcome.status == "applied":
            self._record_change(t, mode, outcome, now)
        return ComponentReport(
            t, mode, outcome.status, outcome.decision, p.planned, outcome.before, outcome.spec, outcome.error
        )

    def _wrong_target(
        self, t: TargetRef, mode: Mode, why: str, d: Decision | None = None, planned: Planned | None = None
    ) -> ComponentReport:
        """The HPA scales another workload than the topology says: never write it; say so on the HPA."""
        self.metrics.errors.labels("target").inc()
        log.error("component skipped: wrong scale target", extra={"fields": {**publish.fields(t), "error": why}})
        self.events.emit(
            t.object_ref(), "WrongScaleTarget", f"{why}; capctl does not write it", warning=True, context=t.context
        )
        return ComponentReport(t, mode, "skipped", d, planned, error=why)

    def _record_change(self, t: TargetRef, mode: Mode, out: Outcome, now: datetime) -> None:
        self.metrics.changes.labels(t.plaque, t.component, mode.value, out.decision.direction).inc()
        reason, message = publish.change_event(t, mode, out, now)
        ref = t.object_ref()
        if out.before.uid:
            ref["uid"] = out.before.uid
        self.events.emit(ref, reason, message, context=t.context)

    # ------------------------------------------------------------------ plan and inputs

    def _day_plans(self, cfg: Config, now: datetime) -> tuple[dict[str, list[PlaqueDay]], dict[str, str]]:
        """Per plaque: today's plan, and tomorrow's when a lead time crosses midnight; and the plaques
        that could not be planned, with why (planned one by one so that one cannot stop the others)."""
        today = now.astimezone(PARIS).date()
        lead = max(c.lead_time_s for p in cfg.policies.topology.plaques for c in p.components)
        longest = lead + cfg.settings.anticipation_s
        days = (
            [today]
            if (now + timedelta(seconds=longest)).astimezone(PARIS).date() == today
            else [today, today + timedelta(days=1)]
        )
        return self.plans.days(cfg, days)

    def _nowcast(
        self, cfg: Config, days: Mapping[str, list[PlaqueDay]], users: Mapping[str, float | None], now: datetime
    ) -> dict[str, list[PlaqueDay]]:
        """Record this tick's readings; past the morning window, a plaque whose users ran above the forecast
        acts on its day planned at the nowcast's factor (mornings.py)."""
        most = cfg.settings.nowcast_most
        nc = self.mornings.step(days, users, now, most, lambda d, p, f: self.plans.raised_day(cfg, d, p, f))
        for plaque, factor in nc.factors.items():
            self.metrics.nowcast.labels(plaque).set(factor)
        for plaque, n in sorted(nc.decided.items()):
            log.info("nowcast", extra={"fields": {"plaque": plaque, "measured": n.measured, "factor": n.factor}})
            if n.raises:
                self.self_event("NowcastRaised", publish.nowcast_message(plaque, n))
        for plaque, why in sorted(nc.failed.items()):
            log.warning("nowcast not planned: forecast kept", extra={"fields": {"plaque": plaque, "error": why}})
        return nc.days

    def _report_held(self, held: Mapping[str, str]) -> None:
        """A held plaque keeps its current replicas: warn every tick, an Event when it starts or ends."""
        for plaque, why in sorted(held.items()):
            log.warning("plaque not planned: current replicas kept", extra={"fields": {"plaque": plaque, "error": why}})
            self.metrics.plaque_held.labels(plaque).set(1)
            if self._held.get(plaque) != why:
                self.self_event("PlaqueHeld", f"{plaque}: {why}; its current replicas are kept", warning=True)
        for plaque in sorted(set(self._held) - set(held)):
            self.metrics.plaque_held.labels(plaque).set(0)
            self.self_event("PlaquePlanned", f"{plaque} is planned again")
        self._held = dict(held)

    def _live_users(self, days: Mapping[str, list[PlaqueDay]], now: datetime) -> Mapping[str, float | None]:
        plaques = list(days)
        if self.usage is None:
            return dict.fromkeys(plaques)
        raw = self.usage.active_users(plaques, now)
        users: dict[str, float | None] = {}
        implausible: set[str] = set()
        for p in plaques:
            users[p], why = plausible(raw.get(p), forecast_users(days[p][0], now))
            if why is not None:
                implausible.add(p)
                self.metrics.errors.labels("prometheus").inc()
                log.warning("live usage not believed: scale-down paused", extra={"fields": {"plaque": p, "error": why}})
                if p not in self._implausible:
                    self.self_event("MetricsImplausible", f"{p}: {why}; scale-down paused", warning=True)
        self._implausible = implausible
        err = self.usage.last_error
        if err and not self._usage_error:
            self.metrics.errors.labels("prometheus").inc()
            self.self_event(
                "MetricsUnavailable", f"{err}; scale-down paused: current replicas kept where higher", warning=True
            )
        elif not err and self._usage_error:
            self.self_event("MetricsAvailable", "live usage readable again; scale-down resumes")
        elif err:
            self.metrics.errors.labels("prometheus").inc()
        self._usage_error = err
        return users

    def _reload(self, leader: bool) -> Config:
        cfg, reloads = self.config.poll()
        for r in reloads:
            self.metrics.reloads.labels(r.part, "failure" if r.error else "success").inc()
            self.metrics.config_ok.labels(r.part).set(0 if r.error else 1)
            if r.error is not None:
                self.metrics.errors.labels("config").inc()
                if leader:
                    kept = "" if r.partial else f" (keeping the last good {r.part})"
                    self.self_event("ConfigReloadFailed", f"{r.error}{kept}", warning=True)
        return cfg

    def self_event(self, reason: str, message: str, *, warning: bool = False) -> None:
        """An Event about the operator itself (its Pod or Lease); never raises."""
        if self.self_ref is None:
            return
        with contextlib.suppress(LeadershipLost):
            self.events.emit(dict(self.self_ref), reason, message, warning=warning, action="Operate")

    # ------------------------------------------------------------------ publish

    def _publish(
        self,
        days: Mapping[str, list[PlaqueDay]],
        reports: list[ComponentReport],
        users: Mapping[str, float | None],
        now: datetime,
    ) -> None:
        self._plaques, self._components = publish.metrics(
            self.metrics,
            days,
            [(r.target, r.decision, r.planned) for r in reports],
            users,
            now,
            usage_configured=self.usage is not None,
            previous=(self._plaques, self._components),
        )

    def _log_decision(self, t: TargetRef, mode: Mode, d: Decision, status: str, error: str | None = None) -> None:
        publish.log_decision(t, mode, d, status, error)
