"""Chaos helpers for the real-server tests: real `capctl run` processes, an HPA watcher, a concurrent writer.

Every loop here is bounded (a deadline or a stop flag set in a `finally`), and every process is stopped
by the PID this module started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.realkube.conftest import RENTREE, Slice
from tests.support.envtest import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CapctlProcess:
    """One `capctl run --mode floor` process (as a pod would run it), logging JSON lines to a file."""

    identity: str
    log: Path
    metrics_port: int
    popen: subprocess.Popen[bytes]

    @staticmethod
    def start(kube: Slice, identity: str, *, tick_s: float = 2.0) -> CapctlProcess:
        port = free_port()
        log = kube.tmp / f"capctl-{identity}-{time.monotonic_ns()}.log"
        argv = [
            sys.executable, "-m", "capacity", "run", "--mode", "floor",
            "--kubeconfig", str(kube.kubeconfig()), "--lease-namespace", kube.home, "--identity", identity,
            "--now", RENTREE.isoformat(), "--tick", str(tick_s), "--policies", str(kube.policies),
            "--metrics-address", "127.0.0.1", "--metrics-port", str(port), "--log-format", "json",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        return CapctlProcess(identity, log, port, popen)

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.log.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"msg": raw})
        return out

    def count(self, message: str) -> int:
        return sum(1 for line in self.lines() if line.get("msg") == message)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def size(self) -> int:
        return self.log.stat().st_size

    def await_line(self, message: str, after: int, timeout_s: float) -> None:
        """Return as soon as a line `message` is logged past byte `after` (a tight poll: a tick's writes
        take a few tens of milliseconds, and the point is to land in the middle of them)."""
        needle = f'"msg": "{message}"'.encode()
        deadline = time.monotonic() + timeout_s
        with self.log.open("rb") as f:
            while time.monotonic() < deadline:
                f.seek(after)
                if needle in f.read():
                    return
                time.sleep(0.002)
        raise AssertionError(f"{self.identity} logged no {message!r} within {timeout_s:.0f} s:\n{self.tail()}")

    def planned(self) -> dict[tuple[str, str], int]:
        """`capctl_planned_replicas` from its /metrics: what its last leader tick set."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=3) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("capctl_planned_replicas{"):
                labels, value = line[len("capctl_planned_replicas{") :].rsplit("} ", 1)
                parts = dict(kv.split("=", 1) for kv in labels.split(","))
                out[(parts["plaque"].strip('"'), parts["component"].strip('"'))] = int(float(value))
        return out

    def kill(self) -> None:
        """SIGKILL: no release of the Lease, no end of tick, as a node dying would do."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def tail(self, n: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@dataclass
class Background:
    """A bounded helper thread for the length of a `with` block (stopped and joined on exit)."""

    _stop: threading.Event = field(default_factory=threading.Event, kw_only=True)
    _thread: threading.Thread | None = field(default=None, kw_only=True)

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(10)

    def _run(self) -> None:
        raise NotImplementedError


@dataclass
class HpaWatch(Background):
    """Polls every HPA of the slice in a thread until stopped; keeps what a safety check needs.

    kube-apiserver validates minReplicas <= maxReplicas itself, so `inverted` guards against a change of
    that (or a server without it); the tests also check capctl never got the 422 for asking."""

    kube: Slice
    every_s: float = 0.2
    polls: int = 0
    inverted: list[tuple[str, str, int, int]] = field(default_factory=list)  # minReplicas > maxReplicas
    lowest_min: dict[tuple[str, str], int] = field(default_factory=dict)

    def _run(self) -> None:
        api = client.AutoscalingV2Api(self.kube.cp.admin_client())
        try:
            while not self._stop.is_set():
                for ns in self.kube.namespaces.values():
                    try:
                        items = api.list_namespaced_horizontal_pod_autoscaler(ns, _request_timeout=5).items
                    except Exception:  # the API server may be down on purpose
                        continue
                    for h in items:
                        key, lo, hi = (ns, h.metadata.name), h.spec.min_replicas, h.spec.max_replicas
                        if lo > hi:
                            self.inverted.append((*key, lo, hi))
                        self.lowest_min[key] = min(lo, self.lowest_min.get(key, lo))
                self.polls += 1
                self._stop.wait(self.every_s)
        finally:
            api.api_client.close()


@dataclass
class Storm(Background):
    """Another writer on the same HPAs, as fast as it can: read, edit fields capctl does not own (a label,
    the CPU target, `behavior`), then PUT with the resourceVersion it read, so both sides get 409s."""

    kube: Slice
    keys: list[tuple[str, str]]
    rounds: int = 0
    conflicts: int = 0
    last: dict[tuple[str, str], int] = field(default_factory=dict)  # the last value it wrote, per HPA
    error: str | None = None  # what stopped it early, if anything did

    def _run(self, max_rounds: int = 20_000) -> None:
        api = client.AutoscalingV2Api(self.kube.cp.admin_client())
        try:
            while not self._stop.is_set() and self.rounds < max_rounds:
                self.rounds += 1
                for ns, name in self.keys:
                    h = api.read_namespaced_horizontal_pod_autoscaler(name, ns)
                    value = self.rounds
                    h.metadata.labels = {**(h.metadata.labels or {}), "storm": str(value)}
                    h.spec.metrics[0].resource.target.average_utilization = 50 + value % 40
                    h.spec.behavior = client.V2HorizontalPodAutoscalerBehavior(
                        scale_down=client.V2HPAScalingRules(stabilization_window_seconds=value % 3600)
                    )
                    try:
                        api.replace_namespaced_horizontal_pod_autoscaler(name, ns, h)
                        self.last[(ns, name)] = value
                    except ApiException as exc:
                        if exc.status != 409:
                            raise
                        self.conflicts += 1
        except Exception as exc:  # reported by the test, not lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            api.api_client.close()
