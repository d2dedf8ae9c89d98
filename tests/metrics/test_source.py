"""The Prometheus source: chunking under the point limit, auth and TLS, and one clear line per fault."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.common.errors import DataSourceError, InputError
from capacity.learning.prom_http import PrometheusAuth
from capacity.learning.source import MAX_POINTS, PrometheusSource, chunk_ranges
from tests.metrics.stub_server import Behaviour, prometheus_error, stub_server


@given(
    start=st.integers(0, 2_000_000_000),
    points=st.integers(1, 200_000),
    step=st.sampled_from([60, 300, 900, 3600]),
    limit=st.integers(2, 12_000),
)
def test_chunks_cover_every_sample_once_and_stay_under_the_limit(start, points, step, limit):
    end = start + (points - 1) * step
    chunks = chunk_ranges(start, end, step, limit)
    samples = [t for a, b in chunks for t in range(a, b + 1, step)]
    assert samples == list(range(start, end + 1, step))
    assert all((b - a) // step + 1 <= limit for a, b in chunks)


def test_default_limit_is_prometheus_eleven_thousand_points():
    one_year_5min = chunk_ranges(0, 365 * 86400 - 300, 300)
    assert MAX_POINTS == 11_000
    assert len(one_year_5min) == 10  # 105,120 points


def _source(url: str, **kw) -> PrometheusSource:
    return PrometheusSource(url, kw.pop("auth", None), timeout_s=kw.pop("timeout_s", 2.0), retries=0, **kw)


def _one_line(exc: pytest.ExceptionInfo[DataSourceError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_http_5xx_is_one_clear_line():
    b = Behaviour(status=503, body=b"upstream overloaded", content_type="text/plain")
    with stub_server(b) as url, pytest.raises(DataSourceError) as exc:
        _source(url).query_range("up", 0, 3000, 300)
    text = _one_line(exc)
    assert "HTTP 503" in text and url in text and "upstream overloaded" in text


def test_gateway_errors_are_retried_before_giving_up():
    b = Behaviour(status=502, body=b"bad gateway", content_type="text/plain")
    with stub_server(b) as url, pytest.raises(DataSourceError, match="HTTP 502"):
        PrometheusSource(url, timeout_s=2.0, retries=2).query("up", 0)
    assert len(b.seen) == 3


def test_slow_server_times_out_with_a_hint():
    b = Behaviour(delay_s=1.5)
    with stub_server(b) as url, pytest.raises(DataSourceError) as exc:
        _source(url, timeout_s=0.3).query_range("up", 0, 3000, 300)
    text = _one_line(exc)
    assert "did not answer within 0.3 s" in text and "--prometheus-timeout" in text


def test_rejected_query_quotes_prometheus_error():
    b = Behaviour(status=400, body=prometheus_error('parse error: unexpected "}"'))
    with stub_server(b) as url, pytest.raises(DataSourceError) as exc:
        _source(url).query("rate(x[5m]}", 0)
    assert 'parse error: unexpected "}"' in _one_line(exc)


def test_auth_refused_names_the_credential_options():
    with stub_server(Behaviour(status=401, body=b"unauthorized")) as url, pytest.raises(DataSourceError) as exc:
        _source(url).query("up", 0)
    assert "--prometheus-token-file" in _one_line(exc)


def test_a_page_that_is_not_the_api_is_reported():
    b = Behaviour(body=b"<html>Grafana login</html>", content_type="text/html")
    with stub_server(b) as url, pytest.raises(DataSourceError, match="did not answer like the Prometheus API"):
        _source(url).query("up", 0)


def test_bearer_token_and_basic_auth_are_sent_and_files_are_reread_at_each_request(tmp_path):
    b = Behaviour(body=b'{"status":"success","data":{"resultType":"vector","result":[]}}')
    token, user, pw = tmp_path / "token", tmp_path / "user", tmp_path / "pw"
    token.write_text("s3cret\n")
    user.write_text("ent")
    pw.write_text("pw")
    with stub_server(b) as url:
        _source(url, auth=PrometheusAuth(token="from-env")).query("up", 0)
        source = _source(url, auth=PrometheusAuth(token_file=token))
        source.query("up", 0)
        token.write_text("rotated")
        source.query("up", 0)
        _source(url, auth=PrometheusAuth(username_file=user, password_file=pw)).query("up", 0)
    sent = [s["headers"]["Authorization"] for s in b.seen]
    assert sent[:3] == ["Bearer from-env", "Bearer s3cret", "Bearer rotated"]
    assert sent[3].startswith("Basic ")


def test_token_and_basic_auth_together_are_refused(tmp_path):
    with pytest.raises(InputError, match="not both"):
        PrometheusAuth(token="t", username_file=tmp_path / "u", password_file=tmp_path / "p")


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_is_verified_by_default_and_a_custom_ca_is_honoured(self_signed):
    cert, _ = self_signed
    b = Behaviour(body=b'{"status":"success","data":{"resultType":"vector","result":[]}}')
    with stub_server(b, tls=self_signed) as url:
        with pytest.raises(DataSourceError) as exc:
            _source(url).query("up", 0)
        assert "TLS check failed" in _one_line(exc) and "--prometheus-ca-file" in str(exc.value)
        assert _source(url, auth=PrometheusAuth(ca_file=cert)).query("up", 0) == []
        assert _source(url, auth=PrometheusAuth(verify_tls=False)).query("up", 0) == []
