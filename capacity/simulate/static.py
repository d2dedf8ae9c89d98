"""`static`: provisioned at the mandate ceiling all the time — never short unless the ceiling is, and dear."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def static(ceiling: IntArray, n: int) -> IntArray:
    """Desired replicas [step, unit]: every unit at its ceiling (a read-only broadcast view: no memory)."""
    row = np.asarray(ceiling, dtype=np.int64)[None, :]
    return np.broadcast_to(row, (n, row.shape[1]))
