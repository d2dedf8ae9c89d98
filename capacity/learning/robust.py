"""Small robust statistics on numpy arrays (NaN = missing), fast enough to run inside backtest loops."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from capacity.common.arrays import FloatArray

#: Scale that makes the median absolute deviation estimate a normal standard deviation.
MAD_TO_STD = 1.4826


def nanmedian0(a: FloatArray) -> FloatArray:
    """Median over axis 0 ignoring NaN (NaN where a column has no value).

    np.nanmedian falls back to a Python loop per column on 2-D input; sorting once is ~50x faster.
    """
    if a.shape[0] == 0:
        return np.full(a.shape[1:], np.nan)
    s = np.sort(a, axis=0)  # NaN sort last
    n = np.sum(~np.isnan(a), axis=0)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    lo_v = np.take_along_axis(s, lo[None, ...], axis=0)[0]
    hi_v = np.take_along_axis(s, hi[None, ...], axis=0)[0]
    out = (lo_v + hi_v) / 2
    return np.asarray(np.where(n > 0, out, np.nan), dtype=np.float64)


def moving_average(values: FloatArray, width: int) -> FloatArray:
    """Centered moving average along the last axis (edges use the available neighbours)."""
    if width <= 1:
        return values.copy()
    kernel = np.ones(width)
    pad = width // 2
    filled = np.where(np.isnan(values), 0.0, values)
    weight = np.where(np.isnan(values), 0.0, 1.0)
    num = np.apply_along_axis(lambda v: np.convolve(np.pad(v, pad), kernel, "valid"), -1, filled)
    den = np.apply_along_axis(lambda v: np.convolve(np.pad(v, pad), kernel, "valid"), -1, weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0, num / np.where(den > 0, den, 1), np.nan), dtype=np.float64)


def robust_spread(log_errors: FloatArray) -> float:
    """Typical size of a relative error from log(actual / forecast): scaled median absolute value.

    Around zero, not around the median, so a systematic bias widens the band as it should.
    """
    finite = log_errors[np.isfinite(log_errors)]
    if finite.size == 0:
        return float("nan")
    return float(MAD_TO_STD * np.median(np.abs(finite)))


def theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Slope and intercept robust to outliers: median of pairwise slopes (small inputs only)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2:
        return float("nan"), float("nan")
    i, j = np.triu_indices(x.size, k=1)
    dx = x[j] - x[i]
    good = dx != 0
    if not good.any():
        return float("nan"), float("nan")
    slope = float(np.median((y[j] - y[i])[good] / dx[good]))
    return slope, float(np.median(y - slope * x))


def rolling_nanmedian(a: FloatArray, window: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Trailing median over the last axis: out[..., i] = median of a[..., i-window+1 .. i] ignoring NaN.

    Also returns how many values each window held (0 → NaN median).
    """
    pad = np.full((*a.shape[:-1], window - 1), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, a], axis=-1), window, axis=-1)
    moved = np.moveaxis(windows, -1, 0)
    counts = np.sum(~np.isnan(moved), axis=0).astype(np.int64)
    return nanmedian0(moved), counts
