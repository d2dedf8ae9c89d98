"""Partial pooling of what the history shows too few times: surges of rare events, rare day states.

An effect measured on one event (the first day of the first confinement) is one draw of what such a day
does: the next one can be much weaker or stronger. Plaque-days do not make it more certain — five plaques
on the same date are one event — so the weight of a surge is counted in distinct dates:
  * a surge (flag × state) measured on n dates keeps n / (n + SURGE_SHRINK_DATES) of its log difference
    to its parent — the flag's surge over every state, itself pooled towards "no surge" — and what was
    pooled away widens the band of such days (`extra_error`);
  * a surge never measured keeps the prior's curve, with a band from "no surge" to twice the prior's;
  * a class state never seen is forecast from the prior rescaled to the fitted level (fit.py) with the
    wide UNSEEN_STATE_ERROR band: a fallback, never a point estimate.
These constants are judgement (how different two confinements can be), not tuned on any backtest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import DayState
from capacity.demand import FLAGS

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SURGE_SHRINK_DATES = 1.0
UNSEEN_STATE_ERROR = 0.35


def shrink_surge(curve: FloatArray, n_dates: int, parent: FloatArray | None = None) -> tuple[FloatArray, float]:
    """(surge pooled towards `parent` (no surge by default), relative std of what pooling moved at most)."""
    weight = n_dates / (n_dates + SURGE_SHRINK_DATES)
    log = np.log(np.maximum(curve, 1e-6))
    base = np.zeros_like(log) if parent is None else np.log(np.maximum(parent, 1e-6))
    moved = (1 - weight) * float(np.max(np.abs(log - base)))
    return np.asarray(np.exp(base + weight * (log - base)), dtype=np.float64), moved


def unseen_surge_error(prior_curve: FloatArray) -> float:
    """Band of a surge kept from the prior: it may be absent, or twice as strong."""
    return float(np.max(np.abs(np.log(np.maximum(prior_curve, 1e-6)))))


def extra_errors(
    surge_dates: Mapping[tuple[int, int], int],
    surge_extra: Mapping[tuple[int, int], float],
    prior_surge: FloatArray,
    state_seen: BoolArray,
) -> FloatArray:
    """[1 + flag, state] relative std added to a day's band (see demand.UsageRates.extra_error)."""
    out = np.zeros((1 + len(FLAGS), len(DayState)))
    for s in range(len(DayState)):
        if not state_seen[s]:
            out[0, s] = UNSEEN_STATE_ERROR
        for f in range(len(FLAGS)):
            if surge_dates.get((f, s), 0) > 0:
                out[1 + f, s] = surge_extra.get((f, s), 0.0)
            else:
                out[1 + f, s] = unseen_surge_error(prior_surge[f, s])
    return out
