"""Calibrate forecasts on what capacity is sized for: the daily peak, as known a horizon in advance.

Two things the shared rates and the reference-day level cannot carry:
  * per-plaque state factors: a lycée-only plaque is busier on class days, relative to its weekends,
    than a plaque of collèges; and the peak of a noisy day sits above its typical curve. Each plaque
    gets one factor per class state, the median ratio of actual to forecast daily peaks on its days in
    that state (shrunk towards 1 when they are few). A class state never seen on a plaque borrows the
    plaque's presentiel factor: the plaque's intensity, the other plaques' shape.
  * the relative error of the peak (the uncertainty band), for ordinary days and for event days.

Forecasts here use the level as it was `horizon_days` earlier, as a real forecast would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import CLASS_STATES, STATE_INDEX, DayState
from capacity.learning.days import PlaqueDays, expected
from capacity.learning.levels import level_ratios, subset
from capacity.learning.robust import robust_spread, rolling_nanmedian
from capacity.planning.demand import UsageRates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SHRINK_DAYS = 5.0  # a factor measured on n days counts n / (n + 5) of its log
FACTOR_STATES = tuple(s for s in DayState if s in CLASS_STATES)
PRESENTIEL = STATE_INDEX[DayState.PRESENTIEL]
_CLASS = np.array([STATE_INDEX[s] for s in FACTOR_STATES], dtype=np.int64)


@dataclass(frozen=True)
class LaggedPeaks:
    """Class days of one plaque with enough data: forecast (factor 1) and actual daily peaks."""

    days: IntArray
    forecast: FloatArray
    actual: FloatArray
    event: BoolArray
    state: IntArray  # dominant state


def scaled(rates: UsageRates, factors: FloatArray) -> UsageRates:
    """The shared rates with one plaque's factor per state applied (what that plaque forecasts with)."""
    return replace(rates, rates=rates.rates * factors[None, :, None, None])


def lagged_peaks(
    pd: PlaqueDays,
    y: FloatArray,
    covered: BoolArray,
    rates: UsageRates,
    weekday: IntArray,
    horizon_days: int,
    window_days: int,
    min_coverage: float,
) -> LaggedPeaks:
    n_days = y.shape[1]
    ratios = level_ratios(pd, y, rates, weekday, min_coverage)
    rolling, counts = rolling_nanmedian(ratios, window_days)
    lag = np.arange(n_days) - horizon_days - 1  # last day the level may use
    ok = (lag >= 0) & covered & pd.class_day[:n_days]
    ok[ok] &= (counts[:, lag[ok]] >= 3).all(axis=0)
    days = np.flatnonzero(ok)
    if days.size == 0:
        empty = np.zeros(0)
        return LaggedPeaks(days, empty, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))
    level = rolling[:, lag[days]]  # [profile, day]
    pred = expected(rates, subset(pd, days), weekday[days])
    forecast = (pred * level[:, :, None]).sum(axis=0).max(axis=-1)
    actual = np.nanmax(np.nansum(y[:, days], axis=0), axis=-1)
    return LaggedPeaks(days, forecast, actual, pd.event[days], pd.dominant[days])


def state_factors(peaks: LaggedPeaks, n_states: int) -> FloatArray:
    """Factor per state for one plaque (1 for the reference states, which define the level)."""
    out = np.ones(n_states)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_ratio = np.log(peaks.actual / peaks.forecast)
    usable = np.isfinite(log_ratio) & ~peaks.event
    measured: dict[int, float] = {}
    for state in FACTOR_STATES:
        s = STATE_INDEX[state]
        vals = log_ratio[usable & (peaks.state == s)]
        if vals.size:
            measured[s] = float(np.median(vals)) * vals.size / (vals.size + SHRINK_DAYS)
    for state in FACTOR_STATES:
        s = STATE_INDEX[state]
        out[s] = float(np.exp(measured.get(s, measured.get(PRESENTIEL, 0.0))))
    return out


def relative_error(
    peaks: Mapping[str, LaggedPeaks],
    factors: Mapping[str, FloatArray],
    prior: UsageRates,
    notes: list[str],
    corrections: Mapping[str, FloatArray] | None = None,
) -> FloatArray:
    """Spread of daily-peak errors (factors and each day's own recent correction applied): [ordinary, event]."""
    errors: dict[bool, list[FloatArray]] = {False: [], True: []}
    for pid, p in peaks.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            err = np.log(p.actual / (p.forecast * factors[pid][p.state]))
        if corrections is not None and pid in corrections:
            err = err - np.where(np.isin(p.state, _CLASS), corrections[pid], 0.0)
        errors[False].append(err[~p.event])
        errors[True].append(err[p.event])
    out = np.array(prior.relative_error, copy=True)
    for event, parts in errors.items():
        vals = np.concatenate(parts) if parts else np.zeros(0)
        vals = vals[np.isfinite(vals)]
        if vals.size >= (5 if event else 20):
            out[int(event)] = max(0.02, robust_spread(vals))
        else:
            kind = "event" if event else "ordinary"
            notes.append(f"too few {kind} days ({vals.size}) to measure the forecast error: prior band kept")
    return out
