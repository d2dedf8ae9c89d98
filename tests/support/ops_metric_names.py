"""Names of the series the operator exports (read from its registry), for checking queries against them."""

from __future__ import annotations

import re

from capacity.operator.ops_metrics import OpsMetrics

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
METRIC_TOKEN = re.compile(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b")


def exported_series_names() -> set[str]:
    """Every sample name /metrics can serve (counters as `_total`, histograms as `_bucket/_sum/_count`)."""
    return {f"{m.name}{suffix}" for m in OpsMetrics().registry.collect() for suffix in SUFFIXES[m.type]}


def metric_names_in(expr: str) -> set[str]:
    """Metric names a PromQL expression reads: its `capctl_*` tokens and any name before a `{` selector."""
    names = {t for t in METRIC_TOKEN.findall(expr) if t.startswith("capctl_")}
    names |= set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", expr))
    return names
