"""One child server process for the real-store fixtures (Prometheus, VictoriaMetrics): spawn it on a free
port with its output in a log file, wait until a readiness URL answers 200, terminate it (kill if slow).

One home for what both fixtures need, so a fix to the port race or to shutdown reaches both.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
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


class ServerProcess:
    """The process behind one fixture server; `log` is where its stdout and stderr go."""

    def __init__(self, log: Path, ready_path: str, *, ready_timeout_s: float, stop_timeout_s: float) -> None:
        self.log = log
        self.ready_path = ready_path
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def launch(self, argv_for: Callable[[int], Sequence[str]], attempts: int, retry: Callable[[], bool]) -> str | None:
        """Start `argv_for(port)` on a free port until it is ready (URL) or `retry()` says a new port won't help."""
        for _attempt in range(attempts):
            port = free_port()
            self.spawn(argv_for(port))
            url = f"http://127.0.0.1:{port}"
            if self.wait_ready(url):
                return url
            if not retry():
                break
        return None

    def spawn(self, argv: Sequence[str]) -> None:
        self.terminate()
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
            )

    def terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def wait_ready(self, url: str) -> bool:
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

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.is_file():
            return "(empty log)"
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
