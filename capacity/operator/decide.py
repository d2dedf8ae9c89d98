"""What the operator sets for one component at one tick: pure, like the HPA controller's recommender.

Inputs are values (the plan for now + lead time, the value currently in force, the stabilisation
history, whether live metrics are available, the time); the output is a `Decision` with its reasons.
No I/O and no clock, so the season simulator replays exactly what the operator would have done
(`replay`), and tests reason about it without a cluster.

Rules, in order (each that changes the number adds a reason):
  1. start from the planner's replicas for the window ahead (see lookahead.py; `forecast`/`prewarm`,
     `floor:<collectivité>`, `ceiling:<collectivité>` come from the planner);
  2. never below what the users connected right now need (`observed`), within the ceiling;
  3. going up is immediate: capacity must be in place before the rush;
  4. going down: not at all without live metrics (`fallback`: keep current if higher), never below
     the highest recommendation of the stabilisation window (`stabilisation`), and by at most
     `max_step_down` of the current value per tick (`max-step`);
  5. the mandate ceiling is a hard cap: collectivités do not pay beyond it (`ceiling:<collectivité>`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from capacity.planning.reasons import ReasonKind, ceiling

IntArray = npt.NDArray[np.int64]

#: Longest stabilisation window accepted: a day (longer would hold a rush floor into the next rush).
MAX_WINDOW_S = 86400.0


class Mode(StrEnum):
    """What the operator may write. Ordered: each mode may do what the previous one does."""

    RECOMMEND = "recommend"
    FLOOR = "floor"
    DIRECT = "direct"


def effective_mode(mode: Mode, has_hpa: bool) -> Mode:
    """Per component: an HPA is never fought (direct → floor), and floor mode needs an HPA (→ recommend)."""
    if mode is Mode.RECOMMEND:
        return Mode.RECOMMEND
    if has_hpa:
        return Mode.FLOOR
    return Mode.DIRECT if mode is Mode.DIRECT else Mode.RECOMMEND


@dataclass(frozen=True)
class DecideSettings:
    """Scale-down pacing. Scale-up is never delayed."""

    stabilisation_window_s: float = 1800.0
    max_step_down: float = 0.25

    def __post_init__(self) -> None:
        # `not a <= x <= b` is also true for NaN: a NaN window would disable stabilisation
        if not 0 <= self.stabilisation_window_s <= MAX_WINDOW_S:
            raise ValueError(f"stabilisation_window_s must be in [0, {MAX_WINDOW_S:.0f}]")
        if not 0 < self.max_step_down <= 1:
            raise ValueError("max_step_down must be in (0, 1]")


@dataclass(frozen=True)
class Planned:
    """The planner's answer for one component over the window ahead (now to now + lead time + margin).

    `replicas` is after mandates; `reasons` are the planner's for the slot that drove it;
    `funders` are the collectivités whose ceilings sum to `ceiling` (named when the cap bites).
    """

    replicas: int
    wish: int
    floor: int
    ceiling: int
    reasons: tuple[str, ...] = (ReasonKind.FORECAST.value,)
    funders: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """Recent recommendations of one component, as (epoch seconds, replicas).

    Only points that can still be the maximum of a window are kept: each is higher than every later
    one (a monotone deque), so the state stays small whatever the tick rate.

    A point from the future (the clock went back, another pod's clock is ahead, a replay with --now)
    counts as "now": it is moved to `t_s` and expires a full window later. Dropping it instead would
    let a clock jump erase the window and the floor fall at once.
    """

    points: tuple[tuple[float, int], ...] = ()

    def record(self, t_s: float, value: int, window_s: float) -> History:
        kept: list[tuple[float, int]] = []
        for t, v in self.points:
            t = min(t, t_s)
            if t_s - window_s < t and v > value:
                while kept and kept[-1][1] <= v:  # clamping can break the deque's order: restore it
                    kept.pop()
                kept.append((t, v))
        kept.append((t_s, value))
        return History(points=tuple(kept))

    def peak(self) -> int | None:
        return max((v for _, v in self.points), default=None)


@dataclass(frozen=True)
class Decision:
    """What to set (`replicas`, and the ceiling as HPA maxReplicas in floor mode) and why."""

    replicas: int
    ceiling: int
    current: int | None
    recommendation: int
    reasons: tuple[str, ...]
    history: History = field(default_factory=History)

    @property
    def direction(self) -> str:
        if self.current is None or self.replicas == self.current:
            return "hold"
        return "up" if self.replicas > self.current else "down"


def decide(
    planned: Planned,
    current: int | None,
    history: History,
    *,
    now: datetime,
    metrics_ok: bool,
    observed_need: int | None = None,
    settings: DecideSettings = DecideSettings(),
) -> Decision:
    """One component, one tick. `current` is the value this mode controls (HPA minReplicas in floor
    mode, the scale's replicas in direct mode), None when it could not be read.

    `metrics_ok` False means live metrics were expected and are missing: never scale down then.
    `observed_need` is the replicas the users connected now need (None: unknown).
    """
    reasons = list(planned.reasons)
    target = planned.replicas
    if observed_need is not None and observed_need > target:
        target = max(target, min(observed_need, planned.ceiling))
        reasons.append(ReasonKind.OBSERVED.value)
        if observed_need > planned.ceiling:
            reasons.extend(ceiling(f) for f in planned.funders)
    history = history.record(now.timestamp(), target, settings.stabilisation_window_s)
    value = target
    if current is not None and target < current:
        if not metrics_ok:
            value = current
            reasons.append(ReasonKind.FALLBACK.value)
        else:
            peak = history.peak() or target
            value = min(current, max(target, peak))
            if value > target:
                reasons.append(ReasonKind.STABILISATION.value)
            lowest = current - max(1, math.floor(current * settings.max_step_down + 1e-9))
            if value < lowest:
                value = lowest
                reasons.append(ReasonKind.MAX_STEP.value)
    if value > planned.ceiling:
        value = planned.ceiling
        reasons.extend(ceiling(f) for f in planned.funders if ceiling(f) not in reasons)
    return Decision(
        replicas=value,
        ceiling=planned.ceiling,
        current=current,
        recommendation=target,
        reasons=tuple(dict.fromkeys(reasons)),
        history=history,
    )


def replay(
    times: Sequence[datetime],
    planned: IntArray,
    ceiling: IntArray,
    initial: int,
    *,
    metrics_ok: npt.NDArray[np.bool_] | None = None,
    observed_need: IntArray | None = None,
    settings: DecideSettings = DecideSettings(),
) -> IntArray:
    """What the operator would set at each of `times`, given the planner's replicas and ceilings then.

    The value in force before the first tick is `initial`; afterwards it is the operator's own previous
    setting (floor mode: the HPA floor; direct mode: the scale). For the season simulator.
    """
    n = len(times)
    if len(planned) != n or len(ceiling) != n:
        raise ValueError("times, planned and ceiling must have the same length")
    out = np.empty(n, dtype=np.int64)
    current = initial
    history = History()
    for i, t in enumerate(times):
        plan = Planned(replicas=int(planned[i]), wish=int(planned[i]), floor=0, ceiling=int(ceiling[i]))
        d = decide(
            plan,
            current,
            history,
            now=t,
            metrics_ok=True if metrics_ok is None else bool(metrics_ok[i]),
            observed_need=None if observed_need is None else int(observed_need[i]),
            settings=settings,
        )
        out[i] = current = d.replicas
        history = d.history
    return out
