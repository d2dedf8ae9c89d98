"""Who is kept out when a mandate pays for less than the demand, and why — on 6 April 2021 and in general."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.planning.budget import plan_month
from capacity.planning.report import plan_shortfalls
from capacity.planning.shortfall import admit, closure_mask
from capacity.policy.mandates.model import Quota, ShortfallPolicy, TimeRange
from capacity.policy.topology import PROFILES

E, T, P = (PROFILES.index(p) for p in ("eleves", "enseignants", "parents"))


def one_day(demand: list[list[float]], capacity: list[float], policy: ShortfallPolicy, minutes: list[int]):
    d = np.array(demand, dtype=float)
    c = np.array(capacity, dtype=float)
    m = np.array(minutes)
    return admit(d, c, policy, closure_mask(policy, m), np.zeros(len(capacity), dtype=np.int64))


def test_teachers_and_pupils_come_before_parents():
    demand = [[800.0], [100.0], [300.0]]  # eleves, enseignants, parents
    kept, closed, capped, short = one_day(demand, [1000.0], ShortfallPolicy(), [8 * 60])
    assert short.all() and not closed.any() and not capped.any()
    assert kept[E, 0] == 0 and kept[T, 0] == 0 and kept[P, 0] == 200


def test_within_a_group_the_cut_is_pro_rata_of_demand():
    demand = [[900.0], [100.0], [0.0]]
    kept, *_ = one_day(demand, [500.0], ShortfallPolicy(), [8 * 60])
    assert np.isclose(kept[E, 0], 450) and np.isclose(kept[T, 0], 50)


def test_parents_closed_all_day_in_their_window_once_the_day_is_short():
    policy = ShortfallPolicy(quotas={"parents": Quota(closed=(TimeRange.parse("07:30-17:30"),))})
    minutes = [7 * 60, 8 * 60, 12 * 60, 18 * 60]
    demand = [[900, 100, 100, 100], [50, 10, 10, 10], [200, 50, 50, 50]]
    kept, closed, _, short = one_day(demand, [1000, 1000, 1000, 1000], policy, minutes)
    assert short.all()  # the 7:00 rush is short, so the day is
    assert kept[P].tolist() == [150, 50, 50, 0]  # 7:00 by capacity; 8:00 and 12:00 closed; 18:00 open again
    assert closed[P].tolist() == [False, True, True, False]


def test_no_closure_on_a_day_the_forecast_does_not_see_short():
    policy = ShortfallPolicy(quotas={"parents": Quota(closed=(TimeRange.parse("07:30-17:30"),))})
    kept, closed, _, short = one_day([[10, 10], [1, 1], [5, 5]], [1000, 1000], policy, [8 * 60, 12 * 60])
    assert not short.any() and not closed.any() and not kept.any()


def test_a_share_cap_leaves_room_for_the_next_group():
    policy = ShortfallPolicy(order=(("parents",), ("eleves",)), quotas={"parents": Quota(max_share=0.1)})
    kept, _, capped, _ = one_day([[2000.0], [0.0], [500.0]], [1000.0], policy, [8 * 60])
    assert capped[P, 0] and kept[P, 0] == 400 and kept[E, 0] == 1100


@settings(max_examples=200)
@given(
    demand=st.lists(st.lists(st.floats(min_value=0, max_value=1e5), min_size=3, max_size=3), min_size=1, max_size=6),
    capacity=st.lists(st.one_of(st.floats(min_value=0, max_value=2e5), st.just(float("inf"))), min_size=6, max_size=6),
    share=st.one_of(st.none(), st.floats(min_value=0.01, max_value=1)),
    order=st.sampled_from([(("enseignants", "eleves"), ("parents",)), (("parents",),), (("eleves", "parents"),)]),
)
def test_admission_never_exceeds_capacity_nor_keeps_out_when_there_is_room(demand, capacity, share, order):
    n = len(demand)
    d = np.array(demand, dtype=float).T  # [profile, slot]
    c = np.array(capacity[:n])
    quotas = {"parents": Quota(max_share=share)} if share else {}
    policy = ShortfallPolicy(order=order, quotas=quotas)
    kept, _, _, short = admit(d, c, policy, np.zeros_like(d, dtype=bool), np.zeros(n, dtype=np.int64))
    assert short[0] == (d.sum(axis=0) > c + 1e-6).any()
    admitted = d - kept
    assert (kept >= -1e-6).all() and (kept <= d + 1e-6).all()
    fits = d.sum(axis=0) <= c + 1e-6
    assert np.allclose(kept[:, fits], 0)
    assert (admitted.sum(axis=0)[~fits] <= c[~fits] + 1e-6).all()
    if share:
        assert (admitted[P][~fits] <= share * c[~fits] + 1e-6).all()


def test_6_april_2021_who_falls_short_by_how_much_and_why(shipped, calendar, rates):
    """The shipped mandates on the first day of distance learning: the report the issue asks for."""
    month = plan_month(date(2021, 4, 1), 3600, shipped, calendar, rates)
    items = {(s["plaque"], s["collectivite"]): s for s in plan_shortfalls(month.day(date(2021, 4, 6)))}
    # plaques that fall short, and the funders whose part does
    assert {p for p, _ in items} == {"grand-est", "seine-maritime"}
    region = items[("grand-est", "region-grand-est")]
    assert region["peak_kept_out"] > 5000 and region["at"].startswith("2021-04-06T08:00")
    assert {c["reason"] for c in region["causes"]} == {"ceiling:region-grand-est"}
    assert {(q["profile"], q["kind"]) for q in region["quotas"]} >= {("parents", "fermeture")}
    assert sum(region["kept_out_at_peak"].values()) == region["peak_kept_out"]
    # a budget voted at the tightest: the cut comes from the budget, not the ceiling
    for plaque, mid in (("grand-est", "departement-54"), ("seine-maritime", "departement-76")):
        entry = items[(plaque, mid)]
        assert {c["reason"] for c in entry["causes"]} == {f"budget:{mid}"}
        assert entry["peak_kept_out"] > 1000
    # pupils and teachers lose less than their share: parents are admitted last
    for entry in items.values():
        k = entry["kept_out_at_peak"]
        assert k["enseignants"] <= k["eleves"]
    # the same day is fine on plaques whose mandates pay for the demand
    for plaque in ("auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte"):
        assert not any(p == plaque for p, _ in items)
