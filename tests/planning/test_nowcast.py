"""The nowcast: a morning above the forecast raises the rest of the day, by a bounded, rounded factor, and
nothing else does (a morning below it, a morning half unread, a quiet day, a switched-off setting)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.calendar import SchoolCalendar
from capacity.common.timegrid import BASE_STEP_S, day_grid, local_hours
from capacity.planning.budget import month_budget_levels
from capacity.planning.demand import default_rates
from capacity.planning.nowcast import DEFAULT_MOST, MIN_FORECAST, STEP, WINDOW_H, in_window, morning, tick_too_slow
from capacity.planning.plans import plan_plaques
from capacity.policy.bundle import load_policies

HOURS = np.arange(288) * BASE_STEP_S / 3600  # a 24-hour day of 5-minute slots
FORECAST = np.full(288, 400.0)
NOON = WINDOW_H[1]


def test_a_morning_a_fifth_above_the_forecast_raises_the_rest_by_a_fifth() -> None:
    nc = morning(HOURS, FORECAST, FORECAST * 1.19, NOON)
    assert nc is not None and nc.raises
    assert nc.factor == pytest.approx(1.2) and nc.measured == pytest.approx(1.19)
    assert nc.read == nc.slots == 36  # 9-12 h in 5-minute slots


def test_a_morning_below_the_forecast_keeps_the_plan() -> None:
    nc = morning(HOURS, FORECAST, FORECAST * 0.7, NOON)
    assert nc is not None and not nc.raises and nc.factor == 1.0


def test_a_morning_far_above_is_capped_at_most() -> None:
    nc = morning(HOURS, FORECAST, FORECAST * 3, NOON)
    assert nc is not None and nc.factor == DEFAULT_MOST
    capped = morning(HOURS, FORECAST, FORECAST * 3, NOON, most=1.1)
    assert capped is not None and capped.factor == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("why", "forecast", "read", "now_h", "most"),
    [
        ("the window is not over", FORECAST, FORECAST * 1.5, NOON - 0.1, DEFAULT_MOST),
        ("switched off", FORECAST, FORECAST * 1.5, NOON, 1.0),
        ("a quiet day (night, weekend, holidays)", np.full(288, MIN_FORECAST - 1), np.full(288, 500.0), NOON, 1.3),
        ("most of the morning unread", FORECAST, np.where(HOURS < 10.0, FORECAST * 1.5, np.nan), NOON, 1.3),
    ],
)
def test_no_nowcast_when(why: str, forecast: np.ndarray, read: np.ndarray, now_h: float, most: float) -> None:
    assert morning(HOURS, forecast, read, now_h, most) is None, why


def test_a_few_unread_slots_are_left_out_not_counted_as_zero() -> None:
    read = FORECAST * 1.2
    read[(HOURS >= 9) & (HOURS < 9.5)] = np.nan  # 6 of 36 slots missing: 83 % read
    nc = morning(HOURS, FORECAST, read, NOON)
    assert nc is not None and nc.factor == pytest.approx(1.2) and nc.read == 30


@given(
    level=st.floats(0.0, 5.0),
    noise=st.lists(st.floats(0.5, 1.5), min_size=36, max_size=36),
    most=st.floats(1.0, 2.0),
)
def test_the_factor_is_a_bounded_step_and_grows_with_the_users(level: float, noise: list[float], most: float) -> None:
    read = FORECAST.copy()
    lo, hi = WINDOW_H
    window = (lo <= HOURS) & (hi > HOURS)
    read[window] *= level * np.array(noise)
    nc = morning(HOURS, FORECAST, read, NOON, most)
    if most == 1.0:
        assert nc is None
        return
    assert nc is not None and 1.0 <= nc.factor <= most
    assert nc.factor == pytest.approx(most) or abs(nc.factor / STEP - round(nc.factor / STEP)) < 1e-6
    more = morning(HOURS, FORECAST, np.where(window, read * 1.1, read), NOON, most)
    assert more is not None and more.factor >= nc.factor


def test_a_raised_day_never_plans_fewer_replicas_and_plans_more_for_the_evening() -> None:
    """A plaque's Tuesday in May planned at ×1.3: more replicas at the evening peak, never fewer anywhere."""
    policies, calendar, rates = load_policies(), SchoolCalendar.load([]), default_rates()
    day = date(2021, 5, 4)
    plaque = policies.topology.plaque("grand-est")
    levels = month_budget_levels(day, BASE_STEP_S, policies, calendar, rates)
    base = next(plan_plaques(day, BASE_STEP_S, policies, calendar, rates, levels, [plaque]))
    up = next(plan_plaques(day, BASE_STEP_S, policies, calendar, rates, levels, [plaque], nowcast={plaque.id: 1.3}))
    assert up.forecast.users == pytest.approx(base.forecast.users * 1.3)
    assert up.forecast.high == pytest.approx(base.forecast.high * 1.3)
    evening = np.array([18 <= s.hour < 21 for s in base.forecast.grid.starts])
    for b, u in zip(base.components, up.components, strict=True):
        assert (u.replicas >= b.replicas).all(), b.component.name
    assert any(
        (u.replicas[evening] > b.replicas[evening]).any() for b, u in zip(base.components, up.components, strict=True)
    )


def test_ticks_too_far_apart_are_named_at_start() -> None:
    assert tick_too_slow(60) is None and tick_too_slow(400) is None  # 400 s still reads 75 % of the slots
    slow = tick_too_slow(600)
    assert slow is not None and "50%" in slow and "--tick 400" in slow


def test_the_9_to_12_window_is_read_on_the_clock_on_dst_days() -> None:
    """On the spring-forward day 2 h is skipped and on the fall-back day 2 h comes twice: slot hours follow
    the clock, so 9-12 h is still 36 slots, not shifted by one hour."""
    for day, slots in ((date(2021, 3, 28), 276), (date(2021, 10, 31), 300), (date(2021, 4, 6), 288)):
        hours = local_hours(day_grid(day, BASE_STEP_S).starts)
        assert hours.size == slots
        assert int(in_window(hours).sum()) == 36
        assert hours[0] == 0.0 and hours[-1] == 23 + 55 / 60
