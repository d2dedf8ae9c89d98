"""Safety: conflicts, API errors and timeouts, leadership, restarts, missing metrics, broken config files."""

from __future__ import annotations

import json
import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.kube.state import CONFIGMAP_NAME
from capacity.operator.live_usage import PrometheusUsage
from tests.kube.conftest import HOME, HPA_MIN, POLICIES, all_hpas, hpa, make_instance, metric
from tests.support.fake_kube import FakeKube

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
HOLIDAY = datetime(2021, 4, 19, 6, 30, tzinfo=PARIS)
GE_API = r"/namespaces/ent-grand-est/horizontalpodautoscalers/api$"


def requests_to(fake: FakeKube, pattern: str) -> list[tuple[str, int | None, Any]]:
    return [(r.method, r.status, r.body) for r in fake.requests if re.search(pattern, r.path)]


def test_a_conflict_is_retried_from_a_fresh_read(seeded: FakeKube, tmp_path: Path) -> None:
    seeded.conflict_next("PATCH", GE_API)  # another client writes the HPA just before our patch
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert report.ok
    seen = requests_to(seeded, GE_API)
    assert [(m, s) for m, s, _ in seen] == [("PATCH", 409), ("GET", 200), ("PATCH", 200)]
    first, retry = seen[0][2], seen[2][2]
    assert first["spec"] == retry["spec"]
    assert int(retry["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.decision is not None
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] == ge.decision.replicas


def test_a_5xx_leaves_that_hpa_untouched_and_the_others_done(seeded: FakeKube, tmp_path: Path) -> None:
    before = all_hpas(seeded)
    seeded.fail_next("PATCH", GE_API, status=503, times=100)
    slept: list[float] = []
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, sleep=slept.append)
    report = a.tick(RENTREE)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.status == "failed" and ge.error is not None and "503" in ge.error
    after = all_hpas(seeded)
    assert after[("ent-grand-est", "api")] == before[("ent-grand-est", "api")]  # neither min nor max moved
    assert all(after[k] != v for k, v in before.items() if k != ("ent-grand-est", "api"))
    assert [(m, s) for m, s, _ in requests_to(seeded, GE_API)] == [("PATCH", 503)] * 4
    assert len(slept) == 3 and slept == sorted(slept)  # exponential backoff between the 4 attempts
    events = [w.body for w in seeded.writes(r"/events$")]
    assert not any(e["involvedObject"]["name"] == "api" and "grand-est/" in e["message"] for e in events)
    assert metric(a, "capctl_errors_total", kind="actuation") == 1.0
    assert not report.ok


def test_a_timed_out_write_that_landed_is_not_applied_twice(seeded: FakeKube, tmp_path: Path) -> None:
    # The server holds our patch past the client's timeout and then applies it, as a slow server does.
    seeded.delay_next("PATCH", GE_API, seconds=1.0, apply=True)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, timeout_s=(2.0, 0.3))
    report = a.tick(RENTREE)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.status == "applied" and ge.decision is not None
    seen = requests_to(seeded, GE_API)
    # the late write landed (200, unseen by us); our resend with the same resourceVersion got 409; a fresh
    # read showed the value in place: nothing more written
    assert sorted((m, s) for m, s, _ in seen) == [("GET", 200), ("PATCH", 200), ("PATCH", 409)]
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] == ge.decision.replicas


def test_a_dropped_write_is_resent(seeded: FakeKube, tmp_path: Path) -> None:
    seeded.delay_next("PATCH", GE_API, seconds=0.5, apply=False)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, timeout_s=(2.0, 0.3))
    report = a.tick(RENTREE)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.status == "applied" and ge.decision is not None
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] == ge.decision.replicas


def test_of_two_instances_only_the_leader_writes(seeded: FakeKube, tmp_path: Path) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    b = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-b")
    assert a.tick(RENTREE).leader
    seeded.clear_log()
    hpas = all_hpas(seeded)
    report = b.tick(RENTREE + timedelta(minutes=1))
    assert not report.leader and report.components == ()
    assert [(r.method, r.path) for r in seeded.requests] == [
        ("GET", f"/apis/coordination.k8s.io/v1/namespaces/{HOME}/leases/capctl")
    ]
    assert all_hpas(seeded) == hpas
    assert metric(b, "capctl_is_leader") == 0.0 and metric(a, "capctl_is_leader") == 1.0
    assert metric(b, "capctl_planned_replicas", plaque="grand-est", component="api") is None  # no double curves
    # SIGTERM on the leader releases the lease: the standby takes over at its next tick, without waiting
    a.elector.release()
    assert b.tick(RENTREE + timedelta(minutes=2)).leader
    assert not a.tick(RENTREE + timedelta(minutes=3)).leader


def test_a_lease_lost_mid_tick_stops_writes_at_once(seeded: FakeKube, tmp_path: Path) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, renew_every_s=0.0)  # renew before every write
    guard_calls = 0
    ensure = a.elector.ensure

    def takeover_after_first_write() -> None:
        nonlocal guard_calls
        guard_calls += 1
        if guard_calls == 2:  # another instance takes the lease between our first and second HPA writes
            _steal_lease(seeded, "capctl-b")
        ensure()

    a.controller.actuator.guard = takeover_after_first_write
    hpas = all_hpas(seeded)
    report = a.tick(RENTREE)
    assert report.aborted is not None and "lost the lease" in report.aborted
    changed = [k for k, v in all_hpas(seeded).items() if v != hpas[k]]
    assert changed == [("ent-grand-est", "web")]  # the first write only
    writes = [w.path for w in seeded.writes() if "/configmaps" in w.path or "/horizontalpodautoscalers/" in w.path]
    # the state (history + intent) goes first, before any workload write; nothing is written after the loss
    assert [("/configmaps" in p, "/horizontalpodautoscalers/" in p) for p in writes] == [(True, False), (False, True)]
    assert metric(a, "capctl_is_leader") == 0.0


def test_a_restart_keeps_the_scale_down_stabilisation(seeded: FakeKube, tmp_path: Path) -> None:
    rush = datetime(2021, 4, 26, 8, 0, tzinfo=PARIS)
    after = rush + timedelta(minutes=25)
    first = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    floors = {c.target.key: c.decision.replicas for c in first.tick(rush).components if c.decision}
    first.elector.release()  # the pod is replaced
    restarted = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-b")
    report = restarted.tick(after)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.planned is not None and ge.decision is not None
    assert ge.planned.replicas < floors[("grand-est", "api")]  # the plan went down after the rush...
    assert ge.decision.replicas == floors[("grand-est", "api")]  # ...but the window holds the floor
    assert "stabilisation" in ge.decision.reasons
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] == floors[("grand-est", "api")]
    # the same restart without the state ConfigMap would have stepped down at once
    restarted.elector.release()
    seeded.delete_object("v1", "ConfigMap", HOME, CONFIGMAP_NAME)
    amnesic = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-c")
    ge2 = next(c for c in amnesic.tick(after).components if c.target.key == ("grand-est", "api"))
    assert ge2.decision is not None and ge2.decision.replicas < floors[("grand-est", "api")]


def test_prometheus_down_keeps_current_if_higher_and_says_so(seeded: FakeKube, tmp_path: Path) -> None:
    raised = 40
    _set_hpa_min(seeded, "ent-grand-est", "api", raised)  # yesterday's rush floor, still in place
    down = PrometheusUsage(f"http://127.0.0.1:{_closed_port()}", timeout_s=0.5)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, usage=down)
    report = a.tick(HOLIDAY)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.planned is not None and ge.decision is not None
    assert ge.planned.replicas < raised
    assert ge.decision.replicas == raised and "fallback" in ge.decision.reasons
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] == raised
    assert metric(a, "capctl_metrics_available", plaque="grand-est") == 0.0
    said = [w.body for w in seeded.writes(r"/events$") if w.body["reason"] == "MetricsUnavailable"]
    assert len(said) == 1 and said[0]["type"] == "Warning" and "kept" in said[0]["message"]
    assert any("unavailable" in e for e in report.errors)
    # raising stays allowed while blind: other HPAs went up to their plan
    assert hpa(seeded, "ent-occitanie", "api")["spec"]["minReplicas"] >= HPA_MIN


def test_with_live_metrics_the_same_floor_steps_down(seeded: FakeKube, tmp_path: Path) -> None:
    raised = 40
    _set_hpa_min(seeded, "ent-grand-est", "api", raised)
    with _FakePrometheus({"grand-est": 150.0, "occitanie": 80.0}) as url:
        a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, usage=PrometheusUsage(url, timeout_s=2.0))
        report = a.tick(HOLIDAY)
    ge = next(c for c in report.components if c.target.key == ("grand-est", "api"))
    assert ge.decision is not None and ge.decision.replicas == 30 and "max-step" in ge.decision.reasons
    assert metric(a, "capctl_observed_users", plaque="grand-est") == 150.0
    # a plaque missing from the answer is blind on its own
    assert metric(a, "capctl_metrics_available", plaque="seine-maritime") == 0.0


def test_a_policy_file_broken_mid_run_keeps_the_last_good_one(seeded: FakeKube, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, policies=policies)
    good = {c.target.key: c.decision.replicas for c in a.tick(RENTREE).components if c.decision}
    mandate = policies / "mandats" / "region-grand-est.yaml"
    text = mandate.read_text()
    mandate.write_text(text.replace("plafond: 15", "plafond: [15"))  # a typo, mid-run
    report = a.tick(RENTREE + timedelta(minutes=1))
    assert report.config_version == a.controller.config.poll()[0].version
    assert {c.target.key: c.decision.replicas for c in report.components if c.decision} == good
    assert metric(a, "capctl_config_reloads_total", part="policies", result="failure") == 1.0
    assert metric(a, "capctl_config_last_reload_successful", part="policies") == 0.0
    warned = [w.body for w in seeded.writes(r"/events$") if w.body["reason"] == "ConfigReloadFailed"]
    assert len(warned) == 1 and "region-grand-est.yaml:" in warned[0]["message"]
    a.tick(RENTREE + timedelta(minutes=2))  # still broken: reported once, not every tick
    assert len([w for w in seeded.writes(r"/events$") if w.body["reason"] == "ConfigReloadFailed"]) == 1
    mandate.write_text(text.replace("plafond: 15", "plafond: 9"))  # fixed, with a lower web ceiling
    a.tick(RENTREE + timedelta(minutes=3))
    assert hpa(seeded, "ent-grand-est", "web")["spec"]["maxReplicas"] == 48 - 6
    assert metric(a, "capctl_config_last_reload_successful", part="policies") == 1.0


# ---------------------------------------------------------------------------------------------- helpers


def _steal_lease(fake: FakeKube, holder: str) -> None:
    lease = fake.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert lease is not None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease["spec"].update(holderIdentity=holder, renewTime=now, acquireTime=now)
    fake.put_object(lease)


def _set_hpa_min(fake: FakeKube, namespace: str, name: str, value: int) -> None:
    obj = hpa(fake, namespace, name)
    obj["spec"]["minReplicas"] = value
    obj["spec"]["maxReplicas"] = max(value, obj["spec"]["maxReplicas"])
    fake.put_object(obj)
    fake.clear_log()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _FakePrometheus:
    """A stand-in for Prometheus' /api/v1/query that answers users per plaque (for the positive case)."""

    def __init__(self, users: dict[str, float]) -> None:
        body = {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [{"metric": {"plaque": p}, "value": [0, str(v)]} for p, v in users.items()],
            },
        }
        payload = json.dumps(body).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if self.path.startswith("/api/v1/query?") else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
