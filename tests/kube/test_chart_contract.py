"""The chart's container arguments are a command line `capctl run` accepts, with default and other values."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from capacity.cli import app
from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from tests.kube.conftest import HOME, REPO, make_instance
from tests.support.fake_kube import FakeKube
from tests.support.tools import tool_path

VALUES = {
    "default": [],
    "token+ca+kubeconfig+model": [
        "--set", "mode=floor", "--set", "tick=30", "--set", "prometheus.url=https://prom.example:9090",
        "--set", "prometheus.auth.existingSecret=prom", "--set", "prometheus.auth.caKey=ca.crt",
        "--set", "kubeconfig.existingSecret=kc", "--set-string", "model.content=states: {}", "--set", "logFormat=text",
    ],
    "basic auth, direct": [
        "--set", "mode=direct", "--set", "prometheus.url=http://prom:9090",
        "--set", "prometheus.auth.existingSecret=prom", "--set", "prometheus.auth.type=basic",
    ],
}  # fmt: skip


@pytest.mark.helm
@pytest.mark.parametrize("values", list(VALUES))
def test_chart_args_parse_as_capctl_run(values: str) -> None:
    helm = tool_path("helm")
    rendered = subprocess.run(
        [str(helm), "template", "capctl", str(REPO / "charts" / "capctl"), "--namespace", "capctl-system",
         "--set", "watchNamespaces={ent-grand-est}", *VALUES[values]],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    deployment = next(d for d in yaml.safe_load_all(rendered.stdout) if d and d["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "run"
    group = get_command(app)
    run = group.commands["run"]  # type: ignore[attr-defined]
    ctx = run.make_context("run", list(args[1:]))  # raises on any unknown option or bad value
    assert ctx.params["mode"].value == {"default": "recommend", "basic auth, direct": "direct"}.get(values, "floor")
    assert ctx.params["metrics_port"] == 9090 and ctx.params["lease_namespace"] == "capctl-system"
    assert ctx.params["state_configmap"] == "capctl-state"


def _notes(*values: str) -> str:
    """NOTES.txt as `helm install` prints it (client-side dry run: no cluster needed)."""
    helm = tool_path("helm")
    out = subprocess.run(
        [str(helm), "install", "capctl", str(REPO / "charts" / "capctl"), "--namespace", "capctl-system",
         "--dry-run=client", "-f", str(REPO / "tests" / "chart" / "values-minimal.yaml"), *values],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return out.split("NOTES:", 1)[1]


@pytest.mark.helm
def test_notes_event_commands_find_the_events_capctl_writes(seeded: FakeKube, tmp_path: Path) -> None:
    """Every `kubectl get events --field-selector` of NOTES, run against the events a floor tick wrote."""
    selectors = re.findall(r"kubectl get events -A --field-selector (\S+)", _notes("--set", "mode=floor"))
    assert len(selectors) == 3, selectors
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    assert a.tick(datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)).ok
    a.controller.events.emit(  # a problem Event, as a broken policies file raises it
        {"apiVersion": "v1", "kind": "Pod", "name": "capctl-a", "namespace": HOME},
        "ConfigReloadFailed", "topology.yaml: bad (keeping the last good policies)", warning=True, action="Operate",
    )  # fmt: skip
    core = a.clients.apis().core
    written = {e.metadata.name for e in core.list_event_for_all_namespaces().items}
    found = {s: [e for e in core.list_event_for_all_namespaces(field_selector=s).items] for s in selectors}
    everything, warnings, raised = (found[s] for s in selectors)
    assert len(written) > 2 and {e.metadata.name for e in everything} == written
    assert [e.reason for e in warnings] == ["ConfigReloadFailed"]
    assert raised and {e.reason for e in raised} == {"FloorRaised"}
    assert {e.involved_object.kind for e in raised} == {"HorizontalPodAutoscaler"}
