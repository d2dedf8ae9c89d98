"""Operator speed and memory: one tick over 50 plaques × 6 components against the fake API server.

    PYTHONPATH=. /work/venv/bin/python bench/bench_operator.py

The fake API server runs in a child process, so the CPU measured (`time.process_time` of this process
around `Controller.tick`) is the operator's alone: planning, deciding, the real `kubernetes` client
building and parsing every request. Targets: a tick under 1 s of CPU; `capctl run` (a separate process,
several ticks) under 200 MiB resident memory at its peak (VmHWM).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capacity.common.timegrid import PARIS  # noqa: E402
from capacity.operator.controller import Controller  # noqa: E402
from capacity.operator.decide import Mode  # noqa: E402
from capacity.operator.kube.api import KubeClients, KubeSettings  # noqa: E402
from capacity.operator.kube.lease import LeaderElector, LeaseSettings  # noqa: E402
from capacity.operator.kube.state import StateStore  # noqa: E402
from capacity.operator.ops_metrics import OpsMetrics  # noqa: E402
from capacity.operator.reload import ConfigSource  # noqa: E402
from capacity.policy.bundle import load_policies  # noqa: E402

HOME = "capctl-system"
COPIES = 10  # 5 shipped plaques × 10 = 50
EXTRA = {
    "files": {"kind": "Deployment", "name": "fichiers", "hpa": "fichiers", "requests_per_user_s": 0.008},
    "search": {"kind": "StatefulSet", "name": "recherche", "hpa": "recherche", "requests_per_user_s": 0.004},
}
NOW = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
CPU_BUDGET_S, RSS_BUDGET_MIB = 1.0, 200.0


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # policy files refuse aliases: write values out
        return True


def write_policies(root: Path) -> None:
    """50 plaques (the shipped five, ten times each) with 6 components, one mandate per plaque."""
    shipped = yaml.safe_load((REPO / "policies" / "topology.yaml").read_text())
    defaults = shipped["defaults"]["components"]
    for name, extra in EXTRA.items():
        defaults[name] = {**defaults["web"], **extra}
    plaques: dict[str, Any] = {}
    (root / "mandats").mkdir(parents=True)
    for pid, body in shipped["plaques"].items():
        for k in range(COPIES):
            new = f"{pid}-{k}"
            funder = f"financeur-{new}"
            plaques[new] = {**body, "namespace": f"ent-{new}", "funders": [funder]}
            mandate = {
                "collectivite": {"id": funder, "type": "region", "code": f"{10 + k}", "nom": f"Financeur {new}"},
                "finance": [
                    {
                        "plaque": new,
                        "niveaux": sorted(body["population"]),
                        "composants": {c: {"plancher": 2, "plafond": 80} for c in defaults},
                    }
                ],
            }
            (root / "mandats" / f"{funder}.yaml").write_text(yaml.safe_dump(mandate, sort_keys=False))
    topology = {"version": 1, "defaults": {"components": defaults}, "plaques": plaques}
    (root / "topology.yaml").write_text(yaml.dump(topology, Dumper=_NoAliases, sort_keys=False, allow_unicode=True))


def serve_fake(policies: Path, conn: Any) -> None:
    """Child process: a seeded fake API server until told to stop; reports its request count."""
    from tests.support.fake_kube import FakeKube

    with FakeKube() as fake:
        fake.add_namespace(HOME)
        for plaque in load_policies(policies).topology.plaques:
            for c in plaque.components:
                t = c.target
                if t.kind == "Deployment":
                    fake.add_deployment(t.namespace, t.name, replicas=2)
                else:
                    fake.add_statefulset(t.namespace, t.name, replicas=2)
                if t.hpa:
                    fake.add_hpa(t.namespace, t.hpa, t.kind, t.name, 2, 10, current_replicas=2)
        conn.send(fake.kubeconfig_dict())
        while True:
            msg = conn.recv()
            if msg == "stop":
                return
            log = fake.requests
            conn.send((len(log), sum(r.method != "GET" for r in log)))
            fake.clear_log()


def measure_ticks(policies: Path, kubeconfig: Path, conn: Any) -> list[tuple[str, float, float, int, int]]:
    clients = KubeClients(KubeSettings(kubeconfig=kubeconfig, user_agent="capctl/bench"))
    elector = LeaderElector(clients.api(), LeaseSettings(name="capctl", namespace=HOME, identity="bench"))
    controller = Controller(
        config=ConfigSource(policies),
        clients=clients,
        elector=elector,
        state=StateStore(clients.api(), HOME),
        metrics=OpsMetrics(),
        mode=Mode.DIRECT,
    )
    rows = []
    cpu, wall = time.process_time(), time.perf_counter()
    controller.config.poll()  # `capctl run` loads its configuration before the first tick
    rows.append(("start-up: load config (not a tick)", time.process_time() - cpu, time.perf_counter() - wall, 0, 0))
    for label, now in (
        ("first tick: plan 2 days + 300 writes", NOW),
        ("steady: nothing to change", NOW + timedelta(minutes=1)),
        ("warm plan, rush floors change", NOW + timedelta(hours=2)),
    ):
        conn.send("count")
        conn.recv()
        cpu, wall = time.process_time(), time.perf_counter()
        report = controller.tick(now)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert report.leader and len(report.components) == 300, report.aborted
        conn.send("count")
        requests, writes = conn.recv()
        rows.append((label, cpu, wall, requests, writes))
    clients.close()
    return rows


def measure_rss(policies: Path, kubeconfig: Path, ticks: int = 5) -> tuple[float, float, float]:
    """Peak and final resident memory (MiB) of `capctl run` over `ticks` ticks, and its start-up wall time."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "POD_NAME": "capctl-bench", "POD_NAMESPACE": HOME}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from capacity.cli import main; main()", "run", "--policies", str(policies),
         "--mode", "direct", "--tick", "1", "--now", NOW.isoformat(), "--kubeconfig", str(kubeconfig),
         "--metrics-address", "127.0.0.1", "--metrics-port", str(port), "--lease-name", "capctl-rss"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    first = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = _ticks(port)
            if done >= 1 and first is None:
                first = time.perf_counter() - started
            if done >= ticks:
                break
            time.sleep(0.2)
        status = Path(f"/proc/{proc.pid}/status").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return int(fields["VmHWM"]) / 1024, int(fields["VmRSS"]) / 1024, first or float("nan")


def _ticks(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return 0
    return int(sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("capctl_ticks_total")))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policies = Path(tmp) / "policies"
        write_policies(policies)
        parent, child = mp.Pipe()
        fake = mp.get_context("spawn").Process(target=serve_fake, args=(policies, child), daemon=True)
        fake.start()
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(parent.recv()))
        rows = measure_ticks(policies, kubeconfig, parent)
        peak, final, first_tick = measure_rss(policies, kubeconfig)
        parent.send("stop")
        fake.join(timeout=10)
    print(f"operator bench: 50 plaques × 6 components, mode direct, fake API in a child process, {os.cpu_count()} CPUs")
    print(f"{'tick':36} {'CPU s':>7} {'wall s':>7} {'requests':>9} {'writes':>7}  budget")
    for label, cpu, wall, requests, writes in rows:
        verdict = "" if label.startswith("start-up") else ("ok" if cpu < CPU_BUDGET_S else "OVER")
        budget = f"< {CPU_BUDGET_S:.0f} s CPU {verdict}" if verdict else ""
        print(f"{label:36} {cpu:7.3f} {wall:7.3f} {requests:9d} {writes:7d}  {budget}")
    verdict = "ok" if peak < RSS_BUDGET_MIB else "OVER"
    pad = " " * 27
    print(f"{'capctl run, 5 ticks: peak RSS MiB':36} {peak:7.1f}{pad}< {RSS_BUDGET_MIB:.0f} MiB {verdict}")
    print(f"{'capctl run: RSS after 5 ticks MiB':36} {final:7.1f}")
    print(f"{'capctl run: start to first tick s':36} {first_tick:7.2f}")


if __name__ == "__main__":
    main()
