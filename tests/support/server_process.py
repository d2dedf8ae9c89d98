"""The server process behind the real-store fixtures (Prometheus, VictoriaMetrics): spawn it on a free
port with its output in a log file, wait until a readiness URL answers 200, terminate it (kill if slow).

One home for what both fixtures need, so a fix to the port race or to shutdown reaches both.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """Linux: SIGTERM the server if pytest dies hard, so no server outlives the test run."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class PrometheusFixtureError(RuntimeError):
    """promtool, prometheus or victoria-metrics misbehaved; the message carries their own output."""


class LocalServer:
    """One server process on a private work directory (its log and data); subclasses say what to run.

    `running`, `url`, `stop()` (idempotent: terminate, kill after `stop_timeout_s`, remove the directory)
    and `log_tail()` are the same for every real store the tests start.
    """

    name = "server"
    ready_path = "/"

    def __init__(self, *, ready_timeout_s: float, stop_timeout_s: float) -> None:
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._work_dir: Path | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise PrometheusFixtureError(f"{self.name} was never started: call start() first")
        return self._url

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        self._terminate()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def log_tail(self, lines: int = 20) -> str:
        if self._work_dir is None:
            return "(no log: server not started)"
        log = self._log
        if not log.is_file():
            return "(empty log)"
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    @property
    def _log(self) -> Path:
        assert self._work_dir is not None
        return self._work_dir / "server.log"

    def _new_work_dir(self) -> Path:
        self._work_dir = Path(tempfile.mkdtemp(prefix=f"capctl-{self.name.lower()}-"))
        return self._work_dir

    def _launch(self, argv_for: Callable[[int], Sequence[str]], attempts: int, retry: Callable[[], bool]) -> str:
        """Run `argv_for(port)` on a free port until it is ready, or until `retry()` says a new port won't help."""
        for _attempt in range(attempts):
            port = free_port()
            self._spawn(argv_for(port))
            url = f"http://127.0.0.1:{port}"
            if self._wait_ready(url):
                self._url = url
                return url
            if not retry():
                break
        tail = self.log_tail()
        self.stop()
        raise PrometheusFixtureError(f"{self.name} did not become ready; last log lines:\n{tail}")

    def _spawn(self, argv: Sequence[str]) -> None:
        self._terminate()
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
            )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_ready(self, url: str) -> bool:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                with urllib.request.urlopen(f"{url}{self.ready_path}", timeout=1.0) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        return False
