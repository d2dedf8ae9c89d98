"""The per-plaque level: how many of a plaque's accounts behave like the shared rates say, over time.

Measured only on reference days (weekends and holidays: every plaque has many, every year, and their
rates are well known), as observed / predicted users. Rare states (distance learning) never set the
level, or it would silently absorb what their rates should learn. The level drifts slowly (accounts
activated over the year), so forecasts use the median of the last weeks before their cutoff.

A summer rentrée starts a new school year of accounts (leavers closed, newcomers activated, a June
exodus of lycéens over): what the summer said is not what September does (the two synthetic histories
jump by -20 % to +25 % there, in opposite directions), and a median over weeks reads the old year for
weeks after it. Until most of its readings are the new year's, the level says so: a forecast for the new
year made with it carries demand.NEW_YEAR_ERROR in its band. (Reading only the new year's days from its
first weekend was tried: one weekend is a noisy level, and the autumn backtest lost up to 0.8 point.)

The summer break itself never sets the level: families away for weeks, lycéens gone since the exams —
eight weeks that say little about the class year on either side of them (unless the data starts in a
summer: a site installed in August has nothing better, and a level of 1 would be the topology's guess).
A level read in the summer (or in the first weeks of September, while its window holds few weekends of
the new year) reads at least MIN_READINGS reference days, reaching back to the last weekends before the
break. Measured on the validation window (backtest 2020-10-01 to 2021-03-24): ordinary-day MAPE lower
in all four cells (two histories, two seeds; -0.04 to -0.37 point); the default history's September
rentrée forecast from August 29 % → 26 % under, the independent one's 1.8 % under → 2.6 % over; the
autumn window (from 2020-09-14) -0.7 point on the default history, +0.7 on the independent one, whose
accounts reset lower each September. Masking the last month of the year too (the June exodus) was
measured and not kept: the default history's rentrée 21 % under, the independent one's 10 % over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.common.arrays import FloatArray, IntArray
from capacity.learning.days import CLASS_INDEX, PlaqueDays, expected
from capacity.planning.demand import UsageRates, school_year

REFERENCE_STATES = (DayState.WEEKEND, DayState.VACANCES)
REF_INDEX = np.array([STATE_INDEX[s] for s in REFERENCE_STATES], dtype=np.int64)
SUMMER_BREAK_DAYS = 35  # days without class in a row: only the summer break lasts this long
MIN_READINGS = 8  # a level reads at least this many reference days (a 35-day window of class weeks has 10)


def cut(pd: PlaqueDays, n_days: int) -> PlaqueDays:
    """The first `n_days` days of `pd`."""
    if pd.base.shape[1] == n_days:
        return pd
    return subset(pd, np.arange(n_days))


def subset(pd: PlaqueDays, idx: IntArray) -> PlaqueDays:
    """Days `idx` of `pd`, in that order."""
    summer = None if pd.summer is None else pd.summer[idx]
    return replace(
        pd, state=pd.state[idx], flags=pd.flags[idx], base=pd.base[:, idx], flagged=pd.flagged[:, idx], summer=summer
    )


def level_ratios(
    pd: PlaqueDays, y: FloatArray, rates: UsageRates, weekday: IntArray, min_coverage: float
) -> FloatArray:
    """Observed / predicted users per [profile, day] on reference days (NaN on other days)."""
    n_days = y.shape[1]
    out = np.full(y.shape[:2], np.nan)
    ref = np.isin(pd.dominant[:n_days], REF_INDEX) & ~pd.event[:n_days]
    days = np.flatnonzero(ref)
    if days.size == 0:
        return out
    obs = y[:, days]
    seen = np.isfinite(obs)
    pred = expected(rates, subset(pd, days), weekday[days])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.nansum(obs, axis=-1) / np.sum(np.where(seen, pred, 0.0), axis=-1)
    good = (seen.mean(axis=-1) >= min_coverage) & np.isfinite(ratio) & (ratio > 0)
    out[:, days] = np.where(good, ratio, np.nan)
    for begin, end in summer_breaks(pd.dominant):
        if begin < n_days and np.isfinite(out[:, :begin]).any():  # data that starts in a summer keeps it
            out[:, begin:end] = np.nan
    return out


def summer_breaks(dominant: IntArray) -> list[tuple[int, int]]:
    """[begin, end) of each run of at least SUMMER_BREAK_DAYS days without class (as far as the calendar of
    `dominant` goes: the days after the data are the calendar's, known in advance)."""
    off = ~np.isin(dominant, CLASS_INDEX)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(np.int8), [0]])))
    runs = zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
    return [(begin, end) for begin, end in runs if end - begin >= SUMMER_BREAK_DAYS]


def year_starts(pd: PlaqueDays) -> IntArray:
    """Day indices of the summer rentrées in `pd`: the first day flagged rentrée after each summer break."""
    summer = np.zeros(pd.state.shape[0], dtype=bool) if pd.summer is None else pd.summer
    days = np.flatnonzero(pd.flags[:, :, 0].any(axis=1) & summer)
    if days.size == 0:
        return days
    return np.asarray(days[np.diff(days, prepend=-(10**6)) > 60], dtype=np.int64)  # one per summer


def reads_new_year(starts: IntArray, ratios: FloatArray, cutoff: int, window_days: int) -> bool:
    """Whether the level at `cutoff` reads mostly the school year of the day before `cutoff`: more than half
    of the readings `trailing_level` uses, for every profile with data, after the last summer rentrée
    (`year_starts`)."""
    past = starts[starts < cutoff]
    if past.size == 0:
        return True
    for row in ratios:
        used = readings(row, cutoff, window_days)
        if used.size and 2 * int((used >= past[-1]).sum()) <= used.size:
            return False
    return True


def read_year(days: Sequence[date], starts: IntArray, cutoff: int, new_year: bool) -> int:
    """School year whose accounts the level at `cutoff` describes (`new_year`: see reads_new_year)."""
    past = starts[starts < cutoff]
    if past.size:
        year = school_year(days[int(past[-1])])
        return year if new_year else year - 1
    last = days[cutoff - 1]  # no rentrée in the data: the summer holidays still belong to the year ending
    return last.year if last.month >= 9 else last.year - 1


def level_school_year(pd: PlaqueDays, days: Sequence[date], ratios: FloatArray, cutoff: int, window_days: int) -> int:
    """School year the level `trailing_level(ratios, cutoff, window_days)` of `pd` (days `days`) was read on."""
    starts = year_starts(pd)
    return read_year(days, starts, cutoff, reads_new_year(starts, ratios, cutoff, window_days))


def readings(row: FloatArray, cutoff: int, window_days: int, least: int = MIN_READINGS) -> IntArray:
    """Days of one profile's reference readings (`row`: ratios [day]) a level at `cutoff` reads: those of
    [cutoff - window, cutoff), or the last `least` before `cutoff` when the window holds fewer."""
    seen = np.flatnonzero(np.isfinite(row[:cutoff]))
    inside = seen[seen >= cutoff - window_days]
    return inside if inside.size >= least else seen[-least:]


def trailing_level(ratios: FloatArray, cutoff: int, window_days: int, least: int = MIN_READINGS) -> FloatArray:
    """Level per profile at day `cutoff`: median ratio over the reference days `readings` picks, 1 with none
    (no information)."""
    out = np.ones(ratios.shape[0])
    for q, row in enumerate(ratios):
        used = readings(row, cutoff, window_days, least)
        if used.size:
            out[q] = float(np.median(row[used]))
    return out
