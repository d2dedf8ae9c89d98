"""From a day plan to what one component needs over the window ahead (pure).

A pod decided now serves only after `lead_time_s`, and the operator adds an anticipation margin (ticks
lost to a failover must not make it late), so it asks for the most the plan needs in [slot containing
now, now + horizon]. The plan's wish already looks `prewarm_s` ahead, so the replicas for the 8 h rush
are asked for before 7 h. Windows may cross midnight: give tomorrow's plan too.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from capacity.common.errors import InputError
from capacity.operator.decide import Planned
from capacity.planning.kernel import PlaquePlan


@dataclass(frozen=True)
class Window:
    """One component's planned replicas for the window, and which mandate clamps applied there."""

    planned: Planned
    slot_start: datetime
    clamps: tuple[tuple[str, str], ...]  # (floor|ceiling, collectivité id)


def slot_index(pp: PlaquePlan, now: datetime) -> int:
    """Index of the slot of `pp`'s day that contains `now`; InputError when `now` is another day."""
    starts = pp.forecast.grid.starts
    end = starts[-1] + timedelta(seconds=pp.forecast.grid.step_s)
    if not starts[0] <= now < end:
        raise InputError(f"{now.isoformat()} is not on the planned day {pp.forecast.day}")
    return bisect.bisect_right([s.timestamp() for s in starts], now.timestamp()) - 1


def forecast_users(pp: PlaquePlan, now: datetime) -> float:
    """Forecast users connected on the plaque during the slot containing `now`."""
    return float(pp.forecast.users[slot_index(pp, now)])


def window(days: Sequence[PlaquePlan], component: str, now: datetime, horizon_s: float) -> Window:
    """Planned replicas over [now, now + horizon_s] for `component`, from consecutive day plans.

    `days[0]` must contain `now`; later days are used when the window crosses midnight.
    """
    first = slot_index(days[0], now)
    until = now + timedelta(seconds=horizon_s)
    best: tuple[int, PlaquePlan, int] | None = None  # (replicas, day, slot)
    for d, pp in enumerate(days):
        cp = pp.component(component)
        for i in range(first if d == 0 else 0, len(pp.forecast.grid.starts)):
            if pp.forecast.grid.starts[i] > until:
                break
            value = int(cp.replicas[i])
            if best is None or value > best[0]:
                best = (value, pp, i)
    assert best is not None  # the slot containing `now` is always in the window
    _, pp, i = best
    cp = pp.component(component)
    clamps = tuple(
        (kind, fid)
        for f, fid in enumerate(cp.funder_ids)
        for kind, hit in (("floor", cp.floor_hit[f, i]), ("ceiling", cp.ceiling_hit[f, i]))
        if hit
    )
    planned = Planned(
        replicas=int(cp.replicas[i]),
        wish=int(cp.wish[i]),
        floor=int(cp.floor[i]),
        ceiling=int(cp.ceiling[i]),
        reasons=cp.reasons(i),
        funders=cp.funder_ids,
    )
    return Window(planned=planned, slot_start=pp.forecast.grid.starts[i], clamps=clamps)
