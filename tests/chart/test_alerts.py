"""The chart's PrometheusRule: valid for promtool, on series capctl exports, and firing when it should.

`promtool test rules` evaluates every alert of the rendered rule on synthetic series shaped like the
operator's /metrics (same names and labels, the job/namespace the ServiceMonitor gives them) and compares
the alerts it raises, with their rendered descriptions, to what an on-call engineer should see.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.test_chart import NAMESPACE, Doc, of_kind, one, render
from tests.chart.test_chart import helm as helm  # fixture
from tests.support.ops_metric_names import exported_series_names, metric_names_in
from tests.support.tools import tool_path

pytestmark = pytest.mark.helm

JOB = "capctl-metrics"
SEL = f'job="{JOB}",namespace="{NAMESPACE}"'
POD = f'{SEL},pod="capctl-7d9f-a"'
EXPECTED_ALERTS = {
    "CapctlTickFailing",
    "CapctlTicksStalled",
    "CapctlNoLeader",
    "CapctlFallbackActive",
    "CapctlConfigReloadFailing",
    "CapctlPlanFailing",
    "CapctlPlaqueUnplanned",
    "CapctlPlaqueHeld",
    "CapctlRefitNotAccepted",
    "CapctlBudgetNearlySpent",
    "CapctlForecastErrorHigh",
}


@pytest.fixture(scope="module")
def rule(helm: Path) -> Doc:
    return one(render(helm, "--set", "prometheusRules.enabled=true"), "PrometheusRule")


def rules_of(rule: Doc) -> dict[str, Doc]:
    return {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool_path("promtool")), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def write_rules(rule: Doc, path: Path) -> Path:
    path.write_text(yaml.safe_dump(rule["spec"]))
    return path


def test_rules_are_optional_and_carry_the_configured_labels(helm: Path) -> None:
    assert of_kind(render(helm), "PrometheusRule") == []
    docs = render(
        helm,
        "--set",
        "prometheusRules.enabled=true,prometheusRules.namespace=monitoring",
        "--set",
        "prometheusRules.labels.release=kube-prometheus-stack,prometheusRules.additionalLabels.team=ent-ops",
    )
    rule = one(docs, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["namespace"] == "monitoring"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    for r in rules_of(rule).values():
        assert r["labels"]["team"] == "ent-ops"
        assert r["labels"]["severity"] in {"warning", "critical"}


def test_promtool_accepts_the_rules(rule: Doc, tmp_path: Path) -> None:
    assert set(rules_of(rule)) == EXPECTED_ALERTS
    result = promtool("check", "rules", str(write_rules(rule, tmp_path / "rules.yaml")), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(EXPECTED_ALERTS)} rules found" in result.stdout


def test_promtool_rejects_a_broken_expression(rule: Doc, tmp_path: Path) -> None:
    """Guard for the test above: promtool really parses the expressions."""
    broken = yaml.safe_load(yaml.safe_dump(rule))
    broken["spec"]["groups"][0]["rules"][0]["expr"] += " >"
    result = promtool("check", "rules", str(write_rules(broken, tmp_path / "rules.yaml")), cwd=tmp_path)
    assert result.returncode != 0


def test_every_alert_reads_series_capctl_exports(rule: Doc) -> None:
    exported = exported_series_names()
    for name, r in rules_of(rule).items():
        used = metric_names_in(r["expr"])
        assert used, name
        assert used <= exported, f"{name} reads {sorted(used - exported)}, which capctl does not export"


def alert(name: str, description: str, severity: str, **labels: str) -> dict[str, Any]:
    return {"exp_labels": {"severity": severity, **labels}, "exp_annotations": {"description": description}}


# (alert, eval time, input series, expected alerts): each alert fires on the series that should fire it,
# and only on those (other plaques, other releases and healthy series stay quiet).
CASES: list[tuple[str, str, dict[str, str], list[dict[str, Any]]]] = [
    (
        "CapctlTickFailing",
        "25m",
        {
            f'capctl_ticks_total{{{POD},result="error"}}': "0+3x30",
            f'capctl_ticks_total{{{POD},result="ok"}}': "0+1x30",
        },
        [alert("CapctlTickFailing", "75% of capctl's ticks ended in error over 15 minutes: some plaques are not"
               " planned or not updated. See capctl_errors_total by kind and the operator's logs.", "critical")],
    ),
    ("CapctlTickFailing", "25m", {f'capctl_ticks_total{{{POD},result="ok"}}': "0+1x30"}, []),
    (
        "CapctlTicksStalled",
        "15m",
        {f"capctl_last_tick_timestamp_seconds{{{POD}}}": "0+60x5 300x20"},  # last tick at 5m, none since
        [alert("CapctlTicksStalled", "No capctl tick completed for 10m 0s: nothing is planned or written.",
               "critical")],
    ),
    ("CapctlTicksStalled", "15m", {f"capctl_last_tick_timestamp_seconds{{{POD}}}": "0+60x30"}, []),
    (
        "CapctlNoLeader",
        "10m",
        {
            f'capctl_is_leader{{{SEL},pod="a"}}': "0x20",
            f'capctl_is_leader{{{SEL},pod="b"}}': "0x20",
            f'capctl_is_leader{{job="other-metrics",namespace="{NAMESPACE}",pod="c"}}': "1x20",
        },
        [alert("CapctlNoLeader", f"No capctl pod holds the Lease {NAMESPACE}/capctl: no plaque is planned. Check"
               " the pods and their access to the API server.", "critical")],
    ),
    (
        "CapctlNoLeader",
        "10m",
        {f'capctl_is_leader{{job="other-metrics",namespace="{NAMESPACE}",pod="c"}}': "1x20"},  # ours: not scraped
        [alert("CapctlNoLeader", f"No capctl pod holds the Lease {NAMESPACE}/capctl: no plaque is planned. Check"
               " the pods and their access to the API server.", "critical", job=JOB, namespace=NAMESPACE)],
    ),
    ("CapctlNoLeader", "10m", {f'capctl_is_leader{{{SEL},pod="a"}}': "0x20",
                               f'capctl_is_leader{{{SEL},pod="b"}}': "1x20"}, []),
    (
        "CapctlFallbackActive",
        "20m",
        {
            f'capctl_metrics_available{{{POD},plaque="grand-est"}}': "0x30",
            f'capctl_metrics_available{{{POD},plaque="occitanie"}}': "1x30",
        },
        [alert("CapctlFallbackActive", "Live usage of plaque grand-est is unreadable: capctl plans on the calendar"
               " alone and never scales down (current replicas kept where higher).", "warning", plaque="grand-est")],
    ),
    (
        "CapctlConfigReloadFailing",
        "10m",
        {
            f'capctl_config_last_reload_successful{{{POD},part="policies"}}': "0x20",
            f'capctl_config_last_reload_successful{{{POD},part="events"}}': "1x20",
        },
        [alert("CapctlConfigReloadFailing", "The last reload of policies failed: capctl keeps the last good"
               " version. See the ConfigReloadFailed Event.", "warning", part="policies")],
    ),
    (
        "CapctlPlanFailing",
        "10m",
        {f'capctl_errors_total{{{POD},kind="plan"}}': "0+1x20", f'capctl_errors_total{{{POD},kind="kube"}}': "0x20"},
        [alert("CapctlPlanFailing", "The day plan fails (e.g. a date outside the calendar's supported range): no"
               " plaque is planned and nothing is updated.", "critical")],
    ),
    ("CapctlPlanFailing", "10m", {f'capctl_errors_total{{{POD},kind="kube"}}': "0+1x20"}, []),
    (
        "CapctlPlaqueUnplanned",
        "20m",
        {
            f'capctl_forecast_users{{{POD},plaque="grand-est"}}': "1000x30",
            f'capctl_forecast_users{{{POD},plaque="occitanie"}}': "800x30",
            f'capctl_planned_replicas{{{POD},plaque="grand-est",component="web"}}': "4x30",
        },
        [alert("CapctlPlaqueUnplanned", "Plaque occitanie is forecast but none of its components is planned (its"
               ' workloads cannot be read): see capctl_errors_total{kind="kube"} and the logs.', "warning",
               plaque="occitanie")],
    ),
    (
        "CapctlPlaqueHeld",
        "20m",
        {
            f'capctl_plaque_held{{{POD},plaque="occitanie"}}': "1x30",
            f'capctl_plaque_held{{{POD},plaque="grand-est"}}': "0x30",
        },
        [alert("CapctlPlaqueHeld", "Plaque occitanie cannot be planned (no mandate in force, or a plan error): capctl"
               " keeps its current replicas and changes nothing there. See the PlaqueHeld Event and the logs.",
               "warning", plaque="occitanie")],
    ),
    (
        "CapctlRefitNotAccepted",
        "20m",
        {
            f'capctl_refit_total{{{POD},result="rejected"}}': "0x10 1x20",
            f'capctl_refit_total{{{POD},result="accepted"}}': "0x10 1x20",
        },
        [alert("CapctlRefitNotAccepted", "A weekly refit was rejected in the last day: capctl keeps planning with the"
               " last good model. See the ModelRefitRejected or ModelRefitFailed Event.", "warning",
               result="rejected")],
    ),
    ("CapctlRefitNotAccepted", "20m", {f'capctl_refit_total{{{POD},result="accepted"}}': "0x10 1x20"}, []),
    (
        "CapctlBudgetNearlySpent",
        "40m",
        {
            f'capctl_budget_level{{{POD},collectivite="departement-10"}}': "0.8x60",
            f'capctl_budget_level{{{POD},collectivite="departement-71"}}': "1x60",
        },
        [alert("CapctlBudgetNearlySpent", "The month's plan of departement-10 would overspend its budget: its"
               " ceilings are cut to 80%.", "warning", collectivite="departement-10")],
    ),
    (
        "CapctlForecastErrorHigh",
        "40m",
        {
            f'capctl_forecast_users{{{POD},plaque="grand-est"}}': "1000x60",
            f'capctl_observed_users{{{POD},plaque="grand-est"}}': "1500x60",
            f'capctl_metrics_available{{{POD},plaque="grand-est"}}': "1x60",
            # night-time: a large relative error on few users
            f'capctl_forecast_users{{{POD},plaque="occitanie"}}': "100x60",
            f'capctl_observed_users{{{POD},plaque="occitanie"}}': "300x60",
            f'capctl_metrics_available{{{POD},plaque="occitanie"}}': "1x60",
            # live usage unreadable: the observed value is stale, not an error of the forecast
            f'capctl_forecast_users{{{POD},plaque="aura"}}': "1000x60",
            f'capctl_observed_users{{{POD},plaque="aura"}}': "3000x60",
            f'capctl_metrics_available{{{POD},plaque="aura"}}': "0x60",
        },
        [alert("CapctlForecastErrorHigh", "Observed users on grand-est differ from the forecast by 50%: check the"
               " calendar events (a local closure, a strike) and refit the model.", "warning",
               plaque="grand-est", pod="capctl-7d9f-a", job=JOB, namespace=NAMESPACE)],
    ),
]  # fmt: skip


def test_each_alert_fires_on_the_situation_it_names(rule: Doc, tmp_path: Path) -> None:
    write_rules(rule, tmp_path / "rules.yaml")
    summaries = {name: r["annotations"]["summary"] for name, r in rules_of(rule).items()}
    tests = []
    for name, at, series, expected in copy.deepcopy(CASES):
        for exp in expected:
            exp["exp_annotations"]["summary"] = summaries[name]
        tests.append(
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": [{"eval_time": at, "alertname": name, "exp_alerts": expected}],
            }
        )
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {c[0] for c in CASES} == EXPECTED_ALERTS  # every alert has its case


def test_promtool_tests_would_catch_a_silent_alert(rule: Doc, tmp_path: Path) -> None:
    """Guard for the test above: an alert that does not fire when expected fails promtool."""
    write_rules(rule, tmp_path / "rules.yaml")
    name, at, _series, expected = CASES[0]
    test = {"interval": "1m", "input_series": [], "alert_rule_test": [{"eval_time": at, "alertname": name,
                                                                       "exp_alerts": expected}]}  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [test]}))
    assert promtool("test", "rules", "tests.yaml", cwd=tmp_path).returncode != 0


def test_selector_and_thresholds_come_from_values(helm: Path) -> None:
    docs = render(
        helm,
        "--set",
        "prometheusRules.enabled=true",
        "--set-json",  # helm's --set keeps decimals as strings, which the schema refuses
        "prometheusRules.forecastErrorRatio=0.2,prometheusRules.budgetLevelBelow=0.9",
        "--set-string",
        'prometheusRules.selector=cluster="ent-prod"\\,job="capctl"',
        "--set",
        "tick=30",
    )
    rules = rules_of(one(docs, "PrometheusRule"))
    assert '{cluster="ent-prod",job="capctl"}' in rules["CapctlNoLeader"]["expr"]
    assert JOB not in " ".join(r["expr"] for r in rules.values())
    assert rules["CapctlBudgetNearlySpent"]["expr"].endswith("< 0.9")
    assert "> 0.2" in rules["CapctlForecastErrorHigh"]["expr"]
    assert rules["CapctlTicksStalled"]["expr"].endswith("> 150")  # 5 ticks of 30 s
