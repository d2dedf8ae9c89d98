"""values.schema.json: helm itself refuses a mistyped or unknown value before rendering anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.chart.test_chart import CHART, NAMESPACE, NONDEFAULT, run_helm
from tests.chart.test_chart import helm as helm  # fixture

pytestmark = pytest.mark.helm

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (("--set", "replicaCount=two"), "at '/replicaCount': got string, want integer"),
        (("--set", "mode=auto"), "at '/mode': value must be one of 'recommend', 'floor', 'direct'"),
        (("--set", "tick=0"), "at '/tick': minimum: got 0, want 1"),
        (("--set-string", "tick=60"), "at '/tick': got string, want integer"),
        (("--set", "replicaCont=3"), "additional properties 'replicaCont' not allowed"),
        (("--set", "image.pullPolicy=Sometimes"), "at '/image/pullPolicy': value must be one of"),
        (("--set", "image.digest=latest"), "at '/image/digest'"),
        (("--set", "prometheus.url=prometheus:9090"), "at '/prometheus/url'"),
        (("--set", "prometheus.queriesFile=../queries.yaml"), "at '/prometheus/queriesFile'"),
        (("--set", "prometheus.auth.type=oauth"), "at '/prometheus/auth/type': value must be one of 'token', 'basic'"),
        (("--set", "logFormat=yaml"), "at '/logFormat'"),
        (("--set", "service.port=70000"), "at '/service/port': maximum"),
        (("--set", "podDisruptionBudget.minAvailable=half"), "at '/podDisruptionBudget/minAvailable'"),
        (("--set", "watchNamespaces={ENT_Grand_Est}"), "at '/watchNamespaces/0'"),
        (("--set", "serviceMonitor.interval=30"), "at '/serviceMonitor/interval'"),
        (("--set", "networkPolicy.apiServer.ports[0]=https"), "at '/networkPolicy/apiServer/ports/0'"),
        (("--set", "prometheusRules.tickErrorRatio=2"), "at '/prometheusRules/tickErrorRatio'"),
        (("--set", "policies.items[0].key=topology.yaml"), "at '/policies/items/0': missing property 'path'"),
        (("--set", "livenessProbe.periodSecond=5"), "at '/livenessProbe': additional properties 'periodSecond'"),
    ],
    ids=lambda v: v[1] if isinstance(v, tuple) else None,
)
def test_helm_lint_fails_on_a_bad_value(helm: Path, setting: tuple[str, str], message: str) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART), "--namespace", NAMESPACE, *setting)
    assert result.returncode != 0
    assert "1 chart(s) failed" in result.stderr
    assert message in result.stdout
    install = run_helm(helm, "template", "capctl", str(CHART), *setting)  # install/template check it too
    assert install.returncode != 0 and message in install.stderr


def test_schema_is_draft_07_and_accepts_the_shipped_values() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    for values in (VALUES, merged(VALUES, yaml.safe_load(NONDEFAULT.read_text()))):
        jsonschema.Draft7Validator(SCHEMA).validate(values)


def merged(base: Any, override: Any) -> Any:
    """Helm's coalescing of a values file over the chart's defaults (maps merge, anything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {k: merged(base.get(k), override[k]) if k in override else base[k] for k in base | override}
    return override


def leaves(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, values


def schema_at(path: tuple[str, ...]) -> dict[str, Any]:
    node: dict[str, Any] = SCHEMA
    for key in path:
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        assert key in props or isinstance(extra, dict), f"{'.'.join(path)}: no schema for {key!r}"
        node = props.get(key, extra)
    return node


def test_every_value_is_typed() -> None:
    for path, default in leaves(VALUES):
        node = schema_at(path)
        assert {"type", "enum", "oneOf"} & set(node), f"{'.'.join(path)} has no type"
        jsonschema.Draft7Validator(node).validate(default)  # the default is valid for its own entry
