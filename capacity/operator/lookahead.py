"""From a day plan to what one component needs over the window ahead (pure).

A pod decided now serves only after `lead_time_s`, and the operator adds an anticipation margin (ticks
lost to a failover must not make it late), so it asks for the most the plan needs in [slot containing
now, now + horizon]. The plan's wish already looks `prewarm_s` ahead, so the replicas for the 8 h rush
are asked for before 7 h. Windows may cross midnight: give tomorrow's plan too.

The operator keeps a day's plan for every plaque in memory, so it keeps `PlaqueDay`: the few numbers
per slot it reads (replicas, wish, floor, ceiling, forecast users) and each slot's reasons as an index
into the handful of distinct reason sets — about 1/50 of the full `PlaquePlan` (funder shares, costs,
shortfall), which matters at a thousand plaques.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from capacity.common.errors import InputError
from capacity.common.timegrid import PARIS
from capacity.operator.decide import Planned
from capacity.planning.kernel import ComponentPlan, PlaquePlan
from capacity.planning.reasons import ReasonKind
from capacity.policy.topology import Plaque

Clamps = tuple[tuple[str, str], ...]  # (floor|ceiling, collectivité id)


@dataclass(frozen=True)
class Window:
    """One component's planned replicas for the window, and which mandate clamps applied there."""

    planned: Planned
    slot_start: datetime
    clamps: Clamps


@dataclass(frozen=True)
class ComponentDay:
    """What the operator reads of one component's day plan. `why[slot]` indexes `reasons`."""

    replicas: npt.NDArray[np.int32]
    wish: npt.NDArray[np.int32]
    floor: npt.NDArray[np.int32]
    ceiling: npt.NDArray[np.int32]
    funder_ids: tuple[str, ...]
    why: npt.NDArray[np.int32]
    reasons: tuple[tuple[tuple[str, ...], Clamps], ...]  # distinct (reasons, clamps) of the day

    @classmethod
    def of(cls, cp: ComponentPlan) -> ComponentDay:
        flags = [cp.wish > cp.need, cp.floor_hit, cp.ceiling_hit]
        flags += [x for x in (cp.band_hit, cp.budget_hit, cp.hold_hit) if x is not None]
        rows = np.vstack([np.atleast_2d(f) for f in flags]).T  # [slot, flag]: the slot's reasons
        _, first, why = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        reasons = tuple((cp.reasons(int(i)), _clamps(cp, int(i))) for i in first)
        return cls(
            replicas=cp.replicas.astype(np.int32),
            wish=cp.wish.astype(np.int32),
            floor=cp.floor.astype(np.int32),
            ceiling=cp.ceiling.astype(np.int32),
            funder_ids=cp.funder_ids,
            why=np.asarray(why, dtype=np.int32).reshape(-1),
            reasons=reasons,
        )


def _clamps(cp: ComponentPlan, i: int) -> Clamps:
    return tuple(
        (kind, fid)
        for f, fid in enumerate(cp.funder_ids)
        for kind, hit in (("floor", cp.floor_hit[f, i]), ("ceiling", cp.ceiling_hit[f, i]))
        if hit
    )


@dataclass(frozen=True)
class PlaqueDay:
    """One plaque's day as the operator reads it: slot starts (epoch s), forecast users, components."""

    plaque: Plaque
    day: date
    starts: npt.NDArray[np.float64]
    step_s: int
    users: npt.NDArray[np.float64]
    components: Mapping[str, ComponentDay]

    @classmethod
    def of(cls, pp: PlaquePlan) -> PlaqueDay:
        grid = pp.forecast.grid
        return cls(
            plaque=pp.plaque,
            day=pp.forecast.day,
            starts=np.array([s.timestamp() for s in grid.starts]),
            step_s=grid.step_s,
            users=np.asarray(pp.forecast.users, dtype=np.float64),
            components={cp.component.name: ComponentDay.of(cp) for cp in pp.components},
        )


def with_nowcast(base: PlaqueDay, raised: PlaqueDay) -> PlaqueDay:
    """`base`, except the slots where `raised` (the same day planned at a nowcast's factor) asks more
    replicas: those take `raised`'s numbers and reasons, plus `nowcast`. A nowcast only ever raises."""
    nowcast = ReasonKind.NOWCAST.value
    components: dict[str, ComponentDay] = {}
    for name, b in base.components.items():
        r = raised.components[name]
        up = r.replicas > b.replicas
        if not up.any():
            components[name] = b
            continue
        table = b.reasons + tuple(((*reasons, nowcast), clamps) for reasons, clamps in r.reasons)
        used, why = np.unique(np.where(up, len(b.reasons) + r.why, b.why), return_inverse=True)
        components[name] = ComponentDay(
            replicas=np.where(up, r.replicas, b.replicas).astype(np.int32),
            wish=np.where(up, r.wish, b.wish).astype(np.int32),
            floor=np.where(up, r.floor, b.floor).astype(np.int32),
            ceiling=np.where(up, r.ceiling, b.ceiling).astype(np.int32),
            funder_ids=b.funder_ids,
            why=np.asarray(why, dtype=np.int32).reshape(-1),
            reasons=tuple(table[int(i)] for i in used),
        )
    return replace(base, users=np.maximum(base.users, raised.users), components=components)


def slot_index(pd: PlaqueDay, now: datetime) -> int:
    """Index of the slot of `pd`'s day that contains `now`; InputError when `now` is another day."""
    t = now.timestamp()
    if not pd.starts[0] <= t < pd.starts[-1] + pd.step_s:
        raise InputError(f"{now.isoformat()} is not on the planned day {pd.day}")
    return int(np.searchsorted(pd.starts, t, side="right")) - 1


def forecast_users(pd: PlaqueDay, now: datetime) -> float:
    """Forecast users connected on the plaque during the slot containing `now`."""
    return float(pd.users[slot_index(pd, now)])


def window(days: Sequence[PlaqueDay], component: str, now: datetime, horizon_s: float) -> Window:
    """Planned replicas over [now, now + horizon_s] for `component`, from consecutive day plans.

    `days[0]` must contain `now`; later days are used when the window crosses midnight. The first slot
    with the most replicas wins.
    """
    first = slot_index(days[0], now)
    until = (now + timedelta(seconds=horizon_s)).timestamp()
    best: tuple[int, PlaqueDay, int] | None = None  # (replicas, day, slot)
    for d, pd in enumerate(days):
        replicas = pd.components[component].replicas
        lo = first if d == 0 else 0
        hi = int(np.searchsorted(pd.starts, until, side="right"))
        if hi <= lo:
            continue
        i = lo + int(np.argmax(replicas[lo:hi]))
        if best is None or int(replicas[i]) > best[0]:
            best = (int(replicas[i]), pd, i)
    assert best is not None  # the slot containing `now` is always in the window
    _, pd, i = best
    cd = pd.components[component]
    reasons, clamps = cd.reasons[int(cd.why[i])]
    planned = Planned(
        replicas=int(cd.replicas[i]),
        wish=int(cd.wish[i]),
        floor=int(cd.floor[i]),
        ceiling=int(cd.ceiling[i]),
        reasons=reasons,
        funders=cd.funder_ids,
    )
    return Window(planned=planned, slot_start=datetime.fromtimestamp(pd.starts[i], PARIS), clamps=clamps)
