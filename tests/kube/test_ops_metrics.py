"""What Prometheus scrapes from the operator after a real tick: build info, budgets, and no `_created` series."""

from __future__ import annotations

import platform
from datetime import datetime
from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import capacity
from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.ops_metrics import OpsMetrics
from capacity.policy.bundle import load_policies
from tests.kube.conftest import POLICIES, make_instance
from tests.support.fake_kube import FakeKube

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)


def scrape(metrics: OpsMetrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)], parsed from the exposition text the /metrics endpoint serves."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_a_tick_exports_build_info_and_budgets_without_created_series(seeded: FakeKube, tmp_path: Path) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    assert a.tick(RENTREE).ok
    samples = scrape(a.metrics)
    assert samples["capctl_build_info"] == [
        ({"version": capacity.__version__, "python_version": platform.python_version()}, 1.0)
    ]
    assert not [name for name in samples if name.endswith("_created")]
    assert samples["capctl_ticks_total"] == [({"result": "ok"}, 1.0)]  # counters still export their _total
    budgeted = {m.id for m in load_policies(POLICIES).mandates if m.monthly_budget_eur is not None}
    assert budgeted  # the shipped policies have monthly budgets
    levels = {labels["collectivite"]: value for labels, value in samples["capctl_budget_level"]}
    assert set(levels) == budgeted
    assert all(0.0 < v <= 1.0 for v in levels.values())


def test_budget_levels_follow_the_policies_and_a_standby_publishes_none() -> None:
    m = OpsMetrics()
    m.budgets({"departement-10": 0.8, "departement-71": 1.0})
    m.budgets({"departement-10": 0.7})  # departement-71's budget was removed from its mandate
    assert [(s[0]["collectivite"], s[1]) for s in scrape(m)["capctl_budget_level"]] == [("departement-10", 0.7)]
    m.clear_plan()
    assert "capctl_budget_level" not in scrape(m)
    assert "capctl_build_info" in scrape(m)  # not per plan: a standby says which version it runs too
