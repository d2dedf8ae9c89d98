"""Issue 11: pooling of rare effects, the recent class-day correction, honest bands (each class apart, wide
for what the history never showed), duplicates that do not silently win, and the planner's rush on the band."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.cli.backtest_cmd import backtest_dict, backtest_table
from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.learning import pooling, recent, synth_independent
from capacity.learning.backtest import BacktestOptions, run_backtest
from capacity.learning.calibrate import SHRINK_DAYS, LaggedPeaks, state_factors
from capacity.learning.fit import fit_rates
from capacity.learning.generators import EXPECTATIONS, GENERATORS
from capacity.learning.pipeline import prepare
from capacity.learning.synth import SynthOptions
from capacity.planning.demand import default_rates, forecast_day
from capacity.planning.kernel import rush_need, segment_infos

D = STATE_INDEX[DayState.DISTANCIEL]
P, H = STATE_INDEX[DayState.PRESENTIEL], STATE_INDEX[DayState.HYBRIDE]


@pytest.fixture(scope="module")
def autumn(calendar, policies):
    """Independent history, two plaques, September to mid-December 2020: never at a distance."""
    plaques = [policies.topology.plaque(p) for p in ("occitanie", "seine-maritime")]
    first, last = date(2020, 9, 1), date(2020, 12, 18)
    syn = synth_independent.generate(calendar, plaques, first, last, SynthOptions(step_s=900, metrics=("sessions",)))
    return plaques, syn, prepare(calendar, plaques, syn.history(), first, last)


def test_a_surge_seen_once_is_pooled_halfway_to_its_parent_and_widens_the_band():
    curve = np.full(288, 2.0)
    pooled, extra = pooling.shrink_surge(curve, 1)
    assert pooled == pytest.approx(np.sqrt(2.0))  # half the log, towards no surge
    assert extra == pytest.approx(0.5 * np.log(2.0))
    parent = np.full(288, 1.5)
    pooled, _ = pooling.shrink_surge(curve, 9, parent)
    assert 1.5 < pooled[0] < 2.0 and pooled[0] == pytest.approx(np.exp(np.log(1.5) + 0.9 * np.log(2 / 1.5)))


def test_an_unseen_state_falls_back_to_its_parents_with_a_wide_band(autumn, calendar):
    plaques, _, prepared = autumn
    fit = fit_rates(prepared.frame, prepared.curves, default_rates())
    assert all(fit.origin[(q, D, w)][0] == "prior" for q in range(3) for w in range(5))
    assert fit.rates.extra_error is not None and fit.rates.extra_error[0, D] >= pooling.UNSEEN_STATE_ERROR
    rates = replace(fit.rates, rates=fit.rates.rates * fit.factors["occitanie"][None, :, None, None])
    p = plaques[0]
    day = date(2021, 4, 8)  # distance learning, not flagged: an ordinary day of a state never seen
    fc = forecast_day(rates, p, day, segment_infos(calendar, p, day), 300)
    assert fc.high.max() >= 1.5 * fc.users.max() and fc.low.max() <= 0.5 * fc.users.max()
    seen = date(2020, 12, 15)
    ordinary = forecast_day(rates, p, seen, segment_infos(calendar, p, seen), 300)
    assert ordinary.high.max() < 1.3 * ordinary.users.max()


def test_recent_correction_follows_recent_class_days_and_is_pooled():
    days = np.arange(100, dtype=np.int64)
    actual = np.where(days >= 70, 1.2, 1.0)  # class days 20 % busier over the last month
    parts = np.zeros((100, 4, 1))
    parts[:, 0] = 1.0  # every day in class, in person: forecast peak 1
    peaks = LaggedPeaks(days, parts, actual, np.zeros(100, dtype=bool), np.zeros(100, dtype=np.int64))
    errors = peaks.log_errors(np.ones(6))
    at = recent.measured(peaks, errors, 100).log
    n = recent.RECENT_DAYS
    assert at == pytest.approx(np.log(1.2) * n / (n + recent.RECENT_SHRINK))
    assert recent.measured(peaks, errors, 60).log == 0.0  # before the drift: nothing to correct
    rolling = recent.rolling_corrections(peaks, errors, 7)
    assert rolling[50] == 0.0 and rolling[99] == pytest.approx(recent.measured(peaks, errors, 92).log)
    factors = recent.apply(np.ones(6), at)
    assert factors[STATE_INDEX[DayState.WEEKEND]] == 1.0 and factors[STATE_INDEX[DayState.PRESENTIEL]] > 1.1


def _peaks(errors: FloatArray, state: IntArray, event: BoolArray | None = None) -> LaggedPeaks:
    """Lagged peaks of consecutive class days whose log errors (factor 1) are `errors`."""
    n = errors.size
    parts = np.zeros((n, 4, 1))
    parts[:, 0] = 1.0
    no_event = np.zeros(n, dtype=bool) if event is None else event
    return LaggedPeaks(np.arange(n, dtype=np.int64), parts, np.exp(errors), no_event, state)


def test_recent_correction_is_not_set_by_a_few_days_in_another_state():
    """Four days of a new confinement, forecast 30 % too high (a distance factor learnt on another episode),
    in a plaque whose in-person days run 10 % above its calibration: the correction reads the in-person
    days (the plaque's level), not the confinement (what its factor got wrong)."""
    n = 60
    state = np.full(n, P, dtype=np.int64)
    state[-4:] = D
    errors = np.full(n, np.log(1.1))
    errors[-4:] = np.log(0.7)
    peaks = _peaks(errors, state)
    at = recent.measured(peaks, peaks.log_errors(np.ones(6)), n).log
    in_person = int((state[-recent.RECENT_DAYS :] == P).sum())
    assert at == pytest.approx(np.log(1.1) * in_person / (in_person + recent.RECENT_SHRINK))
    assert recent.measured(peaks, peaks.log_errors(np.ones(6)), n) == recent.Correction(at, in_person, P)
    state[:] = H  # months in half gauge (a lycée plaque): its half-gauge days are its usual days
    state[-4:] = D
    hybrid = recent.measured(_peaks(errors, state), errors, n).log
    assert hybrid == pytest.approx(at)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from((P, H, D)), st.booleans(), st.floats(-0.5, 0.5)), min_size=1, max_size=80),
    st.integers(0, 10),
)
def test_rolling_corrections_are_each_days_own_correction(days: list[tuple[int, bool, float]], horizon: int) -> None:
    """The vectorised corrections the fit calibrates its bands with are exactly what each day's own
    forecast would have read (`measured` at its cutoff): any mix of states, events and NaN."""
    state = np.array([d[0] for d in days], dtype=np.int64)
    event = np.array([d[1] for d in days], dtype=bool)
    errors = np.array([d[2] for d in days], dtype=np.float64)
    errors[::7] = np.nan  # days whose peak was not measured
    peaks = _peaks(errors, state, event)
    rolling = recent.rolling_corrections(peaks, errors, horizon)
    each = [recent.measured(peaks, errors, int(d) - horizon).log for d in peaks.days]
    np.testing.assert_allclose(rolling, each, rtol=1e-12, atol=1e-15)


def test_state_factors_are_estimated_jointly_on_days_that_mix_states():
    """A plaque whose collèges are in class and lycées in half gauge: the in-person share runs 20 % above
    the shared rates, the hybrid share 10 % below. Each factor is read with the other one applied to its
    share (the forecast applies them so), not as if the other states had factor 1."""
    n = 60
    parts = np.zeros((n, 4, 2))
    parts[:, 0] = [[1.0, 0.2]] * n  # in-person share (morning peak)
    parts[:, 1] = [[0.5, 1.0]] * n  # hybrid share (evening peak)
    parts[:40, 1] = 0.0  # the first 40 days: everyone in class
    state = np.full(n, P, dtype=np.int64)
    state[40:] = H  # hybrid days where the lycées hold most accounts
    truth = np.ones(6)
    truth[P], truth[H] = 1.2, 0.9
    peaks = LaggedPeaks(np.arange(n, dtype=np.int64), parts, np.zeros(n), np.zeros(n, dtype=bool), state)
    peaks = replace(peaks, actual=peaks.forecast(truth))
    factors = state_factors(peaks, 6, iterations=20)
    shrink_p = 40 / (40 + SHRINK_DAYS)
    assert factors[P] == pytest.approx(1.2**shrink_p, rel=1e-6)
    assert factors[H] < 1.0  # read alone (in-person share at factor 1) it came out above 1
    errors = peaks.log_errors(factors)
    assert np.abs(errors[40:]).max() < np.abs(peaks.log_errors(np.ones(6))[40:]).max()


def test_duplicated_series_do_not_move_the_fit(calendar, policies):
    """The independent history runs an HA pair of exporters for six weeks: merged by max (as the default
    `max by` query does), the fitted levels stay where the single exporter puts them."""
    pid = "auvergne-rhone-alpes"
    plaques = [policies.topology.plaque(pid)]
    first, last = date(2020, 11, 2), date(2021, 3, 19)
    syn = synth_independent.generate(calendar, plaques, first, last, SynthOptions(step_s=900, metrics=("sessions",)))
    assert np.isfinite(syn.duplicate[pid]).any()
    single = replace(syn, duplicate={k: np.full_like(v, np.nan) for k, v in syn.duplicate.items()})
    fits = [
        fit_rates(p.frame, p.curves, default_rates())
        for p in (prepare(calendar, plaques, s.history(), first, last) for s in (syn, single))
    ]
    np.testing.assert_allclose(fits[0].levels[pid], fits[1].levels[pid], rtol=0.03)
    again = prepare(calendar, plaques, syn.history(), first, last)
    np.testing.assert_array_equal(again.curves[pid], prepare(
        calendar, plaques, syn.history(), first, last).curves[pid])  # fmt: skip


def test_backtest_reports_coverage_per_class(autumn):
    _, _, prepared = autumn
    result = run_backtest(
        prepared.frame, prepared.curves, default_rates(), date(2020, 10, 26), date(2020, 12, 18), BacktestOptions()
    )
    data = backtest_dict(result, "2020-10-26", "2020-12-18", [])
    s = data["summary"]
    for key in ("band_coverage", "band_coverage_ordinary", "band_coverage_event"):
        assert s[key] is not None and 0 <= s[key] <= 1
    assert all(d["forecast_low"] <= d["forecast_peak"] <= d["forecast_high"] for d in data["days"])
    table = backtest_table(data)
    rows = table.splitlines()[:6]  # title, two header lines, the plaques, all plaques, the band legend
    assert max(len(line) for line in rows) <= 100
    assert table.splitlines()[2].count("band") == 2  # one column per class


def test_rush_is_sized_on_the_band_the_fit_widened(calendar, policies):
    """A surge learnt from one event widens the band of such days, and the rush is sized on that band."""
    p = policies.topology.plaque("grand-est")
    base = default_rates()
    extra = np.zeros((3, len(DayState)))
    extra[2, D] = 0.4  # bascule into distance learning, seen on one date
    wide = replace(base, extra_error=extra)
    day = date(2021, 4, 6)
    infos = segment_infos(calendar, p, day)
    narrow_fc, wide_fc = (forecast_day(r, p, day, infos, 300) for r in (base, wide))
    np.testing.assert_allclose(narrow_fc.users, wide_fc.users)
    assert wide_fc.high.max() > narrow_fc.high.max() * 1.15
    web = next(c for c in p.components if c.name == "web")
    assert (
        rush_need(wide_fc.users, wide_fc.high, web, 300).sum()
        > rush_need(narrow_fc.users, narrow_fc.high, web, 300).sum()
    )


def test_model_file_keeps_the_new_fields_and_a_new_episode_widens_the_band(autumn, tmp_path):
    from capacity.learning.history import History
    from capacity.learning.model_file import load_model, save_model
    from capacity.learning.pipeline import fit_model

    plaques, _, prepared = autumn
    model, _ = fit_model(prepared, History(0, 300, 1, {}), plaques, default_rates(), {})
    assert model.plaques["occitanie"].recent_states == ("hybride",)  # lycées in half gauge since 2020-11-09
    path = tmp_path / "m.json"
    save_model(model, path)
    back = load_model(path)
    assert back.rates.extra_error is not None and back.rates.summer_surge is not None
    np.testing.assert_allclose(back.rates.extra_error, model.rates.extra_error, atol=1e-6)
    np.testing.assert_allclose(back.rates.summer_surge, model.rates.summer_surge, rtol=1e-4)
    assert back.plaques["occitanie"].recent_states == ("hybride",)
    mine = back.rates_for("occitanie").extra_error
    assert mine is not None and mine[0, STATE_INDEX[DayState.PRESENTIEL]] >= pooling.NEW_STATE_ERROR
    assert mine[0, STATE_INDEX[DayState.HYBRIDE]] == 0.0
    assert back.rates.extra_error is not None and back.rates.extra_error[0, STATE_INDEX[DayState.PRESENTIEL]] == 0


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_each_generator_knows_its_own_expectation(calendar, policies, name):
    """The noise floor in bench_forecast is only as honest as this: what the generator expects, given its
    day level exactly, leaves sample and day noise alone (a few %); given the level a week before, it
    misses the day level's random walk too, and is right on average."""
    p = policies.topology.plaque("occitanie")
    first, last = date(2021, 3, 1), date(2021, 3, 28)
    observed = GENERATORS[name](calendar, [p], first, last, SynthOptions(metrics=("sessions",)))
    seen = observed.history().sessions[p.id]

    def log_ratio(known_days: int) -> FloatArray:
        expected = EXPECTATIONS[name](calendar, p, first, last, 20200316, known_days)
        busy = expected > 0.5 * expected.max(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.log(seen / expected)[busy]
        return out[np.isfinite(out)]

    exact, week = log_ratio(0), log_ratio(7)
    assert abs(np.median(exact)) < 0.02 and np.std(exact) < 0.06
    assert abs(np.median(week)) < 0.03 and np.std(week) > 1.15 * np.std(exact)
