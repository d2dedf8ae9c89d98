"""The Prometheus fixture serves backfilled 2021 history through the real HTTP API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.openmetrics import Series, render_openmetrics
from tests.support.prometheus import PrometheusFixtureError, PrometheusServer, backfill, unused_url

pytestmark = pytest.mark.prometheus

STEP_S = 300
START_S = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp())
SLOTS = 3 * 86_400 // STEP_S  # three days at 5-minute resolution
TIMES = [START_S + i * STEP_S for i in range(SLOTS)]
PROFILES = {"eleve": 30, "enseignant": 6, "parent": 12}  # requests per 5 minutes
PLAQUE = 'aix-marseille "sud"'  # a quote on purpose: label escaping must survive the round trip
# A later block next to the 2021 one: with Prometheus' default 15-day retention (counted from the newest
# block) the 2021 history would be deleted at startup.
RECENT_S = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())


def _sessions(profile_index: int) -> list[float]:
    return [profile_index * 1000 + (i % 288) * 0.25 for i in range(SLOTS)]


HISTORY = render_openmetrics(
    [
        *(
            Series(
                "ent_requests_total",
                "counter",
                {"plaque": PLAQUE, "profile": p},
                TIMES,
                [per_step * (i + 1) for i in range(SLOTS)],
            )
            for p, per_step in PROFILES.items()
        ),
        *(
            Series("ent_sessions", "gauge", {"plaque": PLAQUE, "profile": p}, TIMES, _sessions(k))
            for k, p in enumerate(PROFILES)
        ),
        Series("capctl_fixture_recent", "gauge", {}, [RECENT_S], [1]),
    ]
)


def _api(url: str, endpoint: str, **params: str | int) -> Any:
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}/api/v1/{endpoint}?{query}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def _range(url: str, promql: str) -> dict[str, list[tuple[int, float]]]:
    data = _api(url, "query_range", query=promql, start=TIMES[0], end=TIMES[-1], step=STEP_S)
    return {
        series["metric"].get("profile", ""): [(int(t), float(v)) for t, v in series["values"]]
        for series in data["result"]
    }


def test_backfilled_gauges_read_back_exactly_including_2021_timestamps(
    prometheus_with: Any, prometheus_blocks: Any
) -> None:
    assert len(list(prometheus_blocks(HISTORY).iterdir())) >= 2  # the retention case is really exercised
    url = prometheus_with(HISTORY)
    got = _range(url, f'ent_sessions{{plaque="{PLAQUE.replace(chr(34), chr(92) + chr(34))}"}}')
    assert got == {p: list(zip(TIMES, _sessions(k), strict=True)) for k, p in enumerate(PROFILES)}
    assert got["eleve"][0][0] == START_S  # first 2021 sample kept


def test_counters_give_the_written_rate(prometheus_with: Any) -> None:
    url = prometheus_with(HISTORY)
    middle = TIMES[SLOTS // 2]
    data = _api(url, "query", query="sum by (profile) (rate(ent_requests_total[15m]))", time=middle)
    rates = {r["metric"]["profile"]: float(r["value"][1]) for r in data["result"]}
    assert rates == pytest.approx({p: per_step / STEP_S for p, per_step in PROFILES.items()})


def test_same_history_shares_one_server(prometheus_with: Any) -> None:
    assert prometheus_with(HISTORY) == prometheus_with(HISTORY)


def test_a_stopped_server_refuses_connections(start_prometheus: Any) -> None:
    server = start_prometheus(HISTORY)
    assert _api(server.url, "query", query="capctl_fixture_recent", time=RECENT_S)["result"]
    server.stop()
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        _api(server.url, "query", query="up")


def test_unused_url_refuses_connections() -> None:
    with pytest.raises(urllib.error.URLError):
        _api(unused_url(), "query", query="up")


def test_backfill_reports_promtool_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text("# TYPE g gauge\ng{a=unquoted} 1 1614556800\n# EOF\n", encoding="utf-8")
    with pytest.raises(PrometheusFixtureError, match=r"promtool could not backfill .*bad\.om(.|\n)*label"):
        backfill(bad, tmp_path / "tsdb")


def test_a_server_that_cannot_start_fails_with_its_log(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "tsdb"
    not_a_dir.write_text("", encoding="utf-8")
    server = PrometheusServer(not_a_dir, ready_timeout_s=10)
    with pytest.raises(PrometheusFixtureError, match="did not become ready") as failure:
        server.start()
    assert "not a directory" in str(failure.value)  # the server's own log explains why
    assert not server.running
