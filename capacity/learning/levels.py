"""The per-plaque level: how many of a plaque's accounts behave like the shared rates say, over time.

Measured only on reference days (weekends and holidays: every plaque has many, every year, and their
rates are well known), as observed / predicted users. Rare states (distance learning) never set the
level, or it would silently absorb what their rates should learn. The level drifts slowly (accounts
activated over the year), so forecasts use the median of the last weeks before their cutoff.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.learning.days import PlaqueDays, expected
from capacity.planning.demand import UsageRates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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
