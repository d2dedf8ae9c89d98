"""What an operator sees in a plan: the right days are big, replicas are in place early, mandates hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.calendar import DayState, Level
from capacity.planning.kernel import apportion
from capacity.planning.plans import plan_day

ZONE_B_C = ["grand-est", "seine-maritime", "occitanie"]
ALL = ["grand-est", "auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte", "seine-maritime"]


def plan(policies, calendar, rates, day: date, plaque: str, step_s: int = 900):
    return plan_day(day, step_s, policies, calendar, rates, [plaque]).plaques[0]


def morning_peak(pp) -> float:
    hours = np.array([s.hour for s in pp.forecast.grid.starts])
    return float(pp.forecast.users[(hours >= 6) & (hours < 10)].max())


@pytest.mark.parametrize("plaque", ZONE_B_C)
def test_26_april_2021_is_secondary_distance_learning_not_holidays(policies, calendar, rates, plaque):
    pp = plan(policies, calendar, rates, date(2021, 4, 26), plaque)
    for seg, info in zip(pp.plaque.segments, pp.forecast.infos, strict=True):
        assert seg.level in (Level.COLLEGE, Level.LYCEE)
        assert info.state is DayState.DISTANCIEL
        assert info.rentree
    monday_in_class = plan(policies, calendar, rates, date(2021, 3, 15), plaque)
    holiday_monday = plan(policies, calendar, rates, date(2021, 4, 19), plaque)
    assert morning_peak(pp) > morning_peak(monday_in_class)
    assert morning_peak(pp) > 3 * morning_peak(holiday_monday)


@pytest.mark.parametrize("plaque", ALL)
def test_6_and_26_april_are_the_two_biggest_days_of_spring_2021(policies, calendar, rates, plaque):
    start, end = date(2021, 3, 20), date(2021, 6, 20)
    peaks = {}
    d = start
    while d <= end:
        peaks[d] = plan(policies, calendar, rates, d, plaque, 3600).forecast.users.max()
        d += timedelta(days=1)
    top_two = sorted(peaks, key=lambda k: peaks[k], reverse=True)[:2]
    assert set(top_two) == {date(2021, 4, 6), date(2021, 4, 26)}


@pytest.mark.parametrize("plaque", ALL)
@pytest.mark.parametrize("day", [date(2021, 4, 6), date(2021, 4, 26)])
def test_replicas_for_the_peak_are_in_place_when_the_rush_starts(policies, calendar, rates, plaque, day):
    pp = plan(policies, calendar, rates, day, plaque, 900)
    users = pp.forecast.users
    peak = int(users.argmax())
    peak_hour = pp.forecast.grid.starts[peak].hour
    assert 7 <= peak_hour < 9
    night = float(users[:16].min())
    rush_start = int(np.argmax(users >= night + 0.5 * (users[peak] - night)))
    assert rush_start < peak
    for cp in pp.components:
        wanted_at_peak = min(int(cp.need[peak]), int(cp.replicas[peak]))
        assert cp.replicas[rush_start] >= wanted_at_peak, cp.component.name
        assert "prewarm" in cp.reasons(rush_start) or cp.need[rush_start] >= cp.need[peak]


@settings(max_examples=40, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=3 * 365),
    plaque=st.sampled_from(ALL),
    step=st.sampled_from([900, 3600]),
)
def test_every_slot_respects_mandates_and_names_who_clamped(policies, calendar, rates, offset, plaque, step):
    day = date(2019, 9, 2) + timedelta(days=offset)
    pp = plan(policies, calendar, rates, day, plaque, step)
    funders = {f.mandate.id: f for f in policies.funders(pp.plaque)}
    for cp in pp.components:
        assert (cp.wish >= cp.need).all()
        assert (cp.funder_wish.sum(axis=0) == cp.wish).all()
        assert (cp.funder_replicas.sum(axis=0) == cp.replicas).all()
        for f, fid in enumerate(cp.funder_ids):
            lim = funders[fid].limits(cp.component.name)
            assert (cp.funder_replicas[f] >= lim.floor).all()
            assert (cp.funder_replicas[f] <= lim.ceiling).all()
        for i in range(len(cp.replicas)):
            reasons = cp.reasons(i)
            # below the wish only because of a ceiling or a monthly budget; above it because of a floor or a
            # maintenance window (mandates, capacity/planning/combine.py)
            assert (cp.replicas[i] < cp.wish[i]) <= any(r.startswith(("ceiling:", "budget:")) for r in reasons)
            assert (cp.replicas[i] > cp.wish[i]) <= any(r.startswith(("floor:", "maintenance:")) for r in reasons)
            for r in reasons:
                if ":" in r:
                    assert r.split(":", 1)[1] in funders


@settings(max_examples=200, deadline=None)
@given(
    totals=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12),
    weights=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=8),
)
def test_apportion_gives_every_replica_to_exactly_one_funder(totals, weights):
    w = np.array(weights)
    if w.sum() == 0:
        w = np.ones_like(w)
    shares = np.repeat((w / w.sum())[:, None], len(totals), axis=1)
    total = np.array(totals, dtype=np.int64)
    parts = apportion(total, shares)
    assert (parts.sum(axis=0) == total).all()
    assert (parts >= 0).all()
    assert (np.abs(parts - shares * total) < 1 + 1e-9).all()


@pytest.mark.parametrize("plaque", ["occitanie", "seine-maritime"])
def test_the_rush_is_sized_on_the_upper_band_and_the_plateau_on_the_mean(policies, calendar, rates, plaque):
    """An under-forecast rush cannot be caught by the HPA within the start-up delay, a plateau can."""
    from capacity.policy.sizing import replicas_for_users

    pp = plan(policies, calendar, rates, date(2021, 3, 16), plaque, 300)
    users, high = pp.forecast.users, pp.forecast.high
    morning = slice(6 * 12, 10 * 12)
    steep = 6 * 12 + int(np.argmax(users[morning] - users[6 * 12 - 1 : 10 * 12 - 1]))  # steepest 5 min of the rush
    assert users[steep] > 1.1 * users[steep - 1]
    for cp in pp.components:
        band = int(replicas_for_users(high[steep : steep + 1], cp.component)[0])
        # from an hour before (pre-warm) to the steep slot, the floor covers the upper band, not just the mean
        assert all(cp.replicas[i] >= band for i in range(steep - 12, steep + 1)), cp.component.name
        # late afternoon, demand falling: the mean (pre-warmed) is enough, no band
        evening = [i for i, s in enumerate(pp.forecast.grid.starts) if s.hour == 16 and users[i] < users[i - 1]]
        assert evening and all("rush-band" not in cp.reasons(i) for i in evening), cp.component.name
    assert any("rush-band" in cp.reasons(i) for cp in pp.components for i in range(6 * 12, steep + 1))


def test_a_plaque_plan_without_components_costs_nothing_instead_of_failing(policies, calendar, rates):
    """A plaque with nothing to scale (its components all removed from the topology) has no funder to bill:
    its cost is an empty [funder, slot] array of the plan's slots, not an IndexError in the report."""
    plan = plan_day(date(2021, 4, 26), 3600, policies, calendar, rates)
    bare = replace(plan.plaques[0], components=())
    assert bare.funder_cost_eur().shape == (0, len(bare.forecast.users))
    assert plan.plaques[0].funder_cost_eur().sum() > 0
