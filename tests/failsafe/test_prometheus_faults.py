"""A sick Prometheus never hangs capctl, never blows it up, and always gets one clear line.

Every request is bounded by `--prometheus-timeout` (connect, Retry-After, slow bodies and retries
together); answers are capped in size; malformed answers name the URL and the query. Elapsed times are
asserted loosely (timeout + 3 s): the point is "bounded", not "fast".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from capacity.common.errors import CapctlError, DataSourceError
from capacity.learning.prom_http import PrometheusResponseError
from capacity.learning.source import PrometheusSource
from capacity.operator.live_usage import PrometheusUsage
from tests.support.cli import assert_one_line_error, capctl
from tests.support.fault_server import Reply, Script, closed_port, fault_server, matrix, success, vector

TIMEOUT_S = 2.0
SLACK_S = 3.0
SESSIONS = {"plaque": "occitanie", "profile": "eleve"}
GOOD_MATRIX = matrix([(SESSIONS, [(0, "10"), (300, "12")])])


def _source(url: str, **kw: Any) -> PrometheusSource:
    return PrometheusSource(url, timeout_s=kw.pop("timeout_s", TIMEOUT_S), retries=kw.pop("retries", 2), **kw)


def _fails(call: Callable[[], object], error: type[Exception] = DataSourceError) -> tuple[str, float]:
    """The one-line message of the error `call` raises, and how long it took."""
    started = time.monotonic()
    with pytest.raises(error) as caught:
        call()
    elapsed = time.monotonic() - started
    text = str(caught.value)
    assert "\n" not in text and "Traceback" not in text
    return text, elapsed


def _range(source: PrometheusSource) -> Callable[[], object]:
    return lambda: source.query_range("ent_active_sessions", 0, 3000, 300)


# ----------------------------------------------------------------------------------- time bounds


def test_retry_after_beyond_the_deadline_is_reported_not_waited():
    script = Script([Reply(status=503, body=b"overloaded", headers={"Retry-After": "120"})])
    with fault_server(script) as url:
        text, elapsed = _fails(_range(_source(url)))
    assert elapsed < TIMEOUT_S + SLACK_S
    assert "HTTP 503" in text and "retry after 120 s" in text and "--prometheus-timeout" in text
    assert len(script.seen) == 1  # not retried: the wait could not fit


def test_retry_after_within_the_deadline_is_honoured_then_the_answer_used():
    script = Script([Reply(status=503, headers={"Retry-After": "1"}), Reply(body=GOOD_MATRIX)])
    with fault_server(script) as url:
        series = _source(url, timeout_s=5.0).query_range("ent_active_sessions", 0, 300, 300)
    assert [list(s.values) for s in series] == [[10.0, 12.0]]
    assert len(script.seen) == 2


def test_a_body_trickling_one_byte_a_second_is_cut_at_the_deadline():
    script = Script([Reply(body=GOOD_MATRIX, trickle_s=1.0)])
    with fault_server(script) as url:
        text, elapsed = _fails(_range(_source(url)))
    assert elapsed < TIMEOUT_S + SLACK_S
    assert f"did not answer within {TIMEOUT_S:g} s" in text and "--prometheus-timeout" in text


def test_a_slow_first_byte_is_cut_at_the_deadline():
    script = Script([Reply(body=GOOD_MATRIX, delay_s=20)])
    with fault_server(script) as url:
        text, elapsed = _fails(_range(_source(url)))
    assert elapsed < TIMEOUT_S + SLACK_S and "did not answer within" in text


def test_retries_share_one_deadline():
    script = Script([Reply(status=502, body=b"bad gateway", delay_s=0.9)])
    with fault_server(script) as url:
        text, elapsed = _fails(_range(_source(url, retries=10)))
    assert elapsed < TIMEOUT_S + SLACK_S
    assert 2 <= len(script.seen) < 10  # retried, but only as long as the deadline allowed
    assert "HTTP 502" in text or "did not answer within" in text


def test_5xx_then_success_within_the_deadline_returns_the_data():
    script = Script([Reply(status=502, body=b"bad gateway"), Reply(status=503), Reply(body=GOOD_MATRIX)])
    with fault_server(script) as url:
        series = _source(url).query_range("ent_active_sessions", 0, 300, 300)
    assert len(script.seen) == 3 and [list(s.values) for s in series] == [[10.0, 12.0]]


def test_connection_refused_is_retried_briefly_then_reported():
    url = f"http://127.0.0.1:{closed_port()}"
    text, elapsed = _fails(_range(_source(url)))
    assert elapsed < TIMEOUT_S + SLACK_S
    assert "cannot reach Prometheus" in text and "connection refused" in text and url in text


def test_tls_to_a_plain_http_port_says_so():
    with fault_server(Script([Reply(body=GOOD_MATRIX)])) as url:
        text, elapsed = _fails(_range(_source(url.replace("http://", "https://"))))
    assert elapsed < TIMEOUT_S + SLACK_S
    assert "TLS handshake" in text and "http://" in text


# ------------------------------------------------------------------------------------- size caps


def test_an_endless_body_stops_at_the_size_cap():
    script = Script([Reply(body=b'{"status":"success","data":{"resultType":"matrix","result":[' + b"0," * 4096,
                           endless=True)])  # fmt: skip
    with fault_server(script) as url:
        text, elapsed = _fails(_range(_source(url, max_bytes=2 * 2**20)), PrometheusResponseError)
    assert elapsed < TIMEOUT_S + SLACK_S
    assert "more than 2 MiB" in text and "--prometheus-max-mib" in text


def test_a_huge_declared_body_is_refused_before_reading_it():
    script = Script([Reply(body=b"0", length=2**40)])
    with fault_server(script) as url:
        text, _ = _fails(_range(_source(url)), PrometheusResponseError)
    assert "more than 64 MiB" in text


def test_a_huge_body_is_cut_at_the_cap_even_when_it_trickles_in_fast():
    script = Script([Reply(body=b"[1,", length=3 * 2**20)])
    with fault_server(script) as url:
        text, _ = _fails(_range(_source(url, max_bytes=2**20)), PrometheusResponseError)
    assert "more than 1 MiB" in text


# ------------------------------------------------------------------------------- malformed answers

MALFORMED = {
    "cut-short-json": b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}',
    "values-not-a-list": success({"resultType": "matrix", "result": [{"metric": SESSIONS, "values": "oops"}]}),
    "no-values": success({"resultType": "matrix", "result": [{"metric": SESSIONS}]}),
    "no-result": success({"resultType": "matrix"}),
    "no-data": b'{"status":"success"}',
    "a-list-not-an-object": b"[1, 2, 3]",
    "word-for-a-number": matrix([(SESSIONS, [(0, "twelve")])]),
    "word-for-a-time": matrix([(SESSIONS, [("noon", "12")])]),
    "infinite-time": matrix([(SESSIONS, [(0, "1")])]).replace(b'[0, "1"]', b'[1e999, "1"]'),
    "sample-not-a-pair": matrix([(SESSIONS, [(0, "1")])]).replace(b'[0, "1"]', b'[0, "1", 2]'),
    "labels-not-text": success({"resultType": "matrix", "result": [{"metric": {"plaque": 3}, "values": []}]}),
    "a-vector-for-a-range": vector([(SESSIONS, "1")]),
}  # fmt: skip


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_malformed_range_answer_is_one_line_naming_url_and_query(body):
    with fault_server(Script([Reply(body=body)])) as url:
        text, _ = _fails(lambda: _source(url).query_range("my_sessions_query", 0, 300, 300), PrometheusResponseError)
    assert url in text and "my_sessions_query" in text and "malformed" in text


@pytest.mark.parametrize(
    "body",
    [
        success({"resultType": "vector", "result": [{"metric": {}, "value": "oops"}]}),
        success({"resultType": "vector", "result": [{"metric": {}}]}),
        success({"resultType": "matrix", "result": []}),
        success([]),
    ],
    ids=["value-not-a-pair", "no-value", "matrix-for-instant", "data-not-object"],
)
def test_every_malformed_instant_answer_is_one_line(body):
    with fault_server(Script([Reply(body=body)])) as url:
        text, _ = _fails(lambda: _source(url).query("live_query", 0), PrometheusResponseError)
    assert url in text and "live_query" in text


def test_a_malformed_series_answer_is_one_line():
    with fault_server(Script([Reply(body=success({"plaque": "x"}))])) as url:
        text, _ = _fails(lambda: _source(url).series("ent_active_sessions", 0, 300), PrometheusResponseError)
    assert "ent_active_sessions" in text


def test_prometheus_own_nan_and_inf_strings_are_read_as_floats():
    """Prometheus encodes NaN and infinities as strings: they are data, judged later (fit refuses inf)."""
    body = matrix([(SESSIONS, [(0, "NaN"), (300, "+Inf"), (600, "-Inf"), (900, 7)])])
    with fault_server(Script([Reply(body=body)])) as url:
        (series,) = _source(url).query_range("q", 0, 900, 300)
    v = list(series.values)
    assert math.isnan(v[0]) and v[1:] == [math.inf, -math.inf, 7.0]


# ---------------------------------------------------------------------- what a user and the operator see


def test_fit_against_a_trickling_server_exits_1_in_one_line_within_the_bound(tmp_path):
    out = tmp_path / "model.json"
    with fault_server(Script([Reply(body=GOOD_MATRIX, trickle_s=1.0)])) as url:
        started = time.monotonic()
        res = capctl("fit", "--prometheus-url", url, "--prometheus-timeout", "2s", "--from", "2021-03-01",
                     "--to", "2021-03-07", "--plaque", "occitanie", "--out", str(out))  # fmt: skip
        elapsed = time.monotonic() - started
    assert_one_line_error(res, "did not answer within 2 s", code=1)  # a service failing at run time
    assert not out.exists()
    assert elapsed < 2 + 20  # the bound plus the interpreter's start-up on a loaded machine


def test_the_operator_reads_nothing_from_a_sick_server_and_says_why_without_raising():
    now = datetime(2021, 4, 26, 8, 0, tzinfo=UTC)
    with fault_server(Script([Reply(body=vector([({"plaque": "occitanie"}, "5")]), trickle_s=1.0)])) as url:
        usage = PrometheusUsage(url, timeout_s=TIMEOUT_S)
        started = time.monotonic()
        seen = usage.active_users(["occitanie"], now)
        elapsed = time.monotonic() - started
    assert seen == {"occitanie": None} and elapsed < TIMEOUT_S + SLACK_S
    assert usage.last_error is not None and "did not answer within" in usage.last_error


def test_the_operator_reads_its_query_and_plaque_label_from_the_queries_file(tmp_path):
    from capacity.learning.queries import load_queries

    path = tmp_path / "queries.yaml"
    path.write_text(
        "version: 1\nqueries:\n  sessions: max by (region, kind) (portal_users)\nlabels:\n  plaque: region\n",
        encoding="utf-8",
    )
    config = load_queries(path)
    script = Script([Reply(body=vector([({"region": "occitanie"}, "42")]))])
    with fault_server(script) as url:
        usage = PrometheusUsage(url, query=config.live_promql(), plaque_label=config.labels["plaque"])
        seen = usage.active_users(["occitanie", "grand-est"], datetime(2021, 4, 26, 8, 0, tzinfo=UTC))
    assert seen == {"occitanie": 42.0, "grand-est": None}
    assert "sum+by+%28region%29+%28max+by+%28region%2C+kind%29+%28portal_users%29%29" in script.seen[0]["path"]


def test_every_prometheus_error_is_a_capctl_error():
    assert issubclass(PrometheusResponseError, CapctlError)
