"""The fitter on data made from known rates: it recovers them, shares them across plaques, and shrugs off
gaps, NaN and spikes. (The synthetic ENT, made from a different model, is tested in test_accuracy.py.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from capacity.calendar import SchoolCalendar
from capacity.calendar.types import STATE_INDEX, DayState
from capacity.learning.calibrate import scaled
from capacity.learning.days import DayFrame, compose, expected
from capacity.learning.fit import fit_rates
from capacity.learning.levels import subset
from capacity.planning.demand import UsageRates, default_rates
from capacity.policy.bundle import Policies

FIRST, LAST = date(2019, 9, 2), date(2019, 12, 20)
CUTOFF = date(2019, 12, 2)  # fit on data before; forecast after
LEVELS = {"occitanie": 1.15, "seine-maritime": 0.85}
DIST = STATE_INDEX[DayState.DISTANCIEL]
OVERLAY = """
events:
  - id: test-distance-occitanie
    name: "Test: lycées of zone C at a distance for three weeks"
    from: 2019-11-12
    to: 2019-11-29
    state: distanciel
    scope: {zones: [C], levels: [lycee]}
  - id: test-distance-76
    name: "Test: collèges of Seine-Maritime at a distance (never seen there before)"
    from: 2019-12-09
    to: 2019-12-13
    state: distanciel
    scope: {departements: ["76"], levels: [college]}
"""


def truth_rates() -> UsageRates:
    """The prior, except distance learning 30 % busier than it believes: a fallback would show."""
    prior = default_rates()
    rates = prior.rates.copy()
    rates[:, DIST] *= 1.3
    return replace(prior, rates=rates, source="truth")


def observe(frame: DayFrame, truth: UsageRates, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    curves = {}
    for pid, pd in frame.plaques.items():
        y = expected(truth, pd, frame.weekday) * LEVELS[pid]
        curves[pid] = y * np.exp(rng.normal(0, 0.03, y.shape))
    return curves


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, policies: Policies) -> tuple[DayFrame, dict[str, np.ndarray]]:
    overlay = tmp_path_factory.mktemp("events") / "test.yaml"
    overlay.write_text(OVERLAY, encoding="utf-8")
    calendar = SchoolCalendar.load([Path(overlay)])
    plaques = [policies.topology.plaque(p) for p in LEVELS]
    frame = compose(calendar, plaques, FIRST, LAST)
    return frame, observe(frame, truth_rates())


def forecast_peak(
    frame: DayFrame, fit_rates_: UsageRates, factors: np.ndarray, level: np.ndarray, pid: str, day: date
) -> float:
    d = frame.index(day)
    pd = subset(frame.plaques[pid], np.array([d]))
    users = expected(scaled(fit_rates_, factors), pd, frame.weekday[d : d + 1])[:, 0] * level[:, None]
    return float(users.sum(axis=0).max())


def truth_peak(frame: DayFrame, pid: str, day: date) -> float:
    d = frame.index(day)
    pd = subset(frame.plaques[pid], np.array([d]))
    return float((expected(truth_rates(), pd, frame.weekday[d : d + 1])[:, 0] * LEVELS[pid]).sum(axis=0).max())


def test_a_state_never_seen_on_a_plaque_is_forecast_from_the_others(setup):
    frame, curves = setup
    cut = frame.index(CUTOFF)
    sm = frame.plaques["seine-maritime"]
    assert not (sm.state[:cut] == DIST).any(), "the test needs Seine-Maritime never at a distance before the cutoff"
    assert (frame.plaques["occitanie"].state[:cut] == DIST).any()

    fit = fit_rates(frame, {p: c[:, :cut] for p, c in curves.items()}, default_rates(), upto=cut)
    day = date(2019, 12, 12)  # a Thursday at a distance in 76, not its first day (no surge)
    assert sm.state[frame.index(day)][0] == DIST
    got = forecast_peak(
        frame, fit.rates, fit.factors["seine-maritime"], fit.levels["seine-maritime"], "seine-maritime", day
    )
    want = truth_peak(frame, "seine-maritime", day)
    prior_says = forecast_peak(
        frame, default_rates(), np.ones(6), np.full(3, LEVELS["seine-maritime"]), "seine-maritime", day
    )
    assert abs(got / want - 1) < 0.06, (got, want)
    assert abs(prior_says / want - 1) > 0.15  # the prior alone would miss it: the data did the work


def test_rates_recovered_despite_gaps_nan_and_spikes(setup):
    frame, clean = setup
    noisy = {p: c.copy() for p, c in clean.items()}
    rng = np.random.default_rng(3)
    for c in noisy.values():
        c[:, rng.random(c.shape[1]) < 0.1] = np.nan  # whole days lost
        c[rng.random(c.shape) < 0.02] = np.nan  # scattered NaN samples
        spikes = rng.random(c.shape[1]) < 0.05
        c[:, spikes, 100:110] *= 6  # incident storms on 5 % of days
    cut = frame.index(CUTOFF)
    fitted = {}
    for name, data in (("clean", clean), ("noisy", noisy)):
        fit = fit_rates(frame, {p: c[:, :cut] for p, c in data.items()}, default_rates(), upto=cut)
        fitted[name] = [
            forecast_peak(frame, fit.rates, fit.factors[p], fit.levels[p], p, d)
            for p in LEVELS
            for d in (date(2019, 12, 3), date(2019, 12, 5), date(2019, 12, 7))
        ]
    truth = [truth_peak(frame, p, d) for p in LEVELS for d in (date(2019, 12, 3), date(2019, 12, 5), date(2019, 12, 7))]
    for name, values in fitted.items():
        errors = np.abs(np.array(values) / np.array(truth) - 1)
        assert errors.max() < 0.06, (name, errors)


def test_a_plaque_without_data_keeps_the_prior_and_says_so(setup):
    frame, curves = setup
    fit = fit_rates(frame, {"occitanie": curves["occitanie"]}, default_rates())
    assert fit.fitted_plaques == ("occitanie",)
    assert np.all(fit.levels["seine-maritime"] == 1.0)
    assert any("seine-maritime" in n and "prior" in n for n in fit.notes)


def test_an_all_nan_plaque_is_treated_as_missing(setup):
    frame, curves = setup
    blank = {"occitanie": curves["occitanie"], "seine-maritime": np.full_like(curves["seine-maritime"], np.nan)}
    fit = fit_rates(frame, blank, default_rates())
    assert "seine-maritime" not in fit.fitted_plaques
    assert any("seine-maritime" in n for n in fit.notes)
