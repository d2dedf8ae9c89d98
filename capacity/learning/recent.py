"""What the level misses, measured where it matters: recent class days' daily peaks (a local level).

The level (levels.py) is read on weekends and holidays, and the state factors (calibrate.py) are medians
over the whole history. Both miss what changed lately on class days: a plaque whose class days drifted
away from its weekends (accounts activated by one level only, a holiday/weekend mix the shared rates do
not fit, a random level that persists for days or weeks). The correction is the median log error of the
daily peaks of the ordinary class days of the last `RECENT_DAYS` a forecast may see, shrunk towards 0
(n / (n + K)): a partial pooling of the plaque's recent state towards its long-run calibration.

It reads only days in the plaque's *usual* class state of the last `LATELY_DAYS` (the dominant state of
most of its ordinary class days then): four days of a new confinement, forecast with a distance factor
learnt on another episode, say how wrong that factor was, not where the plaque's level is; read as a
level, they carried that error into the rentrée after the holidays (2021-04-26 on the independent
history: 14 % under-forecast on average instead of 10 %). A plaque in half gauge for months reads its
half-gauge days.

One week, not four: on the validation window (backtest 2020-10-01 to 2021-03-24, both histories, seeds
20200316 and 7) a 7-day correction lowered the ordinary-day MAPE in 3 of 4 cells (-0.35 to -0.46 point,
+0.44 in one) and the event-day MAPE in all 4; 5, 10, 14, 21 and 28 days and other shrinks were measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.learning.calibrate import LaggedPeaks
from capacity.learning.days import CLASS_INDEX
from capacity.learning.robust import nanmedian0

RECENT_DAYS = 7  # calendar days of ordinary class days the correction reads
LATELY_DAYS = 28  # calendar days that say which class state is the plaque's usual one (and pooling's "lately")
RECENT_SHRINK = 4.0  # a correction measured on n days counts n / (n + 4) of its log


@dataclass(frozen=True)
class Correction:
    """A plaque's recent correction and what it read (`capctl fit` shows it: it is inside the factors)."""

    log: float = 0.0
    days: int = 0  # ordinary class days it read
    state: int | None = None  # the usual class state (STATE_INDEX) it read them in; None: no day lately


def measured(peaks: LaggedPeaks, errors: FloatArray, known: int) -> Correction:
    """The correction for a forecast that may read days [0, known): recent ordinary days in the usual state."""
    lately = (peaks.days < known) & (peaks.days >= known - LATELY_DAYS) & ~peaks.event & np.isfinite(errors)
    if not lately.any():
        return Correction()
    usual = int(np.bincount(peaks.state[lately]).argmax())
    vals = errors[lately & (peaks.days >= known - RECENT_DAYS) & (peaks.state == usual)]
    if vals.size == 0:
        return Correction(state=usual)
    n = int(vals.size)
    return Correction(float(np.median(vals)) * n / (n + RECENT_SHRINK), n, usual)


def rolling_corrections(peaks: LaggedPeaks, errors: FloatArray, horizon_days: int) -> FloatArray:
    """The correction each lagged peak's own forecast would have had (from days before its cutoff):
    `measured(peaks, errors, day - horizon_days).log` for every day, vectorised."""
    if peaks.days.size == 0:
        return np.zeros(0)
    known = peaks.days[:, None] - horizon_days  # [target day, 1]
    usable = ~peaks.event & np.isfinite(errors)
    lately = _window(peaks.days, known, LATELY_DAYS) & usable[None, :]  # [target day, source day]
    counts = np.stack([(lately & (peaks.state == s)[None, :]).sum(axis=1) for s in range(peaks.state.max() + 1)])
    usual = counts.argmax(axis=0)  # [target day]: ties go to the lowest state index, as bincount's argmax
    pick = lately & _window(peaks.days, known, RECENT_DAYS) & (peaks.state[None, :] == usual[:, None])
    values = np.where(pick, errors[None, :], np.nan)
    n = pick.sum(axis=1)
    median = nanmedian0(values.T)
    return np.asarray(np.where(n > 0, median * n / (n + RECENT_SHRINK), 0.0), dtype=np.float64)


def _window(days: IntArray, known: IntArray, width: int) -> BoolArray:
    """[target, source]: source days in [known - width, known) of each target."""
    return np.asarray((days[None, :] < known) & (days[None, :] >= known - width), dtype=bool)


def apply(factors: FloatArray, log_correction: float) -> FloatArray:
    """State factors with the correction on class states (weekends and holidays define the level)."""
    out = np.array(factors, copy=True)
    out[CLASS_INDEX] *= np.exp(log_correction)
    return out
