"""The chart's container arguments are a command line `capctl run` accepts, with default and other values."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from typer.main import get_command

from capacity.cli import app
from tests.kube.conftest import REPO
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
