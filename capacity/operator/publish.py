"""What the operator tells people about a tick: the wording of change Events, its own metrics and log lines.

Kept apart from the tick itself (controller.py) so that the words and the metric bookkeeping are read, and
changed, in one place; nothing here decides or writes a workload.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from capacity.common.timegrid import PARIS
from capacity.operator.decide import Decision, Mode, Planned
from capacity.operator.kube.actuator import Outcome
from capacity.operator.kube.observe import TargetRef
from capacity.operator.lookahead import PlaqueDay, forecast_users
from capacity.operator.ops_metrics import OpsMetrics
from capacity.planning.nowcast import WINDOW_H, Nowcast
from capacity.planning.reasons import ReasonKind

log = logging.getLogger("capctl.controller")


def fields(t: TargetRef) -> dict[str, Any]:
    """The log fields that name a component."""
    return {"plaque": t.plaque, "component": t.component, "namespace": t.namespace, "target": f"{t.kind}/{t.name}"}


def change_event(t: TargetRef, mode: Mode, out: Outcome, now: datetime) -> tuple[str, str]:
    """The Event (reason, message) for a change the actuator made: what moved, from what to what, and why."""
    d, before = out.decision, out.before
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
    return reason, message


def nowcast_message(plaque: str, n: Nowcast) -> str:
    """The Event of a nowcast that raises the rest of the day."""
    lo, hi = (f"{h:g}" for h in WINDOW_H)
    seen = f"{plaque}: users {lo}-{hi} h at {n.measured:.0%} of the forecast ({n.read}/{n.slots} slots read)"
    return f"{seen}; the rest of the day is planned at ×{n.factor:.2f} of the forecast (reason: nowcast)"


def metrics(
    m: OpsMetrics,
    days: Mapping[str, list[PlaqueDay]],
    decided: Sequence[tuple[TargetRef, Decision | None, Planned | None]],
    users: Mapping[str, float | None],
    now: datetime,
    *,
    usage_configured: bool,
    previous: tuple[set[str], set[tuple[str, str]]],
) -> tuple[set[str], set[tuple[str, str]]]:
    """Set the per-plaque and per-component gauges; forget the series of plaques and components gone since
    `previous`. Returns what is published now (the next call's `previous`)."""
    for plaque, pps in days.items():
        m.forecast_users.labels(plaque).set(forecast_users(pps[0], now))
        live = users.get(plaque)
        m.metrics_available.labels(plaque).set(0 if (usage_configured and live is None) else 1)
        if live is not None:
            m.observed_users.labels(plaque).set(live)
    components: set[tuple[str, str]] = set()
    for target, decision, planned in decided:
        if decision is None or planned is None:
            continue
        labels = target.key
        components.add(labels)
        m.wish.labels(*labels).set(planned.wish)
        m.planned.labels(*labels).set(decision.replicas)
        m.ceiling.labels(*labels).set(planned.ceiling)
        m.floor.labels(*labels).set(planned.floor)
        if decision.current is not None:
            m.current.labels(*labels).set(decision.current)
    plaques, known = previous
    m.forget(plaques - set(days), known - components)
    return set(days), components


def log_decision(t: TargetRef, mode: Mode, d: Decision, status: str, error: str | None = None) -> None:
    """One log line per component: an error, a change, a recommendation that would change, or blind."""
    line: dict[str, Any] = {
        **fields(t),
        "mode": mode.value,
        "current": d.current,
        "set": d.replicas,
        "ceiling": d.ceiling,
        "reasons": list(d.reasons),
        "status": status,
    }
    if error:
        line["error"] = error
        log.error("component not updated", extra={"fields": line})
    elif status == "applied":
        log.info("component updated", extra={"fields": line})
    elif status == "recommended" and d.current is not None and d.replicas != d.current:
        log.info("recommendation: would change", extra={"fields": line})
    elif ReasonKind.FALLBACK.value in d.reasons:
        log.warning("metrics missing: keeping current replicas", extra={"fields": line})
    else:
        log.debug("component decided", extra={"fields": line})
