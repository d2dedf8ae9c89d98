"""What the level misses, measured where it matters: recent class days' daily peaks (a local level).

The level (levels.py) is read on weekends and holidays, and the state factors (calibrate.py) are medians
over the whole history. Both miss what changed lately on class days: a plaque whose class days drifted
away from its weekends (accounts activated by one level only, a holiday/weekend mix the shared rates do
not fit, a random level that persists for weeks). The correction is the median log error of the daily
peaks of the last `RECENT_DAYS` ordinary class days a forecast may see, shrunk towards 0 (n / (n + K)):
a partial pooling of the plaque's recent state towards its long-run calibration.
"""

from __future__ import annotations

import numpy as np

from capacity.common.arrays import FloatArray
from capacity.learning.calibrate import LaggedPeaks
from capacity.learning.days import CLASS_INDEX
from capacity.learning.robust import nanmedian0

RECENT_DAYS = 28  # calendar days of ordinary class days the correction reads
RECENT_SHRINK = 4.0  # a correction measured on n days counts n / (n + 4) of its log


def correction_at(peaks: LaggedPeaks, errors: FloatArray, known: int) -> float:
    """Log correction for a forecast that may read days [0, known): recent ordinary days only."""
    pick = (peaks.days < known) & (peaks.days >= known - RECENT_DAYS) & ~peaks.event & np.isfinite(errors)
    vals = errors[pick]
    if vals.size == 0:
        return 0.0
    return float(np.median(vals)) * vals.size / (vals.size + RECENT_SHRINK)


def rolling_corrections(peaks: LaggedPeaks, errors: FloatArray, horizon_days: int) -> FloatArray:
    """The correction each lagged peak's own forecast would have had (from days before its cutoff):
    `correction_at(peaks, errors, day - horizon_days)` for every day, vectorised."""
    if peaks.days.size == 0:
        return np.zeros(0)
    known = peaks.days[:, None] - horizon_days
    usable = ~peaks.event & np.isfinite(errors)
    pick = (peaks.days[None, :] < known) & (peaks.days[None, :] >= known - RECENT_DAYS) & usable[None, :]
    values = np.where(pick, errors[None, :], np.nan).T  # [source day, target day]
    n = pick.sum(axis=1)
    median = nanmedian0(values)
    return np.asarray(np.where(n > 0, median * n / (n + RECENT_SHRINK), 0.0), dtype=np.float64)


def apply(factors: FloatArray, log_correction: float) -> FloatArray:
    """State factors with the correction on class states (weekends and holidays define the level)."""
    out = np.array(factors, copy=True)
    out[CLASS_INDEX] *= np.exp(log_correction)
    return out
