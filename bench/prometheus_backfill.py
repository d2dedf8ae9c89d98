"""How long the real-Prometheus fixture takes for a realistic history.

Two school years (2021-09-01 to 2023-07-08) x 5 plaques x 3 profiles at 5-minute resolution, one counter
and one gauge per (plaque, profile). Run: `PYTHONPATH=. python bench/prometheus_backfill.py`.
"""

from __future__ import annotations

import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tests.support.openmetrics import Series, write_openmetrics
from tests.support.prometheus import PrometheusServer, backfill

STEP_S = 300
START = datetime(2021, 9, 1, tzinfo=UTC)
END = datetime(2023, 7, 8, tzinfo=UTC)
PLAQUES = ["aix-marseille", "lyon", "grenoble", "nice", "montpellier"]
PROFILES = {"eleve": 40.0, "parent": 10.0, "enseignant": 6.0}


def history() -> list[Series]:
    times = np.arange(START.timestamp(), END.timestamp(), STEP_S)
    day_phase = np.sin(2 * np.pi * ((times % 86_400) / 86_400 - 0.25)).clip(min=0)
    series = []
    for plaque_index, plaque in enumerate(PLAQUES):
        for profile, peak in PROFILES.items():
            rps = peak * (1 + plaque_index / 10) * day_phase
            labels = {"plaque": plaque, "profile": profile}
            series.append(Series("ent_requests_total", "counter", labels, times, np.cumsum(rps * STEP_S)))
            series.append(Series("ent_sessions", "gauge", labels, times, np.round(rps * 20)))
    return series


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        data = history()
        source = write_openmetrics(data, root / "history.om")
        written = time.perf_counter()
        blocks = backfill(source, root / "tsdb")
        backfilled = time.perf_counter()
        samples = sum(len(s.values) for s in data)
        print(f"{len(data)} series, {samples:,} samples, {source.stat().st_size / 1e6:.0f} MB of OpenMetrics")
        print(f"render + write: {written - began:.1f} s")
        print(f"promtool backfill: {backfilled - written:.1f} s -> {len(blocks)} block(s)")
        with PrometheusServer(root / "tsdb") as server:
            ready = time.perf_counter()
            params = urllib.parse.urlencode(
                {
                    "query": "sum by (plaque) (rate(ent_requests_total[15m]))",
                    "start": int(datetime(2022, 3, 1, tzinfo=UTC).timestamp()),
                    "end": int(datetime(2022, 3, 31, tzinfo=UTC).timestamp()),
                    "step": STEP_S,
                }
            )
            with urllib.request.urlopen(f"{server.url}/api/v1/query_range?{params}", timeout=30) as response:
                size = len(response.read())
            queried = time.perf_counter()
        print(f"server start to ready: {ready - backfilled:.2f} s")
        print(f"30-day 5-min query_range over 5 plaques: {queried - ready:.2f} s ({size / 1e6:.1f} MB JSON)")


if __name__ == "__main__":
    main()
