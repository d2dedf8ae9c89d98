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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.common.arrays import FloatArray, IntArray
from capacity.learning.days import PlaqueDays, expected
from capacity.planning.demand import UsageRates, school_year

REFERENCE_STATES = (DayState.WEEKEND, DayState.VACANCES)
REF_INDEX = np.array([STATE_INDEX[s] for s in REFERENCE_STATES], dtype=np.int64)


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
    return out


def year_starts(pd: PlaqueDays) -> IntArray:
    """Day indices of the summer rentrées in `pd`: the first day flagged rentrée after each summer break."""
    summer = np.zeros(pd.state.shape[0], dtype=bool) if pd.summer is None else pd.summer
    days = np.flatnonzero(pd.flags[:, :, 0].any(axis=1) & summer)
    if days.size == 0:
        return days
    return np.asarray(days[np.diff(days, prepend=-(10**6)) > 60], dtype=np.int64)  # one per summer


def reads_new_year(starts: IntArray, ratios: FloatArray, cutoff: int, window_days: int) -> bool:
    """Whether the level at `cutoff` reads mostly the school year of the day before `cutoff`: more than half
    of the window's readings, for every profile with data, after the last summer rentrée (`year_starts`)."""
    past = starts[starts < cutoff]
    if past.size == 0:
        return True
    lo = max(0, cutoff - window_days)
    total = np.isfinite(ratios[:, lo:cutoff]).sum(axis=1)
    new = np.isfinite(ratios[:, max(lo, int(past[-1])) : cutoff]).sum(axis=1)
    return bool((2 * new[total > 0] > total[total > 0]).all())


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


def trailing_level(ratios: FloatArray, cutoff: int, window_days: int, min_days: int = 3) -> FloatArray:
    """Level per profile at day `cutoff`: median ratio over reference days in [cutoff - window, cutoff).

    Falls back to the last `min_days` reference days before the window, then to 1 (no information).
    """
    out = np.ones(ratios.shape[0])
    for q in range(ratios.shape[0]):
        past = ratios[q, :cutoff]
        recent = past[max(0, cutoff - window_days) :]
        vals = recent[np.isfinite(recent)]
        if vals.size < min_days:
            earlier = past[np.isfinite(past)]
            vals = earlier[-min_days:]
        if vals.size:
            out[q] = float(np.median(vals))
    return out
