"""The OpenMetrics writer produces text a standard parser reads back sample for sample."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.support.openmetrics import Series, render_openmetrics

label_values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
sample_values = st.floats(allow_nan=True, allow_infinity=True, width=64)


def _families(text: str) -> list[Metric]:
    return list(text_string_to_metric_families(text))  # type: ignore[no-untyped-call]


def _parsed(text: str) -> list[tuple[str, dict[str, str], float, float]]:
    samples = []
    for family in _families(text):
        for s in family.samples:
            stamp = s.timestamp
            assert stamp is not None
            ts = stamp if isinstance(stamp, float) else float(stamp.sec + stamp.nsec / 1e9)
            samples.append((s.name, dict(s.labels), float(s.value), ts))
    return samples


@given(
    labels=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), label_values, max_size=3),
    values=st.lists(sample_values, min_size=1, max_size=5),
)
def test_gauge_round_trips_through_an_openmetrics_parser(labels: dict[str, str], values: list[float]) -> None:
    timestamps = [1_614_556_800 + 300 * i for i in range(len(values))]
    text = render_openmetrics([Series("ent_sessions", "gauge", labels, timestamps, values)])
    assert text.endswith("# EOF\n")
    parsed = _parsed(text)
    expected = [("ent_sessions", labels, t) for t in timestamps]
    assert [(name, lab, ts) for name, lab, _, ts in parsed] == expected
    for (_, _, got, _), want in zip(parsed, values, strict=True):
        assert (math.isnan(got) and math.isnan(want)) or got == want


def test_counters_keep_their_total_suffix_and_families_are_not_interleaved() -> None:
    text = render_openmetrics(
        [
            Series("ent_requests_total", "counter", {"profile": "eleve"}, [10, 20], [1, 2]),
            Series("ent_sessions", "gauge", {}, [10], [0.5]),
            Series("ent_requests_total", "counter", {"profile": "parent"}, [10], [7]),
        ]
    )
    families = [(f.name, f.type, [s.labels.get("profile") for s in f.samples]) for f in _families(text)]
    assert families == [
        ("ent_requests", "counter", ["eleve", "eleve", "parent"]),
        ("ent_sessions", "gauge", [None]),
    ]


def test_inconsistent_series_are_refused() -> None:
    with pytest.raises(ValueError, match="must end with _total"):
        Series("ent_requests", "counter", {}, [1], [1])
    with pytest.raises(ValueError, match="2 timestamps but 1 values"):
        Series("ent_sessions", "gauge", {}, [1, 2], [1])
    with pytest.raises(ValueError, match="mixes kinds"):
        render_openmetrics([Series("x", "gauge", {}, [1], [1]), Series("x_total", "counter", {}, [1], [1])])
