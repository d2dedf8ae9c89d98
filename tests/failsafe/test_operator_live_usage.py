"""Live usage that cannot be believed makes its plaque *unknown* (no scale-down), never "ok"."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from capacity.operator.decide import Mode
from capacity.operator.live_usage import ZERO_PLAUSIBLE_BELOW, PrometheusUsage, plausible
from tests.failsafe.operator_support import HOLIDAY, FakePrometheus, component, events, fake_kube, seeded, set_hpa_min  # noqa: F401 - fixtures
from tests.kube.conftest import hpa, make_instance, metric
from tests.support.fake_kube import FakeKube

RAISED = 40  # yesterday's rush floor, still in place on a holiday morning
NAMESPACES = {
    "grand-est": "ent-grand-est",
    "auvergne-rhone-alpes": "ent-auvergne-rhone-alpes",
    "occitanie": "ent-occitanie",
    "bourgogne-franche-comte": "ent-bourgogne-franche-comte",
    "seine-maritime": "ent-seine-maritime",
}


def test_sick_readings_keep_the_floor_and_a_plausible_zero_does_not(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    for ns in NAMESPACES.values():
        set_hpa_min(seeded, ns, "api", RAISED)
    sick = [
        ("grand-est", "150"),
        ("grand-est", "9000"),  # two series for one plaque: which one is right is unknown
        ("auvergne-rhone-alpes", "NaN"),
        ("occitanie", "+Inf"),
        ("bourgogne-franche-comte", "-3"),
        ("seine-maritime", "0"),  # holidays at 06:30 on a small plaque: the forecast is under the threshold
    ]
    with FakePrometheus(sick) as url:
        a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, usage=PrometheusUsage(url, timeout_s=2.0))
        report = a.tick(HOLIDAY)
    for plaque in ("grand-est", "auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte"):
        c = component(report, plaque, "api")
        assert c.decision is not None and c.planned is not None
        assert c.planned.replicas < RAISED  # the plan would go down...
        assert c.decision.replicas == RAISED and "fallback" in c.decision.reasons  # ...but blind it does not
        assert "observed" not in c.decision.reasons
        assert hpa(seeded, NAMESPACES[plaque], "api")["spec"]["minReplicas"] == RAISED
        assert metric(a, "capctl_metrics_available", plaque=plaque) == 0.0
    small = component(report, "seine-maritime", "api")
    assert small.decision is not None and small.decision.replicas < RAISED and "fallback" not in small.decision.reasons
    assert metric(a, "capctl_metrics_available", plaque="seine-maritime") == 1.0
    said = {e["message"].split(":")[0] for e in events(seeded, "MetricsImplausible")}
    assert said == {"grand-est", "auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte"}


def test_zero_users_when_the_forecast_expects_many_is_unknown(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    set_hpa_min(seeded, "ent-grand-est", "api", RAISED)
    with FakePrometheus([(p, "0") for p in NAMESPACES]) as url:
        a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, usage=PrometheusUsage(url, timeout_s=2.0))
        report = a.tick(HOLIDAY)  # grand-est forecasts ~250 users at 06:30 even in the holidays
    ge = component(report, "grand-est", "api")
    assert ge.decision is not None and ge.decision.replicas == RAISED and "fallback" in ge.decision.reasons
    assert "expects" in events(seeded, "MetricsImplausible")[0]["message"]


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=0, max_value=1e7))
def test_a_believed_reading_is_a_finite_count_and_zero_only_when_little_is_expected(
    value: float, forecast: float
) -> None:
    got, why = plausible(value, forecast)
    if got is None:
        assert why
        assert not math.isfinite(value) or value < 0 or (value == 0 and forecast >= ZERO_PLAUSIBLE_BELOW)
    else:
        assert why is None and got == value and math.isfinite(got) and got >= 0
        assert got > 0 or forecast < ZERO_PLAUSIBLE_BELOW
