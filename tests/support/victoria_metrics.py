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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.support.server_process import LocalServer, PrometheusFixtureError
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


class VictoriaMetricsServer(LocalServer):
    """One victoria-metrics process on a private data directory; `start()`, `load(text)`, `stop()`."""

    name = "VictoriaMetrics"
    ready_path = "/health"

    def __init__(self) -> None:
        super().__init__(ready_timeout_s=READY_TIMEOUT_S, stop_timeout_s=STOP_TIMEOUT_S)

    def start(self) -> str:
        binary = tool_path("victoria-metrics")
        argv = [
            str(binary),
            f"-storageDataPath={self._new_work_dir() / 'data'}",
            "-retentionPeriod=100y",
            "-search.disableCache",  # history is imported after start: never serve a stale answer
        ]
        return self._launch(lambda port: [*argv, f"-httpListenAddr=127.0.0.1:{port}"], 3, retry=lambda: True)

    def load(self, openmetrics_text: str) -> None:
        """Import the history and flush it to searchable storage."""
        lines = prometheus_text(openmetrics_text).splitlines()
        for i in range(0, len(lines), IMPORT_BATCH_LINES):
            body = ("\n".join(lines[i : i + IMPORT_BATCH_LINES]) + "\n").encode()
            self._post("/api/v1/import/prometheus", body)
        self._post("/internal/force_flush", b"")

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusFixtureError(f"VictoriaMetrics refused {path}: {exc.read()[:500]!r}") from None


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
