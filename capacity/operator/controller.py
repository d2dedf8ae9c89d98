"""One tick of the operator: observe → plan → decide → act → publish.

  observe  reload changed config files (a broken one keeps the last good version), take or renew the
           Lease, read the stabilisation state and what is in force for every component;
  plan     the day plan (kept per plaque, day and config version: plan_cache.py) and, per component, the most it needs
           between now and now + its lead time + the anticipation margin; live users per plaque when
           Prometheus is configured;
  decide   `kube.decide.decide` per component (pure);
  act      floor/direct components through the actuator (the only writer of workloads), an Event per
           change; then the state, written once;
  publish  metrics, one log line per change or problem, and a report the CLI can print.

A standby (not holding the Lease) does none of plan/decide/act/publish: it only keeps trying for the
lease. Losing the lease mid-tick aborts the tick before the next write.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from capacity.common.errors import CapctlError
from capacity.common.timegrid import PARIS
from capacity.operator.decide import Decision, History, Mode, Planned, decide, effective_mode
from capacity.operator.kube.actuator import Actuator, Outcome
from capacity.operator.kube.api import KubeClients, KubeError
from capacity.operator.kube.events import EventRecorder
from capacity.operator.kube.lease import LeaderElector, LeadershipLost
from capacity.operator.kube.observe import Observed, TargetRef, observe
from capacity.operator.kube.state import StateStore
from capacity.operator.live_usage import LiveUsage
from capacity.operator.lookahead import PlaqueDay, forecast_users, window
from capacity.operator.ops_metrics import OpsMetrics
from capacity.operator.plan_cache import PlanCache
from capacity.operator.reload import Config, ConfigSource
from capacity.planning.reasons import ReasonKind
from capacity.policy.sizing import replicas_for_users

log = logging.getLogger("capctl.controller")


@dataclass(frozen=True)
class ComponentReport:
    target: TargetRef
    mode: Mode
    status: str  # applied | unchanged | recommended | failed | skipped
    decision: Decision | None = None
    planned: Planned | None = None
    before: Observed | None = None
    spec: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class TickReport:
    now: datetime
    leader: bool
    components: tuple[ComponentReport, ...] = ()
    errors: tuple[str, ...] = ()
    aborted: str | None = None
    config_version: str = ""

    @property
    def ok(self) -> bool:
        return self.aborted is None and not self.errors and all(c.status != "failed" for c in self.components)


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

    def __post_init__(self) -> None:
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
        if not leader:
            self.metrics.clear_plan()
            self._plaques, self._components = set(), set()
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
        changed = sum(c.status == "applied" for c in report.components)
        failed = sum(c.status == "failed" for c in report.components)
        log.info(
            "tick done",
            extra={
                "fields": {
                    "now": now.isoformat(),
                    "mode": self.mode.value,
                    "components": len(report.components),
                    "changed": changed,
                    "failed": failed,
                    "errors": list(report.errors),
                    "duration_s": round(elapsed, 3),
                }
            },
        )
        return report

    def _lead(self, cfg: Config, now: datetime) -> TickReport:
        errors: list[str] = []
        try:
            history = self.state.load()
        except KubeError as exc:  # without the state, a scale-down could skip its window: do nothing
            self.metrics.errors.labels("kube").inc()
            return TickReport(
                now=now, leader=True, aborted=f"stabilisation state unreadable: {exc}", config_version=cfg.version
            )
        try:
            days = self._day_plans(cfg, now)
        except CapctlError as exc:
            self.metrics.errors.labels("plan").inc()
            return TickReport(now=now, leader=True, aborted=str(exc), config_version=cfg.version)
        budgeted = [m.id for m in cfg.policies.mandates if m.monthly_budget_eur is not None and cfg.policies.prices]
        levels = self.plans.budget_levels(cfg, now.astimezone(PARIS).date())  # this month's, already planned
        self.metrics.budgets({fid: levels.get(fid, 1.0) for fid in budgeted})
        targets = _targets(cfg)
        observed = observe(
            self.clients,
            targets,
            timeout_s=self.timeout_s,
            cluster_wide=self.cluster_wide_lists,
            namespaced=self._namespaced,
        )
        users = self._live_users(list(days), now)
        if self.usage is not None and self.usage.last_error:
            errors.append(self.usage.last_error)
        self.actuator.reset()
        reports: list[ComponentReport] = []
        new_history: dict[tuple[str, str], History] = dict(history)
        for t in targets:
            rep = self._component(cfg, t, days[t.plaque], observed[t.key], history.get(t.key, History()), users, now)
            reports.append(rep)
            if rep.decision is not None:
                new_history[t.key] = rep.decision.history
        known = {t.key for t in targets}
        new_history = {k: v for k, v in new_history.items() if k in known}
        try:
            self.state.save(new_history, guard=self.elector.ensure)
        except KubeError as exc:
            self.metrics.errors.labels("kube").inc()
            errors.append(f"stabilisation state not saved: {exc}")
        self._publish(days, reports, users, now)
        return TickReport(
            now=now, leader=True, components=tuple(reports), errors=tuple(errors), config_version=cfg.version
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
    ) -> ComponentReport:
        mode = effective_mode(self.mode, t.hpa is not None)
        if isinstance(seen, KubeError):
            self.metrics.errors.labels("kube").inc()
            log.error("component not observed", extra={"fields": {**_fields(t), "error": str(seen)}})
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
        if mode is Mode.RECOMMEND:
            d = redecide(seen)
            self._log_decision(t, mode, d, "recommended")
            return ComponentReport(t, mode, "recommended", d, plan.planned, seen)
        outcome = self.actuator.apply(t, mode, seen, redecide)
        self._log_decision(t, mode, outcome.decision, outcome.status, outcome.error)
        if outcome.status == "failed":
            self.metrics.errors.labels("actuation").inc()
        elif outcome.status == "applied":
            self._record_change(t, mode, outcome, now)
        return ComponentReport(
            t, mode, outcome.status, outcome.decision, plan.planned, outcome.before, outcome.spec, outcome.error
        )

    def _record_change(self, t: TargetRef, mode: Mode, out: Outcome, now: datetime) -> None:
        d, before = out.decision, out.before
        self.metrics.changes.labels(t.plaque, t.component, mode.value, d.direction).inc()
        if mode is Mode.FLOOR:
            parts = [
                f"{k} {before.min_replicas if k == 'minReplicas' else before.max_replicas} → {v}"
                for k, v in out.spec.items()
            ]
            reason = {"up": "FloorRaised", "down": "FloorLowered"}.get(d.direction, "CeilingChanged")
        else:
            parts = [f"replicas {before.replicas} → {out.spec.get('replicas', d.replicas)}"]
            reason = {"up": "ScaledUp", "down": "ScaledDown"}.get(d.direction, "Scaled")
        message = (
            f"{', '.join(parts)} for {t.plaque}/{t.component} at {now.astimezone(PARIS).isoformat()} "
            f"(reasons: {', '.join(d.reasons)})"
        )
        ref = t.object_ref()
        if before.uid:
            ref["uid"] = before.uid
        self.events.emit(ref, reason, message, context=t.context)

    # ------------------------------------------------------------------ plan and inputs

    def _day_plans(self, cfg: Config, now: datetime) -> dict[str, list[PlaqueDay]]:
        """Per plaque: today's plan, and tomorrow's when a lead time crosses midnight."""
        today = now.astimezone(PARIS).date()
        lead = max(c.lead_time_s for p in cfg.policies.topology.plaques for c in p.components)
        longest = lead + cfg.settings.anticipation_s
        days = (
            [today]
            if (now + timedelta(seconds=longest)).astimezone(PARIS).date() == today
            else [today, today + timedelta(days=1)]
        )
        return self.plans.days(cfg, days)

    def _live_users(self, plaques: list[str], now: datetime) -> Mapping[str, float | None]:
        if self.usage is None:
            return dict.fromkeys(plaques)
        users = self.usage.active_users(plaques, now)
        err = self.usage.last_error
        if err and not self._usage_error:
            self.metrics.errors.labels("prometheus").inc()
            self._self_event(
                "MetricsUnavailable", f"{err}; scale-down paused: current replicas kept where higher", warning=True
            )
        elif not err and self._usage_error:
            self._self_event("MetricsAvailable", "live usage readable again; scale-down resumes")
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
                    self._self_event("ConfigReloadFailed", f"{r.error} (keeping the last good {r.part})", warning=True)
        return cfg

    def _self_event(self, reason: str, message: str, *, warning: bool = False) -> None:
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
        m = self.metrics
        for plaque, pps in days.items():
            m.forecast_users.labels(plaque).set(forecast_users(pps[0], now))
            live = users.get(plaque)
            m.metrics_available.labels(plaque).set(0 if (self.usage is not None and live is None) else 1)
            if live is not None:
                m.observed_users.labels(plaque).set(live)
        components = set()
        for r in reports:
            if r.decision is None or r.planned is None:
                continue
            labels = r.target.key
            components.add(labels)
            m.wish.labels(*labels).set(r.planned.wish)
            m.planned.labels(*labels).set(r.decision.replicas)
            m.ceiling.labels(*labels).set(r.planned.ceiling)
            m.floor.labels(*labels).set(r.planned.floor)
            if r.decision.current is not None:
                m.current.labels(*labels).set(r.decision.current)
        m.forget(self._plaques - set(days), self._components - components)
        self._plaques, self._components = set(days), components

    def _log_decision(self, t: TargetRef, mode: Mode, d: Decision, status: str, error: str | None = None) -> None:
        fields: dict[str, Any] = {
            **_fields(t),
            "mode": mode.value,
            "current": d.current,
            "set": d.replicas,
            "ceiling": d.ceiling,
            "reasons": list(d.reasons),
            "status": status,
        }
        if error:
            fields["error"] = error
            log.error("component not updated", extra={"fields": fields})
        elif status == "applied":
            log.info("component updated", extra={"fields": fields})
        elif status == "recommended" and d.current is not None and d.replicas != d.current:
            log.info("recommendation: would change", extra={"fields": fields})
        elif ReasonKind.FALLBACK.value in d.reasons:
            log.warning("metrics missing: keeping current replicas", extra={"fields": fields})
        else:
            log.debug("component decided", extra={"fields": fields})


def _targets(cfg: Config) -> list[TargetRef]:
    return [
        TargetRef(
            plaque=p.id,
            component=c.name,
            context=p.kube_context,
            namespace=c.target.namespace,
            kind=c.target.kind,
            name=c.target.name,
            hpa=c.target.hpa,
        )
        for p in cfg.policies.topology.plaques
        for c in p.components
    ]


def _fields(t: TargetRef) -> dict[str, Any]:
    return {"plaque": t.plaque, "component": t.component, "namespace": t.namespace, "target": f"{t.kind}/{t.name}"}
