"""`capctl`: the operator's forecast floor (its own decision code) with a faithful HPA reacting above it.

The floor is what `capacity.operator.decide.replay` sets at each operator tick (one per planner slot: the
plan only changes at slot boundaries) from the planner's replicas read over [now, now + lead time +
anticipation] — the semantics of `capacity.operator.lookahead.window`, vectorised here over a season and
checked against it in the tests — with the users connected at that tick as the observed need.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from capacity.common.arrays import IntArray, forward_max
from capacity.operator.decide import DecideSettings, replay


def planned_ahead(replicas: IntArray, horizon_s: float, slot_s: int) -> IntArray:
    """At each slot start: the most the plan asks over the slots starting in [now, now + horizon_s]."""
    return forward_max(replicas, int(horizon_s // slot_s))


def tick_times(start_s: int, n: int, tick_s: int) -> list[datetime]:
    """Aware datetimes of the operator's ticks (shared by every component's replay)."""
    return [datetime.fromtimestamp(start_s + i * tick_s, UTC) for i in range(n)]


def operator_floor(
    times: list[datetime], ahead: IntArray, ceiling: int, observed_need: IntArray, settings: DecideSettings
) -> IntArray:
    """HPA minReplicas the operator sets at each tick (floor mode), from its own `replay`; `ahead`: what the
    plan it holds at each tick asks over its window (`planned_ahead`)."""
    ahead = ahead[: len(times)]
    ceilings = np.full(len(times), ceiling, dtype=np.int64)
    initial = int(min(ahead[0], ceiling))
    return replay(times, ahead, ceilings, initial, observed_need=observed_need, settings=settings)
