"""Operator speed and memory at national scale: ticks over 50 and 1,000 plaques × 6 components.

    PYTHONPATH=. .venv/bin/python bench/bench_operator.py [--plaques 50,1000] [--api fake] [--code DIR]

Topologies come from tests/support/national.py (real académies and départements, a région and a
département mandate per plaque, monthly budgets of which a third bind). Each case runs in its own
process, so its peak resident memory (VmHWM) is its own: the operator loads the configuration, then
ticks — first (plans today, writes every floor), steady (one minute later: nothing to plan), rush
(two hours later: the floors rise). Per tick: CPU (`time.process_time`), wall, API requests counted in
the client (writes = not GET). Then `capctl run --once` over 50 plaques, whose peak RSS `os.wait4` gives.

The API server is pluggable: an `ApiServer` takes the policies folder and a work folder, seeds a server
with every workload and HPA the topology names, and yields a kubeconfig for it (what `capctl run
--kubeconfig` and `KubeClients` take). `fake` is tests/support/fake_kube in a child process (its CPU is not
the operator's); `envtest` is a real etcd + kube-apiserver (tests/support/envtest.py, KUBEBUILDER_ASSETS).
`--code DIR` runs the cases with DIR's `capacity` package (e.g. a checkout of an older commit, for "before" numbers).

Targets: steady tick at 1,000 plaques ≤ 5 s wall; peak RSS ≤ 256 MiB at 50 plaques (the chart's memory
limit) and ≤ 1 GiB at 1,000; `capctl run --once` at 50 plaques ≤ 256 MiB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # children get PYTHONPATH=[--code DIR:]REPO; keep DIR first
    sys.path.insert(0, str(REPO))

HOME = "capctl-system"
NOW = datetime.fromisoformat("2021-04-26T06:30:00+02:00")
MIB = 1024 * 1024
STEADY_WALL_S = 5.0  # steady tick at 1,000 plaques
RSS_MIB = {50: 256.0, 1000: 1024.0}

#: (policies folder, work folder) → context manager yielding the kubeconfig of a seeded API server.
ApiServer = Callable[[Path, Path], AbstractContextManager[Path]]


def _serve_fake(policies: Path, conn: Any) -> None:
    """Child process: a fake API server seeded with the topology's workloads, until told to stop."""
    from capacity.policy.bundle import load_policies
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
        conn.recv()  # "stop"


@contextmanager
def fake_api_server(policies: Path, work: Path) -> Iterator[Path]:
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve_fake, args=(policies, child), daemon=True)
    proc.start()
    kubeconfig = work / f"kubeconfig-{proc.pid}"
    kubeconfig.write_text(yaml.safe_dump(parent.recv()))
    try:
        yield kubeconfig
    finally:
        parent.send("stop")
        proc.join(timeout=30)


@contextmanager
def envtest_api_server(policies: Path, work: Path) -> Iterator[Path]:
    """A real etcd + kube-apiserver (tests/support/envtest.py; needs KUBEBUILDER_ASSETS or scripts/test's
    .tools/envtest), seeded through the real API as tests/realkube seeds it; admin kubeconfig."""
    from capacity.policy.bundle import load_policies
    from tests.realkube.conftest import Slice, seed
    from tests.support.envtest import start_control_plane

    cp = start_control_plane(work / f"envtest-{policies.name}")
    try:
        namespaces = {p.id: p.namespace for p in load_policies(policies).topology.plaques}
        piece = Slice(cp=cp, tmp=work, home=HOME, policies=policies, namespaces=namespaces, admin=cp.admin_client())
        seed(piece)
        piece.close()
        yield cp.write_kubeconfig(work / f"kubeconfig-envtest-{policies.name}")
    finally:
        cp.stop()


API_SERVERS: dict[str, ApiServer] = {"fake": fake_api_server, "envtest": envtest_api_server}


# ---------------------------------------------------------------- one case, in its own process


def _count_requests() -> dict[str, int]:
    """Count the client's HTTP requests by method (whatever the server)."""
    from kubernetes.client import rest

    counts: dict[str, int] = {}
    original = rest.RESTClientObject.request

    def counted(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        counts[method] = counts.get(method, 0) + 1
        return original(self, method, *args, **kwargs)

    rest.RESTClientObject.request = counted  # type: ignore[method-assign]
    return counts


def _vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_case(policies: Path, kubeconfig: Path, cluster_wide: bool = True) -> dict[str, Any]:
    from capacity.operator.controller import Controller
    from capacity.operator.decide import Mode
    from capacity.operator.kube.api import KubeClients, KubeSettings
    from capacity.operator.kube.lease import LeaderElector, LeaseSettings
    from capacity.operator.kube.state import StateStore
    from capacity.operator.ops_metrics import OpsMetrics
    from capacity.operator.reload import ConfigSource

    counts = _count_requests()
    # at national scale the site grants cluster-wide list rights (capctl run --cluster-wide-lists)
    known = "cluster_wide_lists" in Controller.__dataclass_fields__
    wide = {"cluster_wide_lists": cluster_wide} if known else {}
    clients = KubeClients(KubeSettings(kubeconfig=kubeconfig, user_agent="capctl/bench", timeout_s=(10.0, 120.0)))
    elector = LeaderElector(clients.api(), LeaseSettings(name="capctl", namespace=HOME, identity="bench"))
    controller = Controller(
        config=ConfigSource(policies),
        clients=clients,
        elector=elector,
        state=StateStore(clients.api(), HOME),
        metrics=OpsMetrics(),
        mode=Mode.DIRECT,
        timeout_s=(10.0, 120.0),
        **wide,
    )
    rows = []
    cpu, wall = time.process_time(), time.perf_counter()
    controller.config.poll()  # `capctl run` loads its configuration before the first tick
    rows.append({"tick": "start-up: load config", "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall})
    for label, now in (
        ("first: plan + write floors", NOW),
        ("steady: nothing to change", NOW + timedelta(minutes=1)),
        ("rush: floors rise", NOW + timedelta(hours=2)),
    ):
        counts.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        report = controller.tick(now)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        failed = sum(c.status == "failed" for c in report.components)
        requests = sum(counts.values())
        rows.append(
            {
                "tick": label,
                "cpu": cpu,
                "wall": wall,
                "requests": requests,
                "writes": requests - counts.get("GET", 0),
                "components": len(report.components),
                "failed": failed,
                "aborted": report.aborted,
            }
        )
    clients.close()
    return {"rows": rows, "peak_rss_mib": _vm("VmHWM"), "rss_mib": _vm("VmRSS")}


# ---------------------------------------------------------------- driver


def _child_env(code: Path | None) -> dict[str, str]:
    path = f"{code}{os.pathsep}{REPO}" if code else str(REPO)
    return {**os.environ, "PYTHONPATH": path, "POD_NAME": "capctl-bench", "POD_NAMESPACE": HOME}


def case(policies: Path, kubeconfig: Path, code: Path | None, cluster_wide: bool) -> dict[str, Any]:
    script = (
        "import json, sys; from pathlib import Path; import runpy; "
        f"b = runpy.run_path({str(Path(__file__))!r}); "
        "print(json.dumps(b['run_case'](Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == 'wide')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(policies), str(kubeconfig), "wide" if cluster_wide else "namespaced"],
        env=_child_env(code),
        cwd=policies.parent,  # not this checkout: `python -c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"case failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_once(policies: Path, kubeconfig: Path, code: Path | None) -> dict[str, Any]:
    """`capctl run --once` in a child process: wall time, exit code and peak RSS (os.wait4's ru_maxrss)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from capacity.cli import main; main()", "run", "--once", "--policies", str(policies),
         "--mode", "direct", "--now", NOW.isoformat(), "--kubeconfig", str(kubeconfig),
         "--metrics-address", "127.0.0.1", "--metrics-port", str(port), "--lease-name", "capctl-once"],
        env=_child_env(code), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=policies.parent,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": time.perf_counter() - started, "exit": proc.returncode, "peak_rss_mib": usage.ru_maxrss / 1024}


def main() -> None:
    from tests.support.national import write_national

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plaques", default="50,1000", help="comma-separated plaque counts")
    ap.add_argument("--api", default="fake", choices=sorted(API_SERVERS))
    ap.add_argument("--code", type=Path, help="run the operator from this checkout's `capacity` (before/after)")
    ap.add_argument("--per-namespace", action="store_true", help="one LIST per namespace (no --cluster-wide-lists)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    server = API_SERVERS[args.api]
    lists = "per namespace" if args.per_namespace else "cluster-wide"
    results: dict[str, Any] = {"cases": {}, "cpus": os.cpu_count(), "api": args.api, "code": str(args.code or REPO)}
    results["lists"] = lists
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in [int(x) for x in args.plaques.split(",")]:
            national = write_national(work / f"national-{n}", n)
            with server(national.root, work) as kubeconfig:
                results["cases"][n] = case(national.root, kubeconfig, args.code, not args.per_namespace)
            results["cases"][n]["shape"] = (
                f"{n} plaques × {national.components} components, {national.academies} académies, "
                f"{national.departements} départements, {national.mandates} mandates with budgets"
            )
        national = write_national(work / "national-once", 50)
        with server(national.root, work) as kubeconfig:
            results["run_once_50"] = run_once(national.root, kubeconfig, args.code)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    report(results)


def report(results: dict[str, Any]) -> None:
    lists = results.get("lists", "cluster-wide")
    print(f"operator bench: {results['api']} API server, {lists} lists, code {results['code']}, {results['cpus']} CPUs")
    for n, res in results["cases"].items():
        n = int(n)
        print(f"\n{res['shape']}")
        print(f"{'tick':30} {'CPU s':>7} {'wall s':>7} {'requests':>9} {'writes':>7}  failed/aborted")
        for r in res["rows"]:
            extra = f"{r.get('failed', '')} {r.get('aborted') or ''}".strip()
            req = f"{r['requests']:9d} {r['writes']:7d}" if "requests" in r else " " * 17
            target = ""
            if r["tick"].startswith("steady") and n == 1000:
                target = f"  target ≤ {STEADY_WALL_S:.0f} s wall: {'ok' if r['wall'] <= STEADY_WALL_S else 'OVER'}"
            print(f"{r['tick']:30} {r['cpu']:7.2f} {r['wall']:7.2f} {req}  {extra}{target}")
        budget = RSS_MIB.get(n)
        verdict = f"  target ≤ {budget:.0f} MiB: {'ok' if res['peak_rss_mib'] <= budget else 'OVER'}" if budget else ""
        print(f"{'peak RSS MiB (VmHWM)':30} {res['peak_rss_mib']:7.0f}{verdict}")
    once = results["run_once_50"]
    verdict = "ok" if once["peak_rss_mib"] <= 256 else "OVER"
    print(
        f"\ncapctl run --once, 50 plaques with budgets: peak RSS {once['peak_rss_mib']:.0f} MiB "
        f"(target ≤ 256: {verdict}), wall {once['wall']:.1f} s, exit {once['exit']}"
    )


if __name__ == "__main__":
    main()
