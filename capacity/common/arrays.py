"""Array types and small array helpers shared by the planner, sizing, learning and the simulator (one home each)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def forward_windows(values: IntArray, window: int) -> IntArray:
    """Row i is values[i .. i + window], the tail padded with the last value: a view of shape (n, window + 1).

    The planner's pre-warm and the operator's look-ahead both ask "the most needed from now to `window`
    slots ahead"; their max (and argmax) over axis 1 answer it.
    """
    padded = np.concatenate([values, np.full(window, values[-1], dtype=values.dtype)])
    return np.lib.stride_tricks.sliding_window_view(padded, window + 1)[: len(values)]


def forward_max(values: IntArray, window: int) -> IntArray:
    """out[i] = max(values[i .. i + window]) — a forward-looking running maximum (window <= 0: a copy)."""
    if window <= 0 or len(values) == 0:
        return values.copy()
    return np.asarray(forward_windows(values, window).max(axis=1), dtype=np.int64)
