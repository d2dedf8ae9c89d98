"""`capctl run` as a process: --once replays a morning; the loop serves its endpoints and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from capacity.calendar import SchoolCalendar
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_day
from capacity.policy.bundle import load_policies
from tests.kube.conftest import HOME, HPA_MIN, POLICIES, REPO, hpa, seed
from tests.support.cli import capctl as run_capctl
from tests.support.fake_kube import FakeKube

ZONES_B_C = ("grand-est", "seine-maritime", "occitanie")


def capctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real entry point, without the pod's environment leaking in from the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("POD_NAME", "POD_NAMESPACE", "KUBECONFIG")}
    return run_capctl(*args, env=env, timeout=timeout)


def once(fake: FakeKube, tmp_path: Path, now: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    return capctl(
        "run", "--once", "--mode", "floor", "--now", now, "--kubeconfig", str(kubeconfig),
        "--lease-name", "capctl", "--lease-namespace", HOME, "--log-format", "text",
    )  # fmt: skip


def rush_floors(day: date) -> dict[tuple[str, str], int]:
    """What the planner asks for each HPA at the 7-9 h rush of `day` (independent of the operator)."""
    plan = plan_day(day, 300, load_policies(POLICIES), SchoolCalendar.load(), default_rates())
    out = {}
    for pp in plan.plaques:
        rush = [i for i, s in enumerate(pp.forecast.grid.starts) if 7 <= s.hour < 9]
        for cp in pp.components:
            if cp.component.target.hpa:
                out[(pp.plaque.id, cp.component.target.hpa)] = int(cp.replicas[rush].max())
    return out


def seeded_once_then_rentree_floors(
    fake: FakeKube, tmp_path: Path, now: str
) -> tuple[subprocess.CompletedProcess[str], dict[tuple[str, str], tuple[int, int]]]:
    """Seed, run `--once` at `now` (it must succeed); then (plaque, HPA) -> (its minReplicas now, the
    planner's 2021-04-26 rush floor) for the zone B and C plaques."""
    seed(fake)
    result = once(fake, tmp_path, now)
    assert result.returncode == 0, result.stderr
    namespaces = {p.id: p.namespace for p in load_policies(POLICIES).topology.plaques}
    floors = {
        (plaque, name): (hpa(fake, namespaces[plaque], name)["spec"]["minReplicas"], floor)
        for (plaque, name), floor in rush_floors(date(2021, 4, 26)).items()
        if plaque in ZONES_B_C
    }
    return result, floors


def test_once_raises_zone_b_and_c_hpas_to_the_rentree_floor_before_7h(fake_kube: FakeKube, tmp_path: Path) -> None:
    result, floors = seeded_once_then_rentree_floors(fake_kube, tmp_path, "2021-04-26T06:30:00+02:00")
    for key, (got, floor) in floors.items():
        assert floor > HPA_MIN
        assert got == floor, key
    assert "grand-est" in result.stdout and "applied" in result.stdout and "prewarm" in result.stdout


def test_once_on_a_holiday_morning_does_not(fake_kube: FakeKube, tmp_path: Path) -> None:
    _, floors = seeded_once_then_rentree_floors(fake_kube, tmp_path, "2021-04-19T06:30:00+02:00")
    assert floors
    for (plaque, name), (got, rentree) in floors.items():
        assert got < rentree, (plaque, name)
        if plaque != "grand-est":  # grand-est's mandates guarantee 12 replicas; the others stay as found
            assert got == HPA_MIN


def test_bad_input_is_one_line_and_exit_2(fake_kube: FakeKube, tmp_path: Path) -> None:
    result = once(fake_kube, tmp_path, "2021-04-26T06:30:00")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "capctl: error: --now '2021-04-26T06:30:00' has no UTC offset; add one, e.g. +02:00"
    ]


def test_once_with_the_api_down_fails_and_writes_nothing(fake_kube: FakeKube, tmp_path: Path) -> None:
    seed(fake_kube)
    fake_kube.set_down("refused")
    result = once(fake_kube, tmp_path, "2021-04-26T06:30:00+02:00")
    fake_kube.set_up()
    assert result.returncode == 1
    assert "lease not readable" in result.stdout
    assert fake_kube.writes() == []


def test_the_loop_serves_its_endpoints_and_releases_the_lease_on_sigterm(fake_kube: FakeKube, tmp_path: Path) -> None:
    seed(fake_kube)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(PYTHONPATH=str(REPO), POD_NAME="capctl-0", POD_NAMESPACE=HOME)
    proc = subprocess.Popen(
        [
            sys.executable, "-c", "from capacity.cli import main; main()", "run", "--mode", "floor",
            "--tick", "1", "--now", "2021-04-26T06:30:00+02:00", "--kubeconfig",
            str(fake_kube.kubeconfig(tmp_path / "kubeconfig")), "--metrics-address", "127.0.0.1",
            "--metrics-port", str(port), "--lease-name", "capctl",
        ],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(lambda: _get(base + "/readyz")[0] == 200), "never ready"
        assert _wait_for(lambda: "capctl_planned_replicas{" in _get(base + "/metrics")[1])
        status, metrics = _get(base + "/metrics")
        assert status == 200
        assert "capctl_is_leader 1.0" in metrics
        assert 'capctl_forecast_users{plaque="grand-est"}' in metrics
        assert "capctl_tick_duration_seconds_count" in metrics
        assert _get(base + "/healthz")[0] == 200
        lease = fake_kube.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
        assert lease is not None and lease["spec"]["holderIdentity"] == "capctl-0"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    lease = fake_kube.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert lease is not None and lease["spec"].get("holderIdentity") is None
    assert '"msg": "lease released"' in stderr  # structured JSON logs by default
    events = [w.body for w in fake_kube.writes(r"/events$")]
    assert events and all(e["reportingInstance"] == "capctl-0" for e in events)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def _wait_for(check: object, timeout_s: float = 30.0) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
