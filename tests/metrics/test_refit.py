"""The weekly refit's schedule (pure, property-tested) and its accept/reject decision on synthetic history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.common.timegrid import PARIS
from capacity.learning.refit import (
    ACCEPTED,
    REJECTED,
    RefitOptions,
    RefitSchedule,
    first_refit,
    history_between,
    judge,
    next_refit,
    refit,
    refit_instants,
)
from capacity.learning.synth import SynthOptions, generate
from capacity.planning.demand import default_rates

moments = st.datetimes(min_value=datetime(2018, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
schedules = st.builds(RefitSchedule, weekday=st.integers(0, 6), hour=st.integers(0, 23))


@given(moments, schedules)
def test_next_refit_is_the_first_scheduled_instant_after_now(now: datetime, schedule: RefitSchedule) -> None:
    at = next_refit(now, schedule)
    local = at.astimezone(PARIS)
    assert at > now
    assert at - now <= timedelta(days=7, hours=1)  # one DST hour at most
    assert (local.weekday(), local.hour, local.minute) == (schedule.weekday, schedule.hour, 0)
    # Nothing scheduled in between: asking again from just before it gives it back.
    assert next_refit(at - timedelta(seconds=1), schedule) == at
    assert next_refit(at, schedule) > at


@given(moments, st.dates(date(2018, 1, 1), date(2030, 12, 31)))
def test_a_missed_refit_happens_at_once_otherwise_on_schedule(now: datetime, fitted_through: date) -> None:
    at = first_refit(now, fitted_through)
    due = next_refit(datetime.combine(fitted_through + timedelta(days=1), datetime.min.time(), PARIS)) <= now
    assert at == (now if due else next_refit(now))


def test_without_a_fitted_model_the_first_refit_is_now() -> None:
    now = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
    assert first_refit(now, None) == now


def test_refit_instants_start_the_week_before_and_are_weekly() -> None:
    instants = refit_instants(date(2021, 3, 1), date(2021, 3, 31))  # Monday 1 March
    assert instants[0] == datetime(2021, 2, 28, 3, tzinfo=PARIS)
    assert [i.astimezone(PARIS).day for i in instants] == [28, 7, 14, 21, 28]


@pytest.mark.parametrize(
    ("candidate", "current", "tolerance", "accepted"),
    [
        (0.05, 0.06, 0.0, True),
        (0.06, 0.06, 0.0, True),
        (0.07, 0.06, 0.0, False),
        (0.07, 0.06, 0.25, True),  # within the week-to-week noise of healthy refits
        (0.08, 0.06, 0.25, False),
        (None, 0.06, 0.25, False),  # nothing to validate on: do not trust it
        (0.5, None, 0.25, True),
    ],
)
def test_judge(candidate: float | None, current: float | None, tolerance: float, accepted: bool) -> None:
    assert judge(candidate, current, tolerance)[0] is accepted


DAY = date(2020, 12, 13)  # Sunday: the last five weeks hold no holidays, only weekends set the level
OPTIONS = RefitOptions(history_days=300)


@pytest.fixture(scope="module")
def year(calendar, policies):
    plaques = list(policies.topology.plaques)[:2]
    synth = generate(calendar, plaques, date(2020, 2, 1), DAY, SynthOptions(metrics=("sessions",)))
    return plaques, synth.history()


def test_a_refit_on_good_history_beats_the_prior_and_is_accepted(year, calendar) -> None:
    plaques, history = year
    out = refit(history, calendar, plaques, default_rates(), DAY, OPTIONS)
    assert out.result == ACCEPTED, out.reason
    v = out.validation
    assert v.candidate_error is not None and v.current_error is not None
    assert v.candidate_error < v.current_error and v.days > 0


def test_a_refit_on_broken_history_is_rejected(year, calendar) -> None:
    """A synthetic-monitoring probe logs in thousands of fake users on weekends for the last five weeks:
    the refit measures the plaques' level on those weekends and over-forecasts every class day, so its
    daily-peak error is worse than the model in force and it is rejected."""
    plaques, history = year
    good = refit(history, calendar, plaques, default_rates(), DAY, OPTIONS).model
    t = history.start_s + np.arange(history.n) * history.step_s
    local = [datetime.fromtimestamp(int(s), PARIS) for s in t]
    weekend = np.array([d.weekday() >= 5 and d.date() >= DAY - timedelta(days=35) for d in local])
    broken = {pid: np.where(weekend[None, :], rows * 3.0, rows) for pid, rows in history.sessions.items()}
    out = refit(replace(history, sessions=broken), calendar, plaques, good.rates_by_plaque([p.id for p in plaques]),
                DAY, OPTIONS)  # fmt: skip
    assert out.result == REJECTED, out.reason
    assert out.validation.candidate_error > out.validation.current_error
    assert "kept" in out.reason


def test_history_between_is_exactly_the_window(year) -> None:
    _plaques, history = year
    sub = history_between(history, date(2020, 9, 1), date(2020, 9, 30))
    start = datetime(2020, 9, 1, tzinfo=PARIS).timestamp()
    assert sub.start_s == start
    assert sub.n == 30 * 86400 // history.step_s
    pid = next(iter(history.sessions))
    i0 = int((start - history.start_s) // history.step_s)
    assert np.array_equal(sub.sessions[pid], history.sessions[pid][:, i0 : i0 + sub.n], equal_nan=True)
