"""The Prometheus options are one set, the same on every command that reads Prometheus, checked once."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from capacity.cli import app
from capacity.cli.prom_opts import build_options
from capacity.common.errors import ConfigError, InputError

OPTIONS = (
    "--prometheus-url",
    "--queries",
    "--prometheus-token-file",
    "--prometheus-username-file",
    "--prometheus-password-file",
    "--prometheus-ca-file",
    "--prometheus-insecure",
    "--prometheus-timeout",
    "--prometheus-max-mib",
)


@pytest.mark.parametrize("command", ["fit", "forecast", "backtest", "simulate", "run"])
def test_every_prometheus_command_takes_the_same_options(command):
    res = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    found = set(re.findall(r"--prometheus-[a-z-]+|--queries", res.output))
    assert found == set(OPTIONS)


def _build(**kw):
    args = dict(
        prometheus_url="http://prom:9090",
        queries=None,
        prometheus_token_file=None,
        prometheus_username_file=None,
        prometheus_password_file=None,
        prometheus_ca_file=None,
        prometheus_insecure=False,
        prometheus_timeout="30s",
        prometheus_max_mib=64,
    )
    return build_options(**{**args, **kw})


def test_options_are_built_once_with_their_queries(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPCTL_PROMETHEUS_TOKEN", "from-env")
    queries = tmp_path / "q.yaml"
    queries.write_text("version: 1\nlabels: {plaque: region}\n", encoding="utf-8")
    opts = _build(queries=queries, prometheus_timeout="2m", prometheus_max_mib=8)
    assert opts is not None
    assert (opts.timeout_s, opts.max_mib, opts.auth.token) == (120.0, 8, "from-env")
    assert opts.queries.live_promql().startswith("sum by (region) (")
    assert _build(prometheus_url=None) is None


@pytest.mark.parametrize(
    ("kw", "error", "needle"),
    [
        ({"prometheus_url": "prom:9090"}, InputError, "invalid Prometheus URL"),
        ({"prometheus_timeout": "soon"}, InputError, "invalid duration"),
        ({"prometheus_token_file": "missing"}, InputError, "cannot read"),
        ({"prometheus_username_file": "u"}, InputError, "needs both"),
        ({"prometheus_ca_file": "missing.pem"}, InputError, "CA file"),
        ({"queries": "bad"}, ConfigError, "bad.yaml"),
    ],
    ids=["url", "timeout", "token-file", "half-basic-auth", "ca-file", "queries-file"],
)
def test_bad_options_fail_before_any_request(tmp_path, kw, error, needle):
    for key, value in list(kw.items()):
        if key.endswith("_file") or key == "queries":
            kw[key] = tmp_path / (f"{value}.yaml" if key == "queries" else value)
    if "queries" in kw:
        kw["queries"].write_text("version: 2\n", encoding="utf-8")
    with pytest.raises(error, match=needle):
        _build(**kw)
