"""`static`: provisioned at the mandate ceiling all the time — never short unless the ceiling is, and dear."""

from __future__ import annotations

import numpy as np

from capacity.common.arrays import IntArray


def static(ceiling: IntArray, n: int) -> IntArray:
    """Desired replicas [step, unit]: every unit at its ceiling (a read-only broadcast view: no memory)."""
    row = np.asarray(ceiling, dtype=np.int64)[None, :]
    return np.broadcast_to(row, (n, row.shape[1]))
