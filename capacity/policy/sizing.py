"""Capacity model: users connected → requests → replicas, and the pre-warm that puts them in place early.

replicas = ceil(users × requests_per_user_s × headroom / (rps_per_replica × target_utilisation)),
never below the component's technical minimum. A pod needs `lead_time_s` to serve, and the morning rush
is too steep to chase, so each slot's wish covers the demand of the next `prewarm_s` too: the replicas
for the 7:45 peak are serving from before 7 h.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from capacity.common.arrays import forward_max
from capacity.policy.topology import Component

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def replicas_for_users(users: FloatArray, component: Component) -> IntArray:
    """Replicas that serve `users` at the target utilisation with headroom (per slot)."""
    rps = np.asarray(users, dtype=np.float64) * component.requests_per_user_s * component.headroom
    per_replica = component.rps_per_replica * component.target_utilisation
    raw = np.ceil(np.round(rps / per_replica, 9))
    return np.maximum(raw, component.min_replicas).astype(np.int64)


def users_served(replicas: IntArray, component: Component) -> FloatArray:
    """Inverse of `replicas_for_users`: how many connected users `replicas` serve at target utilisation."""
    per_replica = component.rps_per_replica * component.target_utilisation
    return np.asarray(replicas, dtype=np.float64) * per_replica / (component.requests_per_user_s * component.headroom)


def prewarm_window_slots(component: Component, step_s: int) -> int:
    """How many following slots a slot's replicas must also cover."""
    return math.ceil(component.prewarm_s / step_s)


def prewarm(need: IntArray, window: int) -> IntArray:
    """wish[i] = max(need[i .. i + window]) — a forward-looking running maximum.

    `need` may be longer than the day (it carries the first slots of the next day) so that the last
    slots of a day pre-warm for the next morning; callers cut the result to the day.
    """
    return forward_max(need, window)


def floor_replicas(users: float, component: Component) -> int:
    """Replicas of `component` that serve `users` connected users (inverse of sizing.users_served)."""
    per_replica = float(users_served(np.array([1]), component)[0])
    return math.ceil(round(users / per_replica, 9))
