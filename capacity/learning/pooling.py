"""Partial pooling of what the history shows too few times: surges of rare events, rare day states.

An effect measured on one event (the first day of the first confinement) is one draw of what such a day
does: the next one can be much weaker or stronger. Plaque-days do not make it more certain — five plaques
on the same date are one event — so the weight of a surge is counted in distinct dates:
  * a surge (flag × state) measured on n dates keeps n / (n + SURGE_SHRINK_DATES) of its log difference
    to its parent — the flag's surge over every state, itself pooled towards "no surge" — and what was
    pooled away widens the band of such days (`extra_error`);
  * a surge never measured keeps the prior's curve, with a band from "no surge" to twice the prior's;
  * a class state never seen (hybrid or distance teaching) keeps the prior's shape, rescaled to the fitted
    level, with its volume pooled halfway (in log) towards its parent's, the fitted in-person class day;
    its band is at least UNSEEN_STATE_ERROR and as wide as what pooling moved: a fallback, never a
    point estimate;
  * a class state the plaque was not in over the last weeks before the forecast's data ends (a new
    confinement) widens the band of its days to NEW_STATE_ERROR at least: episodes differ.
These constants are judgement (how different two confinements can be), not tuned on any backtest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.common.arrays import BoolArray, FloatArray
from capacity.planning.demand import FLAGS, UsageRates

SURGE_SHRINK_DATES = 1.0
UNSEEN_STATE_ERROR = 0.35
UNSEEN_PARENT_WEIGHT = 0.5  # the prior's opinion on a state never seen counts as much as its parent
NEW_STATE_ERROR = 0.2  # a class state the plaque was not in lately: this episode may not be like the last
CLASS_STATES_IDX = tuple(STATE_INDEX[s] for s in (DayState.PRESENTIEL, DayState.HYBRIDE, DayState.DISTANCIEL))


def shrink_surge(curve: FloatArray, n_dates: int, parent: FloatArray | None = None) -> tuple[FloatArray, float]:
    """(surge pooled towards `parent` (no surge by default), relative std of what pooling moved at the peak)."""
    weight = n_dates / (n_dates + SURGE_SHRINK_DATES)
    log = np.log(np.maximum(curve, 1e-6))
    base = np.zeros_like(log) if parent is None else np.log(np.maximum(parent, 1e-6))
    moved = (1 - weight) * abs(float(np.max(log)) - float(np.max(base)))  # at the day's peak, not any slot
    return np.asarray(np.exp(base + weight * (log - base)), dtype=np.float64), moved


def towards_parent(curve: FloatArray, parent: FloatArray) -> FloatArray:
    """A never-seen state's curve (the prior's shape) with its volume pooled towards its parent's."""
    mine, theirs = float(curve.sum()), float(parent.sum())
    if mine <= 0 or theirs <= 0:
        return curve
    return np.asarray(curve * (theirs / mine) ** UNSEEN_PARENT_WEIGHT, dtype=np.float64)


def unseen_state_error(prior: UsageRates, s: int) -> float:
    """Band of a class state never seen: at least UNSEEN_STATE_ERROR, and as wide as what pooling moved."""
    mine = float(prior.rates[:, s, :5].sum())
    parent = float(prior.rates[:, STATE_INDEX[DayState.PRESENTIEL], :5].sum())
    moved = UNSEEN_PARENT_WEIGHT * abs(np.log(mine / parent)) if mine > 0 and parent > 0 else 0.0
    return max(UNSEEN_STATE_ERROR, moved)


def recent_states(state: npt.NDArray[np.int64], first: int, end: int) -> frozenset[int]:
    """Class states any segment of a plaque was in on days [first, end) (state: [day, segment])."""
    seen = np.unique(state[max(0, first) : max(0, end)])
    return frozenset(int(s) for s in seen if int(s) in CLASS_STATES_IDX)


def with_new_states(rates: UsageRates, recent: frozenset[int]) -> UsageRates:
    """A plaque's rates whose band widens (NEW_STATE_ERROR at least) on class states it was not in lately:
    a new episode of distance learning may be busier or quieter than the one the rates learnt from."""
    if rates.extra_error is None or not recent:
        return rates
    extra = np.array(rates.extra_error, copy=True)
    for s in CLASS_STATES_IDX:
        if s not in recent:
            extra[0, s] = max(extra[0, s], NEW_STATE_ERROR)
    return replace(rates, extra_error=extra)


def unseen_surge_error(prior_curve: FloatArray) -> float:
    """Band of a surge kept from the prior: it may be absent, or twice as strong."""
    return float(np.max(np.abs(np.log(np.maximum(prior_curve, 1e-6)))))


def extra_errors(
    surge_dates: Mapping[tuple[int, int], int],
    surge_extra: Mapping[tuple[int, int], float],
    prior: UsageRates,
    state_seen: BoolArray,
) -> FloatArray:
    """[1 + flag + 1, state] relative std added to a day's band (see demand.UsageRates.extra_error); the last
    row is the rentrée after the summer (key len(FLAGS) in the inputs), a child of the rentrée: what its
    own pooling moved, or the rentrée's band when never seen."""
    prior_surge = prior.surge
    out = np.zeros((2 + len(FLAGS), len(DayState)))
    for s in range(len(DayState)):
        if not state_seen[s]:
            out[0, s] = unseen_state_error(prior, s)
        for f in range(len(FLAGS)):
            if surge_dates.get((f, s), 0) > 0:
                out[1 + f, s] = surge_extra.get((f, s), 0.0)
            else:
                out[1 + f, s] = unseen_surge_error(prior_surge[f, s])
        summer = len(FLAGS)
        seen = surge_dates.get((summer, s), 0) > 0
        out[1 + summer, s] = max(out[1, s], surge_extra.get((summer, s), 0.0)) if seen else out[1, s]
    return out
