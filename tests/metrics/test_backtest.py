"""Rolling-origin backtest on synthetic history: no look-ahead (and a look-ahead would be caught), the
forecasts are the ones `plan` makes, and the accuracy targets hold on a held-out stretch of 2021."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from capacity.calendar import SchoolCalendar
from capacity.learning import backtest as bt
from capacity.learning.backtest import BacktestOptions, run_backtest, summarize
from capacity.learning.pipeline import Prepared, fit_model, prepare
from capacity.learning.synth import SynthOptions, generate
from capacity.planning.demand import default_rates, forecast_day
from capacity.planning.kernel import segment_infos
from capacity.policy.bundle import Policies

SMALL = ("occitanie", "seine-maritime")


@pytest.fixture(scope="module")
def autumn(calendar: SchoolCalendar, policies: Policies) -> Prepared:
    """Two plaques, September to mid-December 2020, 15-minute scrapes."""
    plaques = [policies.topology.plaque(p) for p in SMALL]
    first, last = date(2020, 9, 1), date(2020, 12, 18)
    history = generate(calendar, plaques, first, last, SynthOptions(step_s=900, metrics=("sessions",))).history()
    return prepare(calendar, plaques, history, first, last)


def _forecasts(prepared: Prepared, curves: dict[str, np.ndarray]) -> dict[tuple[date, str], tuple[float, date]]:
    result = run_backtest(
        prepared.frame, curves, default_rates(), date(2020, 11, 16), date(2020, 12, 4), BacktestOptions(refit_days=3)
    )
    return {(r.day, r.plaque): (r.forecast_peak, r.cutoff) for r in result.days}


def leaked(prepared: Prepared) -> tuple[set[tuple[date, str]], int]:
    """Forecasts that changed when only data at or after their cutoff changed; and how many forecasts
    with a later cutoff did change (proof that the perturbation is visible when it is allowed)."""
    base = _forecasts(prepared, prepared.curves)
    frame = prepared.frame
    leaks: set[tuple[date, str]] = set()
    visible = 0
    for k in (frame.index(date(2020, 11, 12)), frame.index(date(2020, 11, 19)), frame.index(date(2020, 11, 24))):
        changed = {}
        for pid, c in prepared.curves.items():
            x = c.copy()
            x[:, k:] *= 2.5  # every sample from day k on is different...
            x[:, k, :40] = np.nan  # ...and some are gone
            changed[pid] = x
        after = _forecasts(prepared, changed)
        for key, (peak, cutoff) in base.items():
            moved = not np.isclose(after[key][0], peak, rtol=1e-12)
            if frame.index(cutoff) <= k and moved:
                leaks.add(key)
            visible += int(frame.index(cutoff) > k and moved)
    return leaks, visible


def test_each_day_is_forecast_only_from_data_older_than_its_cutoff(autumn):
    leaks, visible = leaked(autumn)
    assert leaks == set()
    assert visible > 10  # the same perturbation does move forecasts that may see it


def test_a_single_day_of_look_ahead_would_be_caught(autumn, monkeypatch):
    monkeypatch.setattr(bt, "visible_days", lambda cutoff: cutoff + 1)
    leaks, _ = leaked(autumn)
    assert leaks, "a backtest that reads one day past its cutoff must be detected"


def test_cutoff_is_the_horizon_before_the_day(autumn):
    result = run_backtest(
        autumn.frame,
        autumn.curves,
        default_rates(),
        date(2020, 12, 1),
        date(2020, 12, 3),
        BacktestOptions(horizon_days=5),
    )
    assert {(r.day - r.cutoff).days for r in result.days} == {5}


def test_backtest_forecasts_are_the_forecasts_plan_makes(autumn, calendar, policies):
    """The vectorised backtest and demand.forecast_day (used by plan and the operator) agree, surges included."""
    plaques = [policies.topology.plaque(p) for p in SMALL]
    history_model, _ = fit_model(autumn, _history_stub(autumn), plaques, default_rates(), {})
    fixed = history_model.rates_by_plaque(list(SMALL))
    days = [date(2020, 11, 2), date(2020, 11, 9), date(2020, 11, 10), date(2020, 11, 14)]  # rentrée, bascule, ...
    result = run_backtest(autumn.frame, autumn.curves, default_rates(), days[0], days[-1], BacktestOptions(), fixed)
    got = {(r.day, r.plaque): r.forecast_peak for r in result.days}
    flagged = 0
    for p in plaques:
        for d in days:
            infos = segment_infos(calendar, p, d)
            flagged += any(i.rentree or i.bascule for i in infos)
            want = float(forecast_day(fixed[p.id], p, d, infos, 300).users.max())
            assert got[(d, p.id)] == pytest.approx(want, rel=1e-9)
    assert flagged >= 2


def _history_stub(prepared: Prepared):  # components are not needed here
    from capacity.learning.history import History

    return History(0, 300, 1, {})


@pytest.mark.parametrize("plaques", [("grand-est", "occitanie")])
def test_accuracy_targets_on_a_held_out_stretch_of_2021(calendar, policies, plaques):
    """Synthetic ENT (not the fitter's model), history from September 2019, scored January-May 2021:
    rentrées after Christmas and the winter holidays, the 6 April distance week, 26 April, 3 May."""
    chosen = [policies.topology.plaque(p) for p in plaques]
    first, last = date(2019, 9, 2), date(2021, 5, 31)
    history = generate(calendar, chosen, first, last, SynthOptions(step_s=900, metrics=("sessions",))).history()
    prepared = prepare(calendar, chosen, history, first, last)
    result = run_backtest(prepared.frame, prepared.curves, default_rates(), date(2021, 1, 4), last)
    summary = summarize(result.days)
    assert summary["event_days"]["days"] >= 8
    assert summary["ordinary_school_days"]["days"] >= 120
    assert summary["ordinary_school_days"]["daily_peak_mape_pct"] <= 10.0, summary
    assert summary["event_days"]["daily_peak_mape_pct"] <= 15.0, summary
