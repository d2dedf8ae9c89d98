"""The recording rules shipped for long-term history are valid Prometheus rules, record what capctl
queries, and the queries file that reads them loads (promtool, the real one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from capacity.learning.queries import load_queries
from tests.support.tools import REPO, tool_path

pytestmark = pytest.mark.prometheus
RULES = REPO / "charts" / "capctl" / "files" / "recording-rules.yaml"
QUERIES = REPO / "charts" / "capctl" / "files" / "queries-recorded.yaml"
SESSIONS = "plaque_profile:ent_active_sessions:max_over_time5m"
REQUESTS = "plaque_component:ent_http_requests:rate10m"
CPU = "namespace_container:container_cpu_usage_seconds:rate10m"

UNIT_TEST = f"""
rule_files: [{RULES}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # an HA pair scrapes the same gauge twice: counted once, at the highest value of the 5 minutes
      - series: 'ent_active_sessions{{plaque="p", profile="eleve", instance="a"}}'
        values: '10 20 30 25 15 5 5 5 5 5 5 5 5 5 5 5'
      - series: 'ent_active_sessions{{plaque="p", profile="eleve", instance="b"}}'
        values: '10 22 29 25 15 5 5 5 5 5 5 5 5 5 5 5'
      # two pods at 1 and 2 requests per second
      - series: 'ent_http_requests_total{{plaque="p", component="web", pod="x"}}'
        values: '0+60x20'
      - series: 'ent_http_requests_total{{plaque="p", component="web", pod="y"}}'
        values: '0+120x20'
      - series: 'container_cpu_usage_seconds_total{{namespace="ent-p", container="web", pod="x"}}'
        values: '0+30x20'
      - series: 'container_cpu_usage_seconds_total{{namespace="ent-p", container="POD", pod="x"}}'
        values: '0+600x20'
    promql_expr_test:
      - expr: {SESSIONS}
        eval_time: 5m
        exp_samples:
          - labels: '{SESSIONS}{{plaque="p", profile="eleve"}}'
            value: 30
      - expr: {SESSIONS}
        eval_time: 15m
        exp_samples:
          - labels: '{SESSIONS}{{plaque="p", profile="eleve"}}'
            value: 5
      - expr: {REQUESTS}
        eval_time: 15m
        exp_samples:
          - labels: '{REQUESTS}{{plaque="p", component="web"}}'
            value: 3
      - expr: {CPU}
        eval_time: 15m
        exp_samples:
          - labels: '{CPU}{{namespace="ent-p", container="web"}}'
            value: 0.5
"""


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool_path("promtool")), *args], capture_output=True, text=True, check=False)


def test_the_rules_are_valid() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rules found" in result.stdout


def test_the_rules_record_what_capctl_queries(tmp_path: Path) -> None:
    tests = tmp_path / "rules_test.yaml"
    tests.write_text(UNIT_TEST, encoding="utf-8")
    result = promtool("test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_queries_file_reads_the_recorded_series() -> None:
    config = load_queries(QUERIES)
    for metric, name in (("sessions", SESSIONS), ("requests", REQUESTS), ("cpu", CPU)):
        assert name in config.promql(metric, 300)
        assert config.match[metric] == name
