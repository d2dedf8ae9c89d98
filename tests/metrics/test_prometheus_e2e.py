"""fit, forecast, backtest and plan through a REAL Prometheus loaded with `capctl synth` output (promtool).

Two plaques (zone C lycées, zone B collèges), March to early May 2021 at 15 minutes: in class, the
6 April distance week, the unified spring holidays, the 26 April rentrée at a distance, 3 May.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from capacity.cli import app
from capacity.common.errors import DataSourceError
from capacity.learning.model_file import load_model
from capacity.learning.openmetrics import SampleSeries, write_openmetrics
from capacity.learning.queries import QueryConfig
from capacity.learning.source import PrometheusSource
from capacity.learning.synth import SynthOptions, generate
from tests.metrics.stub_server import Behaviour, stub_server
from tests.support.cli import assert_one_line_error, capctl
from tests.support.prometheus import unused_url

pytestmark = pytest.mark.prometheus

PLAQUES = ("occitanie", "seine-maritime")
FIRST, LAST = "2021-03-01", "2021-05-09"
COMPONENTS_FROM = "2021-04-12"  # the fit measures components on the last 28 days
SYNTH_ARGS = ["--from", FIRST, "--to", LAST, "--step", "15m", "--components-from", COMPONENTS_FROM]


def cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def plaque_args(plaques: tuple[str, ...] = PLAQUES) -> list[str]:
    return [a for p in plaques for a in ("--plaque", p)]


@pytest.fixture(scope="session")
def synth_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("synth") / "history.om"
    cli("synth", *SYNTH_ARGS, *plaque_args(), "--out", str(out))
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def url(prometheus_with: Callable[[str], str], synth_text: str) -> str:
    return prometheus_with(synth_text)


@pytest.fixture(scope="session")
def model_path(url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model.json"
    result = cli("fit", "--prometheus-url", url, "--from", FIRST, "--to", LAST, "--step", "15m", *plaque_args(),
                 "--out", str(out))  # fmt: skip
    assert "occitanie" in result.stdout and "forecast error" in result.stdout
    return out


def test_fit_learns_every_plaque_and_the_components_the_generator_used(model_path, calendar, policies):
    model = load_model(model_path)
    assert model.fit_window == (date(2021, 3, 1), date(2021, 5, 9))
    assert all(model.plaques[p].fitted for p in PLAQUES)
    truth = generate(
        calendar,
        [policies.topology.plaque(p) for p in PLAQUES],
        date.fromisoformat(FIRST),
        date.fromisoformat(LAST),
        SynthOptions(step_s=900, components_from=date.fromisoformat(COMPONENTS_FROM)),
    ).components
    for (pid, comp), t in truth.items():
        got = model.plaques[pid].components[comp]
        assert got.requests_per_user_s == pytest.approx(t.requests_per_user_s, rel=0.15), (pid, comp)
        assert got.rps_per_replica == pytest.approx(t.rps_per_replica, rel=0.25), (pid, comp)


def test_forecast_from_the_model_sees_the_rentree_at_a_distance(model_path):
    def peaks(day: str) -> dict[str, dict[str, float]]:
        data = json.loads(cli("forecast", "--date", day, "--model", str(model_path), "--output", "json").stdout)
        return {p["plaque"]: p["peak"] for p in data["plaques"] if p["plaque"] in PLAQUES}

    rentree, ordinary = peaks("2021-04-26"), peaks("2021-03-15")
    for p in PLAQUES:
        assert rentree[p]["low"] <= rentree[p]["demand"] <= rentree[p]["high"]
        assert rentree[p]["demand"] > 1.5 * ordinary[p]["demand"], p
        assert rentree[p]["start"].startswith("2021-04-26T08:00")  # the distance rush, around 8 h


def test_forecast_straight_from_prometheus(url):
    data = json.loads(
        cli("forecast", "--date", "2021-05-04", "--prometheus-url", url, "--query-step", "15m", "--history", "60d",
            *plaque_args(), "--step", "15m", "--output", "json").stdout
    )  # fmt: skip
    assert [p["plaque"] for p in data["plaques"]] == list(PLAQUES)
    for p in data["plaques"]:
        assert len(p["slots"]) == 96
        assert all(s["low"] <= s["demand"] <= s["high"] for s in p["slots"])
    assert "fit of" in data["model"]


def test_plan_with_the_model_uses_its_rates_and_capacity(model_path):
    plan = json.loads(
        cli("plan", "--date", "2021-04-26", "--plaque", "occitanie", "--model", str(model_path), "--output",
            "json").stdout
    )  # fmt: skip
    fc = json.loads(
        cli("forecast", "--date", "2021-04-26", "--plaque", "occitanie", "--model", str(model_path), "--output",
            "json").stdout
    )  # fmt: skip
    assert str(model_path) in plan["rates"]
    web = next(c for c in plan["plaques"][0]["components"] if c["component"] == "web")
    assert [s["demand"] for s in web["slots"]] == [s["demand"] for s in fc["plaques"][0]["slots"]]
    prior = json.loads(cli("plan", "--date", "2021-04-26", "--plaque", "occitanie", "--output", "json").stdout)
    prior_web = next(c for c in prior["plaques"][0]["components"] if c["component"] == "web")
    assert [s["demand"] for s in web["slots"]] != [s["demand"] for s in prior_web["slots"]]


def test_backtest_json_shape_and_plot(url, tmp_path):
    png = tmp_path / "bt.png"
    out = cli("backtest", "--prometheus-url", url, "--from", "2021-04-19", "--to", "2021-05-09", "--history", "40d",
              "--step", "15m", *plaque_args(), "--output", "json", "--plot", str(png))  # fmt: skip
    data = json.loads(out.stdout)
    assert set(data) == {"summary", "days"}
    assert len(data["days"]) == 21 * len(PLAQUES)
    for day in data["days"]:
        assert {"date", "plaque", "forecast_peak", "actual_peak", "event_day"} <= set(day)
        assert isinstance(day["event_day"], bool)
        assert (date.fromisoformat(day["date"]) - date.fromisoformat(day["data_cutoff"])).days == 7
    events = {(d["date"], d["plaque"]) for d in data["days"] if d["event_day"]}
    assert ("2021-04-26", "seine-maritime") in events and ("2021-05-03", "occitanie") in events
    s = data["summary"]
    for key in ("ordinary_school_days", "event_days", "peak_hour_mape_pct", "under_forecast_share"):
        assert key in s
    assert s["ordinary_school_days"]["days"] > 0 and s["event_days"]["days"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_table_fits_100_columns(url):
    out = cli("backtest", "--prometheus-url", url, "--from", "2021-05-03", "--to", "2021-05-09", "--history", "40d",
              "--step", "15m", *plaque_args())  # fmt: skip
    assert "ordinary school days" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines() if not line.startswith("worst")) <= 100


def test_long_ranges_are_fetched_in_chunks_under_the_server_limit(url):
    query = "max by (plaque, profile) (ent_active_sessions)"
    start, end = 1614553200, 1614553200 + 20_000 * 300  # 20,001 points at 5 min: over the 11,000 limit
    chunked = PrometheusSource(url, max_points=11_000).query_range(query, start, end, 300)
    tiny = PrometheusSource(url, max_points=997).query_range(query, start, end, 300)
    key = lambda s: tuple(sorted(s.labels.items()))  # noqa: E731
    assert sorted(map(key, chunked)) == sorted(map(key, tiny))
    for a in chunked:
        b = next(s for s in tiny if key(s) == key(a))
        assert np.array_equal(a.timestamps_s, b.timestamps_s) and np.allclose(a.values, b.values, equal_nan=True)
    with pytest.raises(DataSourceError, match=r"rejected the query .*11,000 points"):  # the real server's limit
        PrometheusSource(url, max_points=50_000).query_range(query, start, end, 300)


def test_duplicated_series_are_merged_not_summed(prometheus_with, calendar, policies, tmp_path):
    """A second exporter scraping the same gauge: raw queries see both series, the fit must not double."""
    plaque = policies.topology.plaque("occitanie")
    syn = generate(
        calendar, [plaque], date(2021, 3, 1), date(2021, 3, 21), SynthOptions(step_s=900, metrics=("sessions",))
    )
    series = list(syn.series())
    twins = [
        SampleSeries(s.name, s.kind, {**s.labels, "instance": "replica-b"}, s.timestamps_s, s.values)
        for s in series
        if "instance" not in s.labels
    ]
    path = write_openmetrics_text(tmp_path / "dup.om", [*series, *twins])
    source = PrometheusSource(prometheus_with(path.read_text(encoding="utf-8")))
    from capacity.learning.history import fetch_history

    raw = QueryConfig(queries={"sessions": "ent_active_sessions"})
    args = (source, raw, [plaque], date(2021, 3, 1), date(2021, 3, 21), 900)
    doubled = fetch_history(*args, with_components=False)
    single = fetch_history(source, QueryConfig(), *args[2:], with_components=False)
    assert np.nanmax(doubled.sessions["occitanie"]) < 1.1 * np.nanmax(single.sessions["occitanie"])
    assert np.allclose(doubled.sessions["occitanie"], single.sessions["occitanie"], equal_nan=True)


def write_openmetrics_text(path: Path, series: list[SampleSeries]) -> Path:
    write_openmetrics(series, path)
    return path


# ---- faults: one clear line, exit 1 (a source failed at run time), through the real entry point ----


def test_server_down(start_prometheus, synth_text, tmp_path):
    server = start_prometheus(synth_text)
    server.stop()
    res = capctl("fit", "--prometheus-url", server.url, "--from", FIRST, "--to", LAST, "--out", str(tmp_path / "m"))
    assert_one_line_error(res, "cannot reach Prometheus", "connection refused", code=1)
    assert not (tmp_path / "m").exists()


def test_empty_window(url, tmp_path):
    res = capctl("fit", "--prometheus-url", url, "--from", "2021-06-01", "--to", "2021-06-07", "--step", "15m",
                 "--out", str(tmp_path / "m"))  # fmt: skip
    assert_one_line_error(res, "no session data", "2021-06-01 to 2021-06-07", code=1)


def test_only_nan(prometheus_with, tmp_path):
    ts = np.arange(1614553200, 1614553200 + 3 * 86400, 900, dtype=np.int64)
    nan = [
        SampleSeries(
            "ent_active_sessions", "gauge", {"plaque": "occitanie", "profile": p}, ts, np.full(ts.size, np.nan)
        )
        for p in ("eleve", "enseignant", "parent")
    ]
    url = prometheus_with(write_openmetrics_text(tmp_path / "nan.om", nan).read_text(encoding="utf-8"))
    res = capctl("fit", "--prometheus-url", url, "--from", "2021-03-01", "--to", "2021-03-03", "--step", "15m",
                 "--out", str(tmp_path / "m"))  # fmt: skip
    assert_one_line_error(res, "only NaN", code=1)


def test_5xx_through_the_cli(tmp_path):
    with stub_server(Behaviour(status=500, body=b"internal error", content_type="text/plain")) as stub:
        res = capctl("fit", "--prometheus-url", stub, "--from", FIRST, "--to", LAST, "--out", str(tmp_path / "m"))
    assert_one_line_error(res, "HTTP 500", code=1)


def test_slow_server_through_the_cli(tmp_path):
    with stub_server(Behaviour(delay_s=3)) as stub:
        res = capctl("backtest", "--prometheus-url", stub, "--from", "2021-04-01", "--to", "2021-04-02",
                     "--prometheus-timeout", "1s")  # fmt: skip
    assert_one_line_error(res, "did not answer within 1 s", code=1)


def test_a_plaque_missing_falls_back_to_the_prior_and_says_so(prometheus_with, tmp_path):
    only = tmp_path / "occitanie.om"
    cli("synth", *SYNTH_ARGS, "--plaque", "occitanie", "--metrics", "sessions", "--out", str(only))
    url = prometheus_with(only.read_text(encoding="utf-8"))
    out = tmp_path / "m.json"
    res = capctl("fit", "--prometheus-url", url, "--from", FIRST, "--to", LAST, "--step", "15m", *plaque_args(),
                 "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "seine-maritime: no session data" in res.stdout and "keeps its prior" in res.stdout
    model = load_model(out)
    assert model.plaques["occitanie"].fitted and not model.plaques["seine-maritime"].fitted
    assert "prior" in model.plaques["seine-maritime"].note
    assert np.all(model.plaques["seine-maritime"].level == 1.0)


def test_backtest_refuses_a_model_fitted_on_the_future(model_path):
    res = capctl("backtest", "--prometheus-url", unused_url(), "--model", str(model_path), "--from", "2021-04-01",
                 "--to", "2021-04-30")  # fmt: skip
    assert_one_line_error(res, "would see the future", "2021-05-09")


def test_labels_that_match_no_plaque_say_which_label_to_set(url, tmp_path):
    queries = tmp_path / "queries.yaml"
    queries.write_text("version: 1\nlabels: {plaque: tenant}\n", encoding="utf-8")
    res = capctl("fit", "--prometheus-url", url, "--from", FIRST, "--to", LAST, "--step", "15m", "--queries",
                 str(queries), "--out", str(tmp_path / "m"))  # fmt: skip
    assert_one_line_error(res, "matches none of the plaques", "label `tenant`", "set `labels`", code=1)
