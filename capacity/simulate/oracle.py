"""`oracle`: perfect foresight under the same start-up delay — the lower bound of cost.

A replica must be ordered `delay` before it serves, and serves only while it is kept, so the cheapest
order that never leaves demand unserved keeps, at each step, what the next `delay` steps need:
desired[k] = max(need[k .. k + delay]). Every strategy without shortfall orders at least that much at
every step (within the mandates), hence costs at least as much.
"""

from __future__ import annotations

import numpy as np

from capacity.common.arrays import IntArray


def oracle(need: IntArray, delay_steps: int, floor: IntArray, ceiling: IntArray) -> IntArray:
    """Desired replicas [step, unit] from the replicas the actual demand needs at each step."""
    ahead = need.copy()
    for j in range(1, delay_steps + 1):
        np.maximum(ahead[:-j], need[j:], out=ahead[:-j])
    return np.clip(ahead, floor[None, :], ceiling[None, :]).astype(np.int64)
