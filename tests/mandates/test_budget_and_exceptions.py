"""Budgets seen ahead, floors in users, exams, maintenance windows, validity: what the plan owes each mandate."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from capacity.common.errors import ConfigError
from capacity.common.timegrid import PARIS
from capacity.planning.budget import budget_state, plan_month
from capacity.planning.plans import plan_day
from capacity.policy.bundle import load_policies
from capacity.policy.sizing import floor_replicas


def test_the_forecast_sees_on_the_1st_that_the_budget_will_cut_the_6th(shipped, calendar, rates):
    states = budget_state(date(2021, 4, 1), 3600, shipped, calendar, rates, as_of=date(2021, 4, 1))
    st = states["departement-76"]
    assert st.binding and st.level < 1
    assert date(2021, 4, 6) in st.short_days and date(2021, 4, 6) in st.cut_days
    assert st.planned_eur <= st.budget_eur < st.forecast_eur
    assert not states["region-grand-est"].binding  # its limit that day is its ceiling, not its budget


def test_money_already_spent_lowers_what_is_left_for_the_rest_of_the_month(shipped, calendar, rates):
    base = budget_state(date(2021, 4, 1), 3600, shipped, calendar, rates, as_of=date(2021, 4, 15))
    st = base["departement-76"]
    spent = budget_state(
        date(2021, 4, 1),
        3600,
        shipped,
        calendar,
        rates,
        as_of=date(2021, 4, 15),
        spent_eur={"departement-76": st.budget_eur * 0.95},
    )["departement-76"]
    assert spent.spent_eur == pytest.approx(st.budget_eur * 0.95)
    assert spent.level <= st.level
    assert all(d >= date(2021, 4, 15) for d in spent.cut_days)
    assert spent.planned_eur <= spent.budget_eur + 1e-6 or spent.floors_over_budget


def test_plan_day_applies_the_month_budget_like_plan_month(shipped, calendar, rates):
    day = date(2021, 4, 6)
    alone = plan_day(day, 3600, shipped, calendar, rates, ["seine-maritime"])
    month = plan_month(day, 3600, shipped, calendar, rates, ["seine-maritime"]).day(day)
    for a, b in zip(alone.plaques[0].components, month.plaques[0].components, strict=True):
        assert (a.replicas == b.replicas).all()
        assert any("budget:departement-76" in a.reasons(i) for i in range(len(a.replicas)))
    free = plan_day(day, 3600, shipped, calendar, rates, ["seine-maritime"], budget={})
    assert sum(int(c.replicas.sum()) for c in free.plaques[0].components) > sum(
        int(c.replicas.sum()) for c in alone.plaques[0].components
    )
    assert alone.budget_levels["departement-76"] < 1 and free.budget_levels == {}


def test_users_floor_holds_in_class_hours_of_class_days_only(small, calendar, rates):
    region = small.mandate("region-essai")
    plan = plan_day(date(2021, 3, 15), 3600, small, calendar, rates, budget={})  # a Monday in class
    (pp,) = plan.plaques
    hours = np.array([s.hour for s in pp.forecast.grid.starts])
    for cp in pp.components:
        f = cp.funder_ids.index("region-essai")
        lim = region.limits["lorraine"][cp.component.name]
        want = max(lim.floor, floor_replicas(3000, cp.component))
        assert (cp.funder_floor[f][(hours >= 8) & (hours < 18)] == want).all()
        assert (cp.funder_floor[f][(hours < 8) | (hours >= 18)] == lim.floor).all()
        assert (cp.funder_replicas[f] >= cp.funder_floor[f]).all()
    sunday = plan_day(date(2021, 3, 14), 3600, small, calendar, rates, budget={})
    for cp in sunday.plaques[0].components:
        f = cp.funder_ids.index("region-essai")
        assert (cp.funder_floor[f] == region.limits["lorraine"][cp.component.name].floor).all()


def test_an_exam_period_raises_the_floor_on_its_weekdays(small, calendar, rates):
    during = plan_day(date(2021, 6, 17), 3600, small, calendar, rates, budget={}).plaques[0]
    before = plan_day(date(2021, 6, 16), 3600, small, calendar, rates, budget={}).plaques[0]
    for a, b in zip(during.components, before.components, strict=True):
        f = a.funder_ids.index("region-essai")
        exam = min(floor_replicas(12000, a.component), int(a.funder_ceiling[f]))
        assert a.funder_floor[f].max() == exam > b.funder_floor[f].max()
        assert any("floor:region-essai" in a.reasons(i) for i in range(len(a.replicas)))


def test_a_maintenance_window_never_scales_the_funder_down(small, calendar, rates):
    plan = plan_day(date(2021, 3, 17), 900, small, calendar, rates, budget={})
    (pp,) = plan.plaques
    starts = pp.forecast.grid.starts
    inside = np.array(
        [datetime(2021, 3, 17, 8, tzinfo=PARIS) <= s < datetime(2021, 3, 17, 12, tzinfo=PARIS) for s in starts]
    )
    api = pp.component("api")
    f = api.funder_ids.index("region-essai")
    held = api.funder_replicas[f][inside]
    assert (np.diff(held) >= 0).all()
    assert (np.diff(api.funder_clamped[f][inside]) < 0).any(), "the test day must want to scale down in the window"
    assert any("maintenance:region-essai" in api.reasons(i) for i in np.flatnonzero(inside))
    web = pp.component("web")  # the window names api only
    assert not web.hold_hit.any()
    windows = small.maintenance_windows("lorraine", start=datetime(2021, 3, 17, tzinfo=PARIS))
    assert [(w.name, w.mandate_id, w.components) for w in windows] == [("Migration", "region-essai", ("api",))]
    assert small.maintenance_windows("lorraine", end=datetime(2021, 3, 1, tzinfo=PARIS)) == ()


def test_a_day_outside_every_mandate_is_a_clear_policy_error(small, calendar, rates):
    with pytest.raises(ConfigError, match=r"aucun mandat en vigueur ne finance .* lorraine"):
        plan_day(date(2020, 8, 31), 3600, small, calendar, rates)


def test_a_renewed_mandate_takes_over_the_next_day(bundle_copy: Path, calendar, rates):
    region = bundle_copy / "mandats" / "region-essai.yaml"
    text = region.read_text(encoding="utf-8")
    region.write_text(text.replace("au: 2022-08-31", "au: 2021-03-31"), encoding="utf-8")
    renewed = text.replace("du: 2020-09-01", "du: 2021-04-01").replace("plafond: 8}", "plafond: 12}")
    (bundle_copy / "mandats" / "region-essai-2021.yaml").write_text(renewed, encoding="utf-8")
    pol = load_policies(bundle_copy)

    def region_web_ceiling(day: date) -> int:
        web = plan_day(day, 3600, pol, calendar, rates).plaques[0].component("web")
        return int(web.funder_ceiling[web.funder_ids.index("region-essai")])

    assert region_web_ceiling(date(2021, 3, 31)) == 8  # validity dates are inclusive
    assert region_web_ceiling(date(2021, 4, 1)) == 12
    assert pol.mandate("region-essai", date(2021, 4, 1)).path.endswith("region-essai-2021.yaml")
    # a month that holds both mandates plans each day with the one in force
    days = plan_month(date(2021, 3, 1), 3600, pol, calendar, rates).days
    assert {d.day for d in days} == {date(2021, 3, 1) + timedelta(days=i) for i in range(31)}


def test_a_mandate_ending_mid_month_still_lets_its_last_days_be_planned(bundle_copy: Path, calendar, rates):
    for name in ("region-essai", "departement-54", "departement-57"):
        f = bundle_copy / "mandats" / f"{name}.yaml"
        f.write_text(f.read_text(encoding="utf-8").replace("au: 2022-08-31", "au: 2021-04-15"), encoding="utf-8")
    pol = load_policies(bundle_copy)
    plan = plan_day(date(2021, 4, 15), 3600, pol, calendar, rates)  # its month holds unfunded days
    assert plan.plaques[0].plaque.id == "lorraine"
    month = plan_month(date(2021, 4, 1), 3600, pol, calendar, rates)
    assert [p.day for p in month.days][-1] == date(2021, 4, 15)
    with pytest.raises(ConfigError, match="le 2021-04-16, aucun mandat"):
        month.day(date(2021, 4, 16))
    from capacity.planning.plans import plan_range

    with pytest.raises(ConfigError, match="aucun mandat en vigueur"):
        list(plan_range(date(2021, 4, 10), date(2021, 4, 20), 3600, pol, calendar, rates))
