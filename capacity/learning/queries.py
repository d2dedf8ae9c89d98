"""PromQL templates for the metrics capctl learns from, overridable per operator.

Every operator names things differently, so the three queries, the labels that carry the plaque, the
profile and the component, and the mapping of profile label values are configuration. Templates use
`$rate_window` (string.Template syntax: `$` never appears in PromQL, braces do).

Default metrics:
  sessions  `ent_active_sessions{plaque, profile}` gauge, users connected, profile in eleve|enseignant|parent;
            `max by` so that a series scraped twice (HA pair, second job) is not counted twice;
  requests  `ent_http_requests_total{plaque, component}` counter, summed over pods;
  cpu       cAdvisor `container_cpu_usage_seconds_total`, summed per namespace and container, mapped to a
            plaque by its namespace and to a component by the name of the object it scales (topology).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from capacity.common.errors import InputError
from capacity.common.yamlio import YamlDoc, load_yaml_file
from capacity.learning.window import parse_duration_s
from capacity.policy.topology import PROFILES

METRICS = ("sessions", "requests", "cpu")
TEMPLATE_VARS = ("rate_window",)
#: Resolution the operator's live query stands for (one tick): sets `$rate_window` if the query has one.
LIVE_STEP_S = 60

DEFAULT_QUERIES: Mapping[str, str] = MappingProxyType(
    {
        "sessions": "max by (plaque, profile) (ent_active_sessions)",
        "requests": "sum by (plaque, component) (rate(ent_http_requests_total[$rate_window]))",
        "cpu": (
            "sum by (namespace, container) "
            '(rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[$rate_window]))'
        ),
    }
)
#: The selector `series` is asked about when a query returns nothing (is the metric there at all?).
DEFAULT_MATCH: Mapping[str, str] = MappingProxyType(
    {
        "sessions": "ent_active_sessions",
        "requests": "ent_http_requests_total",
        "cpu": "container_cpu_usage_seconds_total",
    }
)
DEFAULT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "plaque": "plaque",
        "profile": "profile",
        "component": "component",
        "namespace": "namespace",
        "container": "container",
    }
)
DEFAULT_PROFILES: Mapping[str, str] = MappingProxyType(
    {"eleve": "eleves", "enseignant": "enseignants", "parent": "parents"}
)


@dataclass(frozen=True)
class QueryConfig:
    """Where each metric comes from; `source` names the file (or "defaults") in messages."""

    queries: Mapping[str, str] = field(default_factory=lambda: DEFAULT_QUERIES)
    match: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MATCH)
    labels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_LABELS)
    profiles: Mapping[str, str] = field(default_factory=lambda: DEFAULT_PROFILES)
    rate_window_s: int | None = None
    source: str = "built-in defaults"

    def promql(self, metric: str, step_s: int) -> str:
        """The query for `metric`, with `$rate_window` filled in for a query at `step_s` resolution."""
        window = self.rate_window_s or rate_window_s(step_s)
        return string.Template(self.queries[metric]).substitute(rate_window=f"{window}s")

    def live_promql(self) -> str:
        """Users connected now per plaque, for the operator: the `sessions` query summed by plaque label,
        so a site that needs `--queries` for `capctl fit` gets the same metric live. (Profiles that the
        `profiles` mapping leaves out are counted here; write the `sessions` query to exclude them.)"""
        return f"sum by ({self.labels['plaque']}) ({self.promql('sessions', LIVE_STEP_S)})"

    def profile_of(self, label_value: str) -> str | None:
        """capctl profile name for a profile label value (None when unknown)."""
        return self.profiles.get(label_value)


def rate_window_s(step_s: int) -> int:
    """A rate window that always holds at least two scrapes: twice the step, never under 10 minutes."""
    return max(2 * step_s, 600)


def load_queries(path: Path | None) -> QueryConfig:
    """The defaults, or the operator's YAML file (validated; errors name file and line)."""
    if path is None:
        return QueryConfig()
    doc = load_yaml_file(path)
    root = doc.data
    if not isinstance(root, dict):
        raise doc.error((), "expected a mapping with `version: 1` and `queries:`")
    if root.get("version") != 1:
        raise doc.error(("version",), "expected `version: 1`")
    unknown = set(root) - {"version", "queries", "match", "labels", "profiles", "rate_window"}
    if unknown:
        raise doc.error((sorted(unknown)[0],), "unknown key; expected queries, match, labels, profiles, rate_window")
    queries = {**DEFAULT_QUERIES, **_strings(doc, "queries", METRICS)}
    for name, text in queries.items():
        _check_template(doc, name, text)
    profiles = _strings(doc, "profiles", None) or dict(DEFAULT_PROFILES)
    for key, value in profiles.items():
        if value not in PROFILES:
            raise doc.error(("profiles", key), f"maps to {value!r}; capctl profiles are {', '.join(PROFILES)}")
    window = root.get("rate_window")
    return QueryConfig(
        queries=MappingProxyType(queries),
        match=MappingProxyType({**DEFAULT_MATCH, **_strings(doc, "match", METRICS)}),
        labels=MappingProxyType({**DEFAULT_LABELS, **_strings(doc, "labels", tuple(DEFAULT_LABELS))}),
        profiles=MappingProxyType(profiles),
        rate_window_s=None if window is None else _duration(doc, window),
        source=str(path),
    )


def _strings(doc: YamlDoc, key: str, allowed: tuple[str, ...] | None) -> dict[str, str]:
    raw: Any = doc.data.get(key, {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error((key,), "expected a mapping")
    out: dict[str, str] = {}
    for name, value in raw.items():
        if allowed is not None and name not in allowed:
            raise doc.error((key, name), f"unknown entry; expected one of {', '.join(allowed)}")
        if not isinstance(value, str) or not value.strip():
            raise doc.error((key, name), "expected a non-empty text")
        out[str(name)] = value.strip()
    return out


def _check_template(doc: YamlDoc, name: str, text: str) -> None:
    try:
        string.Template(text).substitute(rate_window="5m")
    except KeyError as exc:
        raise doc.error(("queries", name), f"unknown variable ${exc.args[0]}; available: $rate_window") from None
    except ValueError:
        raise doc.error(("queries", name), "a lone `$`: write `$$` for a literal dollar") from None


def _duration(doc: YamlDoc, value: Any) -> int:
    try:
        return parse_duration_s(str(value))
    except InputError as exc:
        raise doc.error(("rate_window",), str(exc)) from None
