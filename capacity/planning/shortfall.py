"""Who gets in when a funder's capacity is short: per-profile admission, as its mandate says (pure, numpy).

A funder's capacity in a slot is the number of connected users its replicas serve (sizing.users_served)
on the component that its clamps cut the most; it only counts where a clamp (ceiling, budget) cut the
funder's share below its wish — elsewhere the plan gives what the forecast asked. When the funder's
users exceed that capacity:
  * on a day the forecast shows short for this funder, the profiles' `fermeture` windows apply (all
    their users are kept out in those hours, as Hauts-de-France did for parents on 26 April 2021, 7h30–17h30);
  * in each short slot, groups are admitted in `ordre_admission` order (within a group pro rata of
    demand), each profile at most `part_max` of the capacity; whatever does not fit is kept out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capacity.policy.bundle import Funder
from capacity.policy.mandates.model import ShortfallPolicy
from capacity.policy.topology import PROFILES

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Causes of a funder's capacity limit in a slot (Shortfall.cause).
NO_CAUSE, CEILING, BUDGET = 0, 1, 2
CAUSE_NAMES = {CEILING: "ceiling", BUDGET: "budget"}
_EPS = 1e-6


@dataclass(frozen=True)
class Shortfall:
    """Per funder, profile (PROFILES order) and slot of one plaque-day: demand, capacity and who is kept out."""

    funder_ids: tuple[str, ...]
    demand: FloatArray  # [funder, profile, slot] users who want to connect
    capacity: FloatArray  # [funder, slot] users the funder's replicas serve (inf: not limited)
    kept_out: FloatArray  # [funder, profile, slot]
    closed: BoolArray  # [funder, profile, slot] a `fermeture` window kept this profile out
    capped: BoolArray  # [funder, profile, slot] `part_max` limited this profile
    short_day: BoolArray  # [funder] the forecast shows the funder short at some slot (of this day)
    bottleneck: IntArray  # [funder, slot] index of the limiting component (-1: none)
    cause: IntArray  # [funder, slot] NO_CAUSE, CEILING or BUDGET for the limiting component

    def cut(self, a: int, b: int, day: int) -> Shortfall:
        """Slots [a, b) of a multi-day span; `short_day` then holds one column per day."""
        return Shortfall(
            funder_ids=self.funder_ids,
            demand=self.demand[..., a:b],
            capacity=self.capacity[..., a:b],
            kept_out=self.kept_out[..., a:b],
            closed=self.closed[..., a:b],
            capped=self.capped[..., a:b],
            short_day=self.short_day[:, day] if self.short_day.ndim == 2 else self.short_day,
            bottleneck=self.bottleneck[..., a:b],
            cause=self.cause[..., a:b],
        )

    @property
    def admitted(self) -> FloatArray:
        return np.asarray(self.demand - self.kept_out, dtype=np.float64)

    def kept_out_total(self) -> FloatArray:
        """[funder, slot] users kept out, every profile."""
        return np.asarray(self.kept_out.sum(axis=1), dtype=np.float64)

    def any_short(self) -> bool:
        return bool((self.kept_out > _EPS).any())


def admit(
    demand: FloatArray, capacity: FloatArray, policy: ShortfallPolicy, closed_mask: BoolArray, day_idx: IntArray
) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """One funder: demand [profile, slot], capacity [slot], `fermeture` hours [profile, slot], day of each slot.

    Returns (kept_out, closed, capped, short_day [day]).
    """
    total = demand.sum(axis=0)
    short = total > capacity + _EPS
    short_day = np.zeros(int(day_idx[-1]) + 1 if len(day_idx) else 0, dtype=bool)
    np.logical_or.at(short_day, day_idx, short)
    closed = closed_mask & short_day[day_idx] & (demand > 0)
    wanting = np.where(closed, 0.0, demand)
    still_short = wanting.sum(axis=0) > capacity + _EPS
    admitted = wanting.copy()
    capped = np.zeros_like(closed)
    if still_short.any():
        cap = np.where(np.isfinite(capacity), capacity, 0.0)
        remaining = cap.copy()
        index = {p: i for i, p in enumerate(PROFILES)}
        order = [tuple(g) for g in policy.order]
        listed = {p for g in order for p in g}
        order += [(p,) for p in PROFILES if p not in listed]
        for group in order:
            rows = [index[p] for p in group]
            want = wanting[rows].copy()
            for j, p in enumerate(group):
                share = policy.quotas.get(p)
                if share is not None and share.max_share is not None:
                    limit = share.max_share * cap
                    capped[rows[j]] = still_short & (want[j] > limit + _EPS)
                    want[j] = np.minimum(want[j], limit)
            asked = want.sum(axis=0)
            give = np.minimum(asked, remaining)
            ratio = np.divide(give, asked, out=np.zeros_like(give), where=asked > 0)
            admitted[rows] = np.where(still_short, want * ratio, wanting[rows])
            remaining = remaining - give
    kept = np.maximum(demand - admitted, 0.0)
    return kept, closed, capped, short_day


def closure_mask(policy: ShortfallPolicy, minutes: IntArray) -> BoolArray:
    """[profile, slot]: slots inside a profile's `fermeture` windows."""
    mask = np.zeros((len(PROFILES), len(minutes)), dtype=bool)
    for p, profile in enumerate(PROFILES):
        quota = policy.quotas.get(profile)
        for r in quota.closed if quota else ():
            mask[p] |= (minutes >= r.start_min) & (minutes < r.end_min)
    return mask


def funders_shortfall(
    by_profile: FloatArray,
    funders: Sequence[Funder],
    served: Sequence[FloatArray],
    limited: Sequence[BoolArray],
    budget: Sequence[BoolArray],
    minutes: IntArray,
    day_idx: IntArray,
) -> Shortfall:
    """Shortfall of every funder of a plaque over consecutive days.

    by_profile: [segment, profile, slot] demand; served/limited/budget: per component [funder, slot]
    users its replicas serve, whether a clamp cut its share, whether that clamp was the budget.
    """
    capacity, bottleneck, cause = funder_capacity(served, limited, budget)
    k, p, n = len(funders), len(PROFILES), len(minutes)
    days = int(day_idx[-1]) + 1 if n else 0
    demand = np.zeros((k, p, n))
    kept = np.zeros((k, p, n))
    closed = np.zeros((k, p, n), dtype=bool)
    capped = np.zeros((k, p, n), dtype=bool)
    short_day = np.zeros((k, days), dtype=bool)
    for f, funder in enumerate(funders):
        demand[f] = by_profile[list(funder.segments)].sum(axis=0)
        if not np.isfinite(capacity[f]).any():
            continue
        policy = funder.mandate.shortfall
        kept[f], closed[f], capped[f], short_day[f] = admit(
            demand[f], capacity[f], policy, closure_mask(policy, minutes), day_idx
        )
    return Shortfall(
        funder_ids=tuple(f.mandate.id for f in funders),
        demand=demand,
        capacity=capacity,
        kept_out=kept,
        closed=closed,
        capped=capped,
        short_day=short_day,
        bottleneck=bottleneck,
        cause=cause,
    )


def funder_capacity(
    served: Sequence[FloatArray], limited: Sequence[BoolArray], budget: Sequence[BoolArray]
) -> tuple[FloatArray, IntArray, IntArray]:
    """Capacity [funder, slot] from per-component users served [funder, slot] where a clamp cut the share.

    Returns (capacity, bottleneck component index, cause).
    """
    stack = np.stack([np.where(lim, s, np.inf) for s, lim in zip(served, limited, strict=True)])  # [c, f, slot]
    bottleneck = stack.argmin(axis=0)
    capacity = np.take_along_axis(stack, bottleneck[None], axis=0)[0]
    finite = np.isfinite(capacity)
    by_budget = np.take_along_axis(np.stack(list(budget)), bottleneck[None], axis=0)[0]
    cause = np.where(finite, np.where(by_budget, BUDGET, CEILING), NO_CAUSE).astype(np.int64)
    return capacity, np.where(finite, bottleneck, -1).astype(np.int64), cause
