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

from capacity.calendar.types import CLASS_STATES, STATE_INDEX, DayState
from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.learning.days import CLASS_INDEX, PlaqueDays, expected
from capacity.learning.levels import level_ratios, subset
from capacity.learning.robust import robust_spread, rolling_nanmedian
from capacity.planning.demand import UsageRates

SHRINK_DAYS = 5.0  # a factor measured on n days counts n / (n + 5) of its log
FACTOR_STATES = tuple(s for s in DayState if s in CLASS_STATES)
PRESENTIEL = STATE_INDEX[DayState.PRESENTIEL]


@dataclass(frozen=True)
class LaggedPeaks:
    """Class days of one plaque with enough data: forecast curves per factor state and actual daily peaks."""

    days: IntArray
    parts: FloatArray  # [day, factor state (FACTOR_STATES order) + the other states, slot], factor 1
    actual: FloatArray
    event: BoolArray
    state: IntArray  # dominant state

    def forecast(self, factors: FloatArray) -> FloatArray:
        """Daily peaks forecast with one factor per state (`factors` [state]) applied to that state's share."""
        weights = np.append(factors[CLASS_INDEX], 1.0)
        return np.asarray((self.parts * weights[None, :, None]).sum(axis=1).max(axis=-1), dtype=np.float64)

    def log_errors(self, factors: FloatArray) -> FloatArray:
        """log(actual / forecast) of each day with `factors` applied (NaN when unknown)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.log(self.actual / self.forecast(factors))
        return np.asarray(np.where(np.isfinite(out), out, np.nan), dtype=np.float64)


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
        none = np.zeros((0, CLASS_INDEX.size + 1, y.shape[-1]))
        return LaggedPeaks(days, none, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))
    level = rolling[:, lag[days]]  # [profile, day]
    sub, wd = subset(pd, days), weekday[days]
    total = (expected(rates, sub, wd) * level[:, :, None]).sum(axis=0)
    parts: list[FloatArray] = []
    for s in CLASS_INDEX:  # expected() is linear in the rates: each factor state's share of the day alone
        only = np.zeros(rates.rates.shape[1])
        only[s] = 1.0
        parts.append((expected(scaled(rates, only), sub, wd) * level[:, :, None]).sum(axis=0))
    parts.append(total - np.sum(np.stack(parts), axis=0))
    actual = np.nanmax(np.nansum(y[:, days], axis=0), axis=-1)
    return LaggedPeaks(days, np.stack(parts, axis=1), actual, pd.event[days], pd.dominant[days])


def state_factors(peaks: LaggedPeaks, n_states: int, iterations: int = 3) -> FloatArray:
    """Factor per state for one plaque (1 for the reference states, which define the level), estimated
    jointly: each state's factor from its days with the other states' factors applied to their shares."""
    out = np.ones(n_states)
    for _ in range(iterations):
        log_ratio = peaks.log_errors(out)
        usable = np.isfinite(log_ratio) & ~peaks.event
        measured: dict[int, float] = {}
        for state in FACTOR_STATES:
            s = STATE_INDEX[state]
            vals = log_ratio[usable & (peaks.state == s)]
            if vals.size:
                total = float(np.log(out[s])) + float(np.median(vals))
                measured[s] = total * vals.size / (vals.size + SHRINK_DAYS)
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
        err = p.log_errors(factors[pid])
        if corrections is not None and pid in corrections:
            err = err - np.where(np.isin(p.state, CLASS_INDEX), corrections[pid], 0.0)
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
