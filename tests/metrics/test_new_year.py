"""A summer rentrée starts a new school year of accounts: a forecast for the new year made with a level
read mostly on the old one says so in its band, until most of the level's readings are the new year's."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.cli.fit_cmd import fit_table
from capacity.common.errors import ConfigError
from capacity.learning import pooling
from capacity.learning.history import History
from capacity.learning.levels import level_ratios, read_year, reads_new_year, subset, summer_breaks, trailing_level
from capacity.learning.model_file import load_model, save_model
from capacity.learning.pipeline import fit_model, fit_report, prepare
from capacity.learning.synth import SynthOptions
from capacity.learning.synth_independent import generate
from capacity.planning.demand import BAND_Z, NEW_YEAR_ERROR, default_rates, forecast_day
from capacity.planning.kernel import segment_infos

P = STATE_INDEX[DayState.PRESENTIEL]


def weekends(n_days: int, value: float, start: int = 0) -> np.ndarray:
    """Ratios [1 profile, day]: `value` on every 6th and 7th day from `start`, NaN elsewhere."""
    out = np.full((1, n_days), np.nan)
    days = np.arange(start, n_days)
    out[0, days[(days - start) % 7 >= 5]] = value
    return out


def test_the_level_reads_the_new_year_once_most_of_its_window_does():
    ratios = np.full((1, 160), 1.0)  # summer holidays: a reading every day until the rentrée on day 100
    ratios[:, 100:] = weekends(160, 0.8)[:, 100:]
    starts = np.array([100])
    assert reads_new_year(starts, ratios, 100, 35)  # the summer is the year it belongs to
    assert not reads_new_year(starts, ratios, 115, 35)  # 4 readings of the new year against 20 of August
    flips = next(c for c in range(101, 160) if reads_new_year(starts, ratios, c, 35))
    assert trailing_level(ratios, flips, 35)[0] == pytest.approx(0.8)  # its median is the new year's
    assert trailing_level(ratios, flips - 1, 35)[0] > 0.85  # still half the old year
    assert reads_new_year(np.zeros(0, dtype=np.int64), ratios, 115, 35)  # no rentrée in the data


def test_the_summer_break_never_sets_the_level():
    """Ten class weeks (weekends at 1.0), a 9-week summer (every day at 0.7: families away), then class
    weeks whose weekends read 0.9: in August the level is the last weekends before the break, not the
    summer; in September it moves to the new year as its weekends come, and a two-week break stays a
    reading like any other."""
    W, V = STATE_INDEX[DayState.WEEKEND], STATE_INDEX[DayState.VACANCES]
    week = [P] * 5 + [W] * 2
    dominant = np.array(week * 8 + [V] * 14 + week * 2 + [V] * 63 + week * 6, dtype=np.int64)
    start = 8 * 7 + 14 + 14 + 63  # the rentrée
    assert summer_breaks(dominant) == [(start - 63 - 2, start)]  # the weekend before joins the break
    ratios = np.where(np.isin(dominant, [W, V]), 1.0, np.nan)[None, :]
    ratios[0, start - 63 : start] = 0.7
    ratios[0, start:] = np.where(dominant[start:] == W, 0.9, np.nan)
    masked = ratios.copy()
    masked[:, start - 65 : start] = np.nan
    august = start - 10
    assert trailing_level(ratios, august, 35)[0] == pytest.approx(0.7)  # what a summer reading would say
    assert trailing_level(masked, august, 35)[0] == pytest.approx(1.0)
    starts = np.array([start])
    assert not reads_new_year(starts, masked, start + 7, 35)  # one weekend of the new year: 2 of 8 readings
    assert trailing_level(masked, start + 7, 35)[0] == pytest.approx(1.0)
    flips = next(c for c in range(start + 1, start + 42) if reads_new_year(starts, masked, c, 35))
    assert flips <= start + 21 and trailing_level(masked, flips, 35)[0] == pytest.approx(0.9)


def test_a_profile_without_data_does_not_keep_the_level_in_the_old_year():
    ratios = np.vstack([weekends(200, 1.0), np.full((1, 200), np.nan)])
    assert reads_new_year(np.array([90]), ratios, 199, 35)


def test_the_school_year_a_level_was_read_on():
    days = [date(2019, 9, 2) + timedelta(days=i) for i in range(400)]
    starts = np.array([0, (date(2020, 9, 1) - days[0]).days])
    at = {d: (d - days[0]).days + 1 for d in (date(2020, 8, 25), date(2020, 9, 3), date(2020, 9, 7))}
    assert read_year(days, starts, at[date(2020, 8, 25)], True) == 2019
    assert read_year(days, starts, at[date(2020, 9, 3)], False) == 2019  # no weekend of the new year yet
    assert read_year(days, starts, at[date(2020, 9, 7)], True) == 2020
    spring = [date(2021, 1, 4) + timedelta(days=i) for i in range(200)]  # no rentrée in the data
    assert read_year(spring, np.zeros(0, dtype=np.int64), 87, True) == 2020  # to 2021-03-31
    assert read_year(spring, np.zeros(0, dtype=np.int64), 189, True) == 2020  # to 2021-07-11
    summer = [date(2020, 6, 1) + timedelta(days=i) for i in range(90)]
    assert read_year(summer, np.zeros(0, dtype=np.int64), 85, True) == 2019  # to 2020-08-24: the year ending


def test_a_day_of_a_later_school_year_than_the_level_widens_its_band():
    rates = replace(default_rates(), level_year=2019)
    states, flags = [P], [[False, False]]
    base = rates.day_error(states, flags)
    assert rates.day_error(states, flags, date(2020, 6, 15)) == base
    assert rates.day_error(states, flags, date(2020, 9, 3)) == pytest.approx(np.hypot(base, NEW_YEAR_ERROR))
    assert replace(rates, level_year=None).day_error(states, flags, date(2020, 9, 3)) == base


@pytest.fixture(scope="module")
def summer(calendar, policies):
    """Independent history of seine-maritime (collèges), June to mid-October 2020: its accounts reset at
    the rentrée (synth_independent._accounts: 1.04 in June, 0.84 × 1.07 on 1 September)."""
    plaque = policies.topology.plaque("seine-maritime")
    first, last = date(2020, 6, 1), date(2020, 10, 18)
    syn = generate(calendar, [plaque], first, last, SynthOptions(step_s=900, metrics=("sessions",)))
    return plaque, syn.history()


def fitted_to(calendar, plaque, history, last):
    n = (last - date(2020, 6, 1)).days + 1
    cut = replace(history, n=n * 96, sessions={k: v[..., : n * 96] for k, v in history.sessions.items()})
    prepared = prepare(calendar, [plaque], cut, date(2020, 6, 1), last)
    return fit_model(prepared, History(0, 900, 1, {}), [plaque], default_rates(), {})


def test_after_the_rentree_the_band_knows_the_level_is_last_year_s_until_it_reads_the_new_one(
    calendar, summer, tmp_path
):
    plaque, history = summer
    fits = [fitted_to(calendar, plaque, history, date(2020, m, d)) for m, d in ((8, 25), (9, 14), (10, 12))]
    before, during, after = (model for model, _ in fits)  # the summer; 2 weekends against August; mostly September
    years = [m.plaques[plaque.id].level_year for m in (before, during, after)]
    assert years == [2019, 2019, 2020]

    day = date(2020, 10, 13)
    infos = segment_infos(calendar, plaque, day)

    def band(model):
        f = forecast_day(model.rates_for(plaque.id), plaque, day, infos, 300)
        return float(f.high.max() / f.users.max() - 1)

    for stale in (before, during):  # the old year's level says so
        assert band(stale) > band(after) + 0.5 * BAND_Z * NEW_YEAR_ERROR
    path = tmp_path / "m.json"
    save_model(before, path)
    assert load_model(path).plaques[plaque.id].level_year == 2019
    assert band(load_model(path)) == pytest.approx(band(before), rel=1e-4)
    path.write_text(path.read_text().replace('"level_year": 2019', '"level_year": "2019-2020"'))
    with pytest.raises(ConfigError, match="level_year: expected a year"):
        load_model(path)
    tables = [fit_table(fit_report(model, fit, History(0, 900, 1, {}))) for model, fit in fits]
    assert "levels read on school year 2019-2020 (every fitted plaque)" in tables[0]
    assert all("bands of later days are ±20% wider" in t for t in tables[:2])
    assert "school year 2020-2021" in tables[2] and "warning" not in tables[2]
    assert "own day shape, largest bend from the shared curve:" in tables[2]  # learning/shape.py, said
    model, fit = fits[2]
    c = fit.recent_corrections[plaque.id]
    assert c.days > 0 and c.state == P  # the correction inside the factors (recent.py), and what it read
    assert fit.factors[plaque.id][P] == pytest.approx(fit.base_factors[plaque.id][P] * np.exp(c.log))
    report = fit_report(model, fit, History(0, 900, 1, {}))["plaques"][plaque.id]["recent_correction"]
    assert report == {"factor": round(float(np.exp(c.log)), 3), "days": c.days, "state": "presentiel"}
    assert f"{plaque.id} {np.exp(c.log) - 1:+.0%} ({c.days} presentiel days)" in tables[2]


def test_no_reading_of_the_level_falls_in_the_summer_break(calendar, summer):
    plaque, history = summer
    prepared = prepare(calendar, [plaque], history, date(2020, 6, 1), date(2020, 10, 18))
    frame = prepared.frame
    ratios = level_ratios(
        frame.plaques[plaque.id], prepared.curves[plaque.id], default_rates(), frame.weekday, min_coverage=0.6
    )
    read = {frame.days[d] for d in np.flatnonzero(np.isfinite(ratios).any(axis=0))}
    assert any(d.month == 6 for d in read) and any(d.month == 10 for d in read)  # weekends on either side
    assert not any(date(2020, 7, 4) <= d <= date(2020, 8, 31) for d in read)
    since = (date(2020, 7, 15) - date(2020, 6, 1)).days  # data that starts in the summer: nothing better
    late = level_ratios(
        subset(frame.plaques[plaque.id], np.arange(since, len(frame.days))),
        prepared.curves[plaque.id][:, since:],
        default_rates(),
        frame.weekday[since:],
        min_coverage=0.6,
    )
    assert np.isfinite(late[:, : (date(2020, 8, 31) - date(2020, 7, 15)).days]).any()


def test_the_rentree_after_the_summer_has_its_own_band():
    """Learnt from one date a year, the September rentrée's surge is pooled towards the other rentrées';
    what pooling moved widens its band (never narrower than any rentrée's), and a model file from before
    that row keeps the rentrée's band."""
    seen = pooling.extra_errors({(0, P): 12, (2, P): 1}, {(0, P): 0.05, (2, P): 0.3}, default_rates(), np.ones(6, bool))
    never = pooling.extra_errors({(0, P): 12}, {(0, P): 0.05}, default_rates(), np.ones(6, bool))
    assert seen[3, P] == pytest.approx(0.3) and never[3, P] == pytest.approx(0.05)
    rates = replace(default_rates(), extra_error=seen)
    rentree = [[True, False]]
    base = float(rates.relative_error[1])
    assert rates.day_error([P], rentree, date(2020, 9, 1)) == pytest.approx(np.hypot(base, 0.3))
    assert rates.day_error([P], rentree, date(2020, 11, 2)) == pytest.approx(np.hypot(base, 0.05))
    old_file = replace(rates, extra_error=seen[:3])
    assert old_file.day_error([P], rentree, date(2020, 9, 1)) == pytest.approx(np.hypot(base, 0.05))
