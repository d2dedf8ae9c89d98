"""Array types and small array helpers shared by the planner, sizing, learning and the simulator (one home each)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def forward_max(values: IntArray, window: int) -> IntArray:
    """out[i] = max(values[i .. i + window]) — a forward-looking running maximum (window <= 0: a copy)."""
    if window <= 0 or len(values) == 0:
        return values.copy()
    return np.asarray(forward_argmax(values, window, len(values))[0], dtype=np.int64)


def forward_argmax(values: IntArray, window: int, n: int) -> tuple[IntArray, IntArray]:
    """(m, at) for i < n: m[i] = max(values[i .. i + window]), the tail padded with the last value, and
    at[i] the offset of its first occurrence.

    The planner's pre-warm and the operator's look-ahead both ask "the most needed from now to `window`
    slots ahead". `window` shifted passes over `n` values: at a thousand plaques this is hot, and a
    sliding-window view's per-row max/argmax is several times slower.
    """
    padded = np.concatenate([values, np.full(max(window, 0), values[-1], dtype=values.dtype)])
    best = padded[:n].copy()
    at = np.zeros(n, dtype=np.int64)
    for j in range(1, window + 1):
        shifted = padded[j : j + n]
        better = shifted > best
        best[better] = shifted[better]
        at[better] = j
    return best, at
