"""Start-up delay: a replica ordered at t serves from t + delay; a replica removed stops serving at once.

With the newest pods removed first (pending ones before ready ones, as Kubernetes does), the replicas
serving at step k are those ordered at least `delay_steps` ago and kept ever since:
ready[k] = min(desired[k - delay_steps .. k]), desired before the start being `initial` (already up).
"""

from __future__ import annotations

import numpy as np

from capacity.common.arrays import IntArray
from capacity.common.errors import InputError


def delay_steps(startup_s: int, step_s: int) -> int:
    """The delay in simulation steps; it must be a whole number of steps."""
    if startup_s < 0:
        raise InputError(f"start-up delay must be >= 0, got {startup_s} s")
    if startup_s % step_s:
        raise InputError(
            f"start-up delay {startup_s // 60} min is not a whole number of {step_s // 60}-minute steps: "
            "use --resolution 1m"
        )
    return startup_s // step_s


def ready_replicas(desired: IntArray, initial: IntArray, steps: int) -> IntArray:
    """Serving replicas per step for `desired[step, unit]` (running minimum over the delay)."""
    ready = desired.copy()
    for j in range(1, steps + 1):
        shifted = np.empty_like(desired)
        shifted[:j] = initial[None, :]
        shifted[j:] = desired[:-j]
        np.minimum(ready, shifted, out=ready)
    return ready
