"""Each plaque's own day shape on class days: the shared curve bent towards what the plaque shows.

The rates are shared by all plaques per profile, but a plaque of lycées alone does not live the day as a
plaque of collèges alone (lycéens work later in the evening; collégiens finish earlier): the shared pupils
curve is a mix of both, and each plaque's forecast is bent the wrong way at the shoulders of its peaks.
The day's volume is the state factors' business (calibrate.py); this is its shape only: per profile and
class state, the median over the plaque's recent ordinary class days of observed / predicted per slot,
each day first divided by its own volume ratio, smoothed over half an hour, shrunk towards no correction
by n / (n + SHRINK_DAYS) in log, and rescaled so that it moves no users over a typical day.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from capacity.common.arrays import FloatArray, IntArray
from capacity.learning.days import CLASS_INDEX, PlaqueDays, expected
from capacity.learning.levels import subset
from capacity.learning.robust import moving_average, nanmedian0
from capacity.planning.demand import UsageRates

WINDOW_DAYS = 91  # calendar days of class days read before the cutoff
SHRINK_DAYS = 10.0  # a shape measured on n days counts n / (n + 10) of its log
MIN_DAYS = 5  # fewer days than this: no correction
SMOOTH_SLOTS = 7  # centred moving average over 35 minutes
MOST_LOG = 0.5  # a correction never bends a slot by more than e^±0.5
DOMINANT = 0.8  # a day informs a state's shape when that state holds this share of the plaque's accounts


def plaque_shape(
    pd: PlaqueDays, y: FloatArray, rates: UsageRates, level: FloatArray, weekday: IntArray, upto: int
) -> FloatArray:
    """Multipliers [profile, state, slot] for the plaque's rates (1 where nothing was learnt)."""
    n_q, n_s, n_slots = rates.rates.shape[0], rates.rates.shape[1], rates.rates.shape[-1]
    out = np.ones((n_q, n_s, n_slots))
    lo = max(0, upto - WINDOW_DAYS)
    days = np.arange(lo, upto)
    ordinary = ~pd.event[lo:upto] & (weekday[lo:upto] < 5)
    if not ordinary.any():
        return out
    days = days[ordinary]
    pred = expected(rates, subset(pd, days), weekday[days]) * level[:, days, None]
    obs = y[:, days]
    share = pd.base[:, days] / np.maximum(pd.base[:, days].sum(axis=-1, keepdims=True), 1e-9)  # [q, day, state]
    with np.errstate(invalid="ignore", divide="ignore"):
        volume = np.nansum(obs, axis=-1) / np.sum(np.where(np.isfinite(obs), pred, 0.0), axis=-1)  # [q, day]
        ratio = np.log(obs / (pred * volume[:, :, None]))
    ratio = np.where(np.isfinite(ratio), ratio, np.nan)
    for q in range(n_q):
        for s in CLASS_INDEX:
            pick = share[q, :, s] >= DOMINANT
            n = int(pick.sum())
            if n < MIN_DAYS:
                continue
            curve = moving_average(nanmedian0(ratio[q, pick]), SMOOTH_SLOTS)
            curve = np.clip(np.nan_to_num(curve) * n / (n + SHRINK_DAYS), -MOST_LOG, MOST_LOG)
            typical = np.nanmean(pred[q, pick], axis=0)  # the users of a typical day of that state
            mult = np.exp(curve)
            total = float(np.nansum(typical * mult))
            if total > 0:
                mult *= float(np.nansum(typical)) / total
            out[q, s] = mult
    return out


def shaped(rates: UsageRates, shape: FloatArray | None) -> UsageRates:
    """The rates with a plaque's shape [profile, state, slot] applied on every weekday."""
    if shape is None:
        return rates
    return replace(rates, rates=rates.rates * shape[:, :, None, :])
