"""The shipped prior reproduces the public figures it claims to (calendar-facts.md §4, §6)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from capacity.common.timegrid import PARIS
from capacity.planning.demand import forecast_day
from capacity.planning.kernel import segment_infos


def day_users(policies, calendar, rates, plaque_id: str, day: date, step_s: int = 300):
    plaque = policies.topology.plaque(plaque_id)
    return forecast_day(rates, plaque, day, segment_infos(calendar, plaque, day), step_s)


def accounts(policies, plaque_id: str) -> float:
    return float(policies.topology.plaque(plaque_id).population_matrix().sum())


PLAQUES = ["grand-est", "auvergne-rhone-alpes", "occitanie", "bourgogne-franche-comte", "seine-maritime"]


@pytest.mark.parametrize("plaque", PLAQUES)
def test_worst_peak_is_about_a_quarter_of_accounts(policies, calendar, rates, plaque):
    # Toulouse rectorat memo: ENTs sized for ~25 % of users at once, and 6 Apr 2021 hit that ceiling.
    fc = day_users(policies, calendar, rates, plaque, date(2021, 4, 6))
    share = fc.users.max() / accounts(policies, plaque)
    assert 0.18 <= share <= 0.30


@pytest.mark.parametrize("plaque", PLAQUES)
def test_first_distance_morning_is_5_to_10_times_a_normal_morning(policies, calendar, rates, plaque):
    first = day_users(policies, calendar, rates, plaque, date(2021, 4, 6)).users.max()
    # A normal Tuesday in class, before COVID (in March 2021 the lycées were already in demi-jauge).
    normal = day_users(policies, calendar, rates, plaque, date(2019, 11, 19)).users.max()
    assert 5 <= first / normal <= 10


@pytest.mark.parametrize("plaque", PLAQUES)
def test_holidays_carry_10_to_20_percent_of_term_load(policies, calendar, rates, plaque):
    holiday = day_users(policies, calendar, rates, plaque, date(2021, 4, 20)).users.mean()
    term = day_users(policies, calendar, rates, plaque, date(2019, 11, 19)).users.mean()
    assert 0.10 <= holiday / term <= 0.20


def test_school_day_has_a_7_8h_rush_and_an_evening_homework_peak(policies, calendar, rates):
    fc = day_users(policies, calendar, rates, "grand-est", date(2021, 3, 16))
    hours = np.array([s.hour + s.minute / 60 for s in fc.grid.starts])
    peak_h = hours[fc.users.argmax()]
    assert 7.0 <= peak_h <= 8.25
    evening = fc.users[(hours >= 17) & (hours < 21)]
    afternoon = fc.users[(hours >= 14) & (hours < 16)]
    assert evening.max() > afternoon.max() * 1.3
    assert fc.users[hours >= 23].max() < evening.max() / 3


def test_wednesday_afternoon_is_lower_than_tuesday_afternoon(policies, calendar, rates):
    tue = day_users(policies, calendar, rates, "grand-est", date(2021, 3, 16))
    wed = day_users(policies, calendar, rates, "grand-est", date(2021, 3, 17))
    hours = np.array([s.hour + s.minute / 60 for s in tue.grid.starts])
    window = (hours >= 13) & (hours < 15)
    assert wed.users[window].mean() < 0.8 * tue.users[window].mean()


def test_distance_learning_rush_is_narrow_and_around_8h(policies, calendar, rates):
    fc = day_users(policies, calendar, rates, "occitanie", date(2021, 4, 7))
    hours = np.array([s.hour + s.minute / 60 for s in fc.grid.starts])
    assert 7.75 <= hours[fc.users.argmax()] <= 8.25
    holiday = day_users(policies, calendar, rates, "occitanie", date(2021, 4, 20))
    hh = np.array([s.hour + s.minute / 60 for s in holiday.grid.starts])
    assert not 6.5 <= hh[holiday.users.argmax()] <= 9.5  # no rush in holidays


def test_sunday_evening_is_busier_than_saturday_evening(policies, calendar, rates):
    sat = day_users(policies, calendar, rates, "grand-est", date(2021, 3, 13)).users
    sun = day_users(policies, calendar, rates, "grand-est", date(2021, 3, 14)).users
    assert sun[-60:-24].max() > 1.5 * sat[-60:-24].max()


@pytest.mark.parametrize(("day", "slots"), [(date(2021, 3, 28), 23), (date(2021, 10, 31), 25), (date(2021, 3, 27), 24)])
def test_dst_days_have_23_or_25_hourly_slots(policies, calendar, rates, day, slots):
    fc = day_users(policies, calendar, rates, "grand-est", day, 3600)
    assert len(fc.users) == slots
    assert fc.grid.starts[0] == datetime(day.year, day.month, day.day, tzinfo=PARIS)
    assert len({s.astimezone(PARIS).utcoffset() for s in fc.grid.starts}) == (1 if slots == 24 else 2)


def test_hourly_slots_hold_the_peak_of_the_hour(policies, calendar, rates):
    fine = day_users(policies, calendar, rates, "grand-est", date(2021, 4, 6), 300)
    hourly = day_users(policies, calendar, rates, "grand-est", date(2021, 4, 6), 3600)
    assert hourly.users.max() == pytest.approx(fine.users.max())
    assert hourly.users[7] == pytest.approx(fine.users[7 * 12 : 8 * 12].max())
