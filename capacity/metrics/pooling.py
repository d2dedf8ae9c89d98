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
    point estimate.
These constants are judgement (how different two confinements can be), not tuned on any backtest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.demand import FLAGS, UsageRates

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SURGE_SHRINK_DATES = 1.0
UNSEEN_STATE_ERROR = 0.35
UNSEEN_PARENT_WEIGHT = 0.5  # the prior's opinion on a state never seen counts as much as its parent


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


def unseen_surge_error(prior_curve: FloatArray) -> float:
    """Band of a surge kept from the prior: it may be absent, or twice as strong."""
    return float(np.max(np.abs(np.log(np.maximum(prior_curve, 1e-6)))))


def extra_errors(
    surge_dates: Mapping[tuple[int, int], int],
    surge_extra: Mapping[tuple[int, int], float],
    prior: UsageRates,
    state_seen: BoolArray,
) -> FloatArray:
    """[1 + flag, state] relative std added to a day's band (see demand.UsageRates.extra_error)."""
    prior_surge = prior.surge
    out = np.zeros((1 + len(FLAGS), len(DayState)))
    for s in range(len(DayState)):
        if not state_seen[s]:
            out[0, s] = unseen_state_error(prior, s)
        for f in range(len(FLAGS)):
            if surge_dates.get((f, s), 0) > 0:
                out[1 + f, s] = surge_extra.get((f, s), 0.0)
            else:
                out[1 + f, s] = unseen_surge_error(prior_surge[f, s])
    return out
