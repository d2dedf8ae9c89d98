"""The shipped example works out of the box today (2026-11-29) and until the calendar's last day.

The shipped mandates ran to 2023-08-31, so `capctl plan` for any date of the current school year
failed and the operator did nothing. They are renewed through 2027-28; these tests fail the day the
calendar's range outgrows them again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from capacity.calendar import SchoolCalendar
from capacity.policy.bundle import Policies
from tests.kube.conftest import HPA_MIN, hpa, seed
from tests.kube.test_run_cli import once
from tests.support.cli import capctl
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.fixtures import fake_kube  # noqa: F401 - fixture

PLAQUES = ("grand-est", "auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte", "seine-maritime")


@pytest.mark.parametrize("day", ["2026-11-30", "2028-06-15"])
def test_plan_works_for_this_school_year_and_the_next(day: str) -> None:
    res = capctl("plan", "--date", day)
    assert res.returncode == 0, res.stderr
    for plaque in PLAQUES:
        assert any(line.startswith(plaque) for line in res.stdout.splitlines()), plaque


def test_every_plaque_has_funders_every_day_to_the_end_of_the_calendar(
    policies: Policies, calendar: SchoolCalendar
) -> None:
    last = calendar.supported_range[1]
    assert last >= date(2028, 8, 31)
    for plaque in policies.topology.plaques:
        for d in (date(2026, 9, 1), date(2026, 11, 30), date(2027, 9, 1), last):
            assert policies.funders(plaque, d), (plaque.id, d)
    assert all(m.validity.contains(last) for m in policies.mandates)


def test_run_once_acts_on_a_monday_morning_of_this_school_year(fake_kube: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    seed(fake_kube)
    result = once(fake_kube, tmp_path, "2026-11-30T07:00:00+01:00")
    assert result.returncode == 0, result.stderr
    assert "applied" in result.stdout
    raised = [
        name
        for ns, name in (("ent-grand-est", "web"), ("ent-grand-est", "api"))
        if hpa(fake_kube, ns, name)["spec"]["minReplicas"] > HPA_MIN
    ]
    assert raised, result.stdout
