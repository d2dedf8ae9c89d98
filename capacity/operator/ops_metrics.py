"""The operator's own metrics and its one HTTP listener: /metrics, /healthz, /readyz.

A private registry (not the global one) so several controllers can live in one test process. Per-plaque
gauges are published by the leader only and cleared when it steps down: the dashboard sums them across
pods, and a standby publishing the same plan would double every curve.

No `_created` series: Prometheus does not use them, and they double the series count of every counter
(a process-wide switch of prometheus_client, set when the operator imports this module).
"""

from __future__ import annotations

import contextlib
import platform
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from capacity import __version__

disable_created_metrics()  # type: ignore[no-untyped-call]


class OpsMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        pc = ("plaque", "component")
        self.forecast_users = Gauge(
            "capctl_forecast_users", "Forecast users connected on the plaque now", ["plaque"], registry=r
        )
        self.observed_users = Gauge(
            "capctl_observed_users", "Users connected on the plaque now, from Prometheus", ["plaque"], registry=r
        )
        self.metrics_available = Gauge(
            "capctl_metrics_available",
            "1 when live usage of the plaque could be read this tick (0: no scale-down, fallback)",
            ["plaque"],
            registry=r,
        )
        self.plaque_held = Gauge(
            "capctl_plaque_held",
            "1 while the plaque cannot be planned (no mandate in force, plan error): its current replicas are kept",
            ["plaque"],
            registry=r,
        )
        self.nowcast = Gauge(
            "capctl_nowcast_factor",
            "Factor on the rest of today's forecast from this morning's users (1: none; planning/nowcast.py)",
            ["plaque"],
            registry=r,
        )
        self.failed_ticks = Gauge(
            "capctl_failed_ticks_in_a_row",
            "Leader ticks in a row that planned nothing or failed everywhere",
            registry=r,
        )
        self.wish = Gauge(
            "capctl_wish_replicas", "Replicas the forecast needs over the lead time, before mandates", pc, registry=r
        )
        self.planned = Gauge(
            "capctl_planned_replicas", "Replicas the operator sets (or would set, in recommend mode)", pc, registry=r
        )
        self.current = Gauge(
            "capctl_current_replicas", "Value in force before the tick (HPA minReplicas or scale)", pc, registry=r
        )
        self.ceiling = Gauge("capctl_ceiling_replicas", "Sum of the mandate ceilings", pc, registry=r)
        self.floor = Gauge("capctl_floor_replicas", "Sum of the mandate floors", pc, registry=r)
        self.clamps = Counter(
            "capctl_clamps",
            "Ticks where a collectivité's floor or ceiling changed the planned replicas",
            [*pc, "reason", "collectivite"],
            registry=r,
        )
        self.changes = Counter("capctl_changes", "Writes made to workloads", [*pc, "mode", "direction"], registry=r)
        self.tick_duration = Histogram(
            "capctl_tick_duration_seconds",
            "Wall time of one control-loop tick",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.ticks = Counter("capctl_ticks", "Ticks run, by result", ["result"], registry=r)
        self.errors = Counter("capctl_errors", "Errors by kind", ["kind"], registry=r)
        self.is_leader = Gauge("capctl_is_leader", "1 when this instance holds the Lease", registry=r)
        self.reloads = Counter(
            "capctl_config_reloads", "Configuration reloads by part and result", ["part", "result"], registry=r
        )
        self.config_ok = Gauge(
            "capctl_config_last_reload_successful",
            "0 while a configuration part is broken (the last good version is in force)",
            ["part"],
            registry=r,
        )
        self.refits = Counter(
            "capctl_refit",
            "Scheduled model refits by result: accepted (written, hot-reloaded), rejected (worse on the last "
            "weeks' daily peaks: the last good model is kept), failed (fetch or fit error)",
            ["result"],
            registry=r,
        )
        self.last_tick = Gauge("capctl_last_tick_timestamp_seconds", "End of the last completed tick", registry=r)
        self.budget_level = Gauge(
            "capctl_budget_level",
            "Per collectivité with a monthly budget: 1 when the month's plan fits it, θ < 1 when the month would"
            " overspend and its ceilings are cut to θ",
            ["collectivite"],
            registry=r,
        )
        self.build_info = Gauge(
            "capctl_build_info", "Always 1; the labels say which capctl runs", ["version", "python_version"], registry=r
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)
        self.plaque_gauges = (
            self.forecast_users,
            self.observed_users,
            self.metrics_available,
            self.plaque_held,
            self.nowcast,
        )
        self.component_gauges = (self.wish, self.planned, self.current, self.ceiling, self.floor)

    def clear_plan(self) -> None:
        """Forget every per-plaque gauge (a standby publishes none)."""
        for g in (*self.plaque_gauges, *self.component_gauges, self.budget_level):
            g.clear()

    def budgets(self, levels: Mapping[str, float]) -> None:
        """Publish θ per budgeted collectivité; drop those whose budget is gone."""
        for (fid,) in _label_sets(self.budget_level) - {(f,) for f in levels}:
            _remove(self.budget_level, (fid,))
        for fid, level in levels.items():
            self.budget_level.labels(fid).set(level)

    def forget(self, plaques: set[str], components: set[tuple[str, str]]) -> None:
        """Drop the series of plaques and components no longer in the topology."""
        for g in self.plaque_gauges:
            for p in plaques:
                _remove(g, (p,))
        for g in self.component_gauges:
            for labels in components:
                _remove(g, labels)


def _label_sets(g: Gauge) -> set[tuple[str, ...]]:
    return {tuple(s.labels.values()) for m in g.collect() for s in m.samples}


def _remove(g: Gauge, labels: tuple[str, ...]) -> None:
    with contextlib.suppress(KeyError):
        g.remove(*labels)


class Health:
    """Liveness: the loop made progress recently. Readiness: configuration loaded and API reachable."""

    def __init__(self, stall_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_after_s = stall_after_s
        self.clock = clock
        self._beat = clock()
        self.ready = False
        self.reason = "starting"

    def beat(self) -> None:
        self._beat = self.clock()

    def alive(self) -> bool:
        return self.clock() - self._beat < self.stall_after_s


def serve(metrics: OpsMetrics, health: Health, address: str, port: int) -> ThreadingHTTPServer:
    """Start the listener in a daemon thread; returns the server (`.server_port`, `.shutdown()`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = health.alive()
                self._send(200 if ok else 503, b"ok\n" if ok else b"control loop stalled\n")
            elif path == "/readyz":
                ok = health.ready
                self._send(200 if ok else 503, f"{'ok' if ok else health.reason}\n".encode())
            else:
                self._send(404, b"not found; try /metrics, /healthz or /readyz\n")

        def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="capctl-http", daemon=True).start()
    return server
