"""Run a REAL VictoriaMetrics (Debian package `victoria-metrics`) loaded with the same OpenMetrics history
as the Prometheus fixture, for the long-term-history tests (years of history live in such a store).

    def test_fit(victoria_metrics_with):
        url = victoria_metrics_with(TEXT)   # shared per session, by content: never write to it

History goes in through `/api/v1/import/prometheus` (Prometheus text with millisecond timestamps), then
`/internal/force_flush` makes it searchable at once. Skipped when the binary is absent, failed under CI
(`tests.support.tools.tool_path`); `scripts/install-victoria-metrics` installs it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.prometheus import PrometheusFixtureError, _die_with_parent, free_port
from tests.support.tools import tool_path

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
IMPORT_BATCH_LINES = 200_000


def prometheus_text(openmetrics_text: str) -> str:
    """OpenMetrics (timestamps in seconds, `# TYPE`/`# EOF` lines) → Prometheus text with ms timestamps."""
    out = []
    for line in openmetrics_text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value, ts = line.rsplit(" ", 2)
        out.append(f"{series} {value} {round(float(ts) * 1000)}")
    return "\n".join(out) + "\n"


class VictoriaMetricsServer:
    """One victoria-metrics process on a private data directory; `start()`, `load(text)`, `stop()`."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._work_dir: Path | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise PrometheusFixtureError("VictoriaMetrics was never started: call start() first")
        return self._url

    def start(self) -> str:
        binary = tool_path("victoria-metrics")
        self._work_dir = Path(tempfile.mkdtemp(prefix="capctl-vm-"))
        for _attempt in range(3):
            port = free_port()
            with (self._work_dir / "vm.log").open("wb") as log:
                self._process = subprocess.Popen(
                    [
                        str(binary),
                        f"-storageDataPath={self._work_dir / 'data'}",
                        f"-httpListenAddr=127.0.0.1:{port}",
                        "-retentionPeriod=100y",
                        "-search.disableCache",  # history is imported after start: never serve a stale answer
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            if self._wait_ready(f"http://127.0.0.1:{port}"):
                self._url = f"http://127.0.0.1:{port}"
                return self._url
            self._terminate()
        tail = self.log_tail()
        self.stop()
        raise PrometheusFixtureError(f"VictoriaMetrics did not become ready; last log lines:\n{tail}")

    def load(self, openmetrics_text: str) -> None:
        """Import the history and flush it to searchable storage."""
        lines = prometheus_text(openmetrics_text).splitlines()
        for i in range(0, len(lines), IMPORT_BATCH_LINES):
            body = ("\n".join(lines[i : i + IMPORT_BATCH_LINES]) + "\n").encode()
            self._post("/api/v1/import/prometheus", body)
        self._post("/internal/force_flush", b"")

    def stop(self) -> None:
        self._terminate()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def log_tail(self, lines: int = 20) -> str:
        log = self._work_dir / "vm.log" if self._work_dir else None
        if log is None or not log.is_file():
            return "(no log)"
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusFixtureError(f"VictoriaMetrics refused {path}: {exc.read()[:500]!r}") from None

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_ready(self, url: str) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1.0) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        return False


@pytest.fixture(scope="session")
def victoria_metrics_with() -> Iterator[Callable[[str], str]]:
    """`victoria_metrics_with(text)` -> URL of a VictoriaMetrics holding that OpenMetrics history (read-only)."""
    servers: dict[str, VictoriaMetricsServer] = {}

    def url_for(openmetrics_text: str) -> str:
        key = hashlib.sha256(openmetrics_text.encode()).hexdigest()[:16]
        if key not in servers:
            server = VictoriaMetricsServer()
            server.start()
            servers[key] = server
            server.load(openmetrics_text)
        return servers[key].url

    yield url_for
    for server in servers.values():
        server.stop()
