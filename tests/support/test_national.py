"""The national topology generator writes policies that load, validate and exercise binding budgets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from capacity.calendar import SchoolCalendar
from capacity.planning.budget import month_budget_levels
from capacity.planning.demand import default_rates
from capacity.policy.bundle import load_policies
from tests.support.national import write_national


def test_national_policies_load_and_some_budgets_bind(tmp_path: Path) -> None:
    national = write_national(tmp_path / "policies", 30)
    policies = load_policies(national.root)  # cross-checked: every segment funded, every ceiling set
    assert [p.id for p in policies.topology.plaques] == list(national.plaques)
    assert {len(p.components) for p in policies.topology.plaques} == {6}
    assert national.academies == 24 and national.departements == 30
    levels = month_budget_levels(date(2021, 4, 26), 300, policies, SchoolCalendar.load([]), default_rates())
    assert 0 < sum(v < 1.0 for v in levels.values()) < len(levels)  # some budgets bind, not all
