"""Run a REAL Prometheus (Debian package) loaded with backfilled history, for adapter and end-to-end tests.

Why real: the Prometheus source must be proven against the actual HTTP API (11,000-point limit per
series, staleness, label escaping), not against a double that agrees with our own assumptions.

Typical use, in a test module:

    TEXT = render_openmetrics([...])          # tests.support.openmetrics

    def test_reads_history(prometheus_with):
        url = prometheus_with(TEXT)           # shared per session, by content: never write to it
        ...

    def test_server_down(start_prometheus):
        server = start_prometheus(TEXT)       # private to this test
        server.stop()                         # now the URL refuses connections

The fixtures are registered for the whole suite by `tests/conftest.py` (`pytest_plugins`).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import pytest

from tests.support.server_process import LocalServer, free_port
from tests.support.server_process import PrometheusFixtureError as PrometheusFixtureError
from tests.support.tools import tool_path

# promtool rounds this down to the largest compatible block range (39366h, ~4.5 years): a multi-year
# history becomes one or two blocks, backfilled in a single pass over the file. promtool's default
# (2h blocks) re-reads the whole input once per block: hours for two school years.
MAX_BLOCK_DURATION = "100000h"
# Time retention is measured from the newest block: a short one would delete 2021 history as soon as a
# newer block exists next to it.
RETENTION = "100y"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3
_CONFIG = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n"


def backfill(openmetrics_path: Path, tsdb_dir: Path) -> list[Path]:
    """Turn an OpenMetrics file into TSDB blocks inside `tsdb_dir`; return the block directories."""
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(tool_path("promtool")),
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "--quiet",
        f"--max-block-duration={MAX_BLOCK_DURATION}",
        str(openmetrics_path),
        str(tsdb_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise PrometheusFixtureError(
            f"promtool could not backfill {openmetrics_path} (exit {result.returncode}):\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return sorted(p for p in tsdb_dir.iterdir() if p.is_dir() and (p / "meta.json").is_file())


def unused_url() -> str:
    """A Prometheus-looking URL where the connection is refused (no server was ever there)."""
    return f"http://127.0.0.1:{free_port()}"


class PrometheusServer(LocalServer):
    """One prometheus process serving `tsdb_dir`; `start()`/`stop()` or use as a context manager.

    The TSDB directory belongs to the server while it runs (it adds a WAL and a lock file); pass a copy
    when the blocks are shared.
    """

    name = "Prometheus"
    ready_path = "/-/ready"

    def __init__(
        self,
        tsdb_dir: Path,
        *,
        ready_timeout_s: float = READY_TIMEOUT_S,
        stop_timeout_s: float = STOP_TIMEOUT_S,
    ) -> None:
        super().__init__(ready_timeout_s=ready_timeout_s, stop_timeout_s=stop_timeout_s)
        self.tsdb_dir = tsdb_dir

    def start(self) -> str:
        """Start the server and wait until `/-/ready`; return its base URL."""
        if self.running:
            return self.url
        binary = tool_path("prometheus")
        config = self._new_work_dir() / "prometheus.yml"
        config.write_text(_CONFIG, encoding="utf-8")
        argv = [
            str(binary),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.tsdb_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
        ]
        return self._launch(
            lambda port: [*argv, f"--web.listen-address=127.0.0.1:{port}"],
            _PORT_ATTEMPTS,
            retry=lambda: "address already in use" in self.log_tail(),  # lost the port race: try another
        )

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def content_key(openmetrics_text: str) -> str:
    return hashlib.sha256(openmetrics_text.encode("utf-8")).hexdigest()[:16]


@pytest.fixture(scope="session")
def prometheus_blocks(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`blocks(text)` -> directory of TSDB blocks for that OpenMetrics text, backfilled once per session."""
    cache: dict[str, Path] = {}

    def blocks(openmetrics_text: str) -> Path:
        key = content_key(openmetrics_text)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"om-{key}")
            source = root / "history.om"
            source.write_text(openmetrics_text, encoding="utf-8")
            backfill(source, root / "blocks")
            cache[key] = root / "blocks"
        return cache[key]

    return blocks


@pytest.fixture(scope="session")
def prometheus_with(
    prometheus_blocks: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """`prometheus_with(text)` -> URL of a server holding that history, shared by every test asking
    for the same text. Read-only by contract: tests must not delete series or reload it."""
    servers: dict[str, PrometheusServer] = {}

    def url_for(openmetrics_text: str) -> str:
        key = content_key(openmetrics_text)
        if key not in servers:
            tsdb = tmp_path_factory.mktemp(f"prom-{key}") / "tsdb"
            shutil.copytree(prometheus_blocks(openmetrics_text), tsdb)
            server = PrometheusServer(tsdb)
            server.start()
            servers[key] = server
        return servers[key].url

    yield url_for
    for server in servers.values():
        server.stop()


@pytest.fixture
def start_prometheus(
    prometheus_blocks: Callable[[str], Path], tmp_path: Path
) -> Iterator[Callable[[str], PrometheusServer]]:
    """`start_prometheus(text)` -> a started server private to this test, which may `stop()` it."""
    servers: list[PrometheusServer] = []

    def start(openmetrics_text: str) -> PrometheusServer:
        tsdb = tmp_path / f"tsdb-{len(servers)}"
        shutil.copytree(prometheus_blocks(openmetrics_text), tsdb)
        server = PrometheusServer(tsdb)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
