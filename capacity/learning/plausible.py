"""Refuse session history that cannot be a count of connected users, before anything learns from it.

A wrong query (a counter instead of a gauge, a sum over duplicated series, another unit) or a broken
exporter yields numbers the fitter accepts without complaint: all zeros make a model whose plans say
demand 0, 1e308 one that says `inf` and overflows the replica count. Such data is refused in one line
that names the plaque, the problem, one instant where it shows, and what to check. NaN is not refused
here: it means "not scraped", and the fetch already reports plaques and profiles without data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import numpy.typing as npt

from capacity.common.errors import CapctlError
from capacity.common.timegrid import BASE_STEP_S
from capacity.learning.days import DayFrame
from capacity.policy.topology import PROFILES

FloatArray = npt.NDArray[np.float64]

#: More users connected at once than this many times the plaque's accounts is not a session count
#: (a pupil with a phone and a laptop counts twice at most; a stale topology is off by tens of percent).
MAX_SESSIONS_PER_ACCOUNT = 3.0


class ImplausibleSessions(CapctlError):
    """Session data that cannot be users connected (negative, infinite, absurdly high, all zero).

    Not a `DataSourceError` (exit 1, "retry later"): the source answered, and will answer the same again;
    the query or the exporter must change, like any bad input (exit 2)."""


def check_sessions(frame: DayFrame, curves: Mapping[str, FloatArray], source: str) -> None:
    """Raise `ImplausibleSessions` for the first plaque whose curves [profile, day, slot] are impossible."""
    hint = f"check the exporter and the `sessions` query (--queries) behind {source}"
    for pid, c in curves.items():
        days = frame.plaques[pid]
        if np.isinf(c).any():
            raise ImplausibleSessions(
                f"session data for plaque {pid} is infinite ({_where(frame, c, np.isinf(c))}): {hint}"
            )
        negative = c < 0
        if negative.any():
            raise ImplausibleSessions(
                f"session data for plaque {pid} is negative ({_where(frame, c, negative)}): users connected "
                f"cannot be fewer than zero; {hint}"
            )
        with np.errstate(over="ignore"):  # 1e308 + 1e308 is inf: still more than the accounts
            total = np.where(np.isfinite(c).any(axis=0), np.nansum(c, axis=0), np.nan)  # [day, slot]
        accounts = float(days.population.sum())
        if accounts > 0 and np.nanmax(total, initial=0.0) > MAX_SESSIONS_PER_ACCOUNT * accounts:
            d, s = np.unravel_index(np.nanargmax(total), total.shape)
            peak = total[d, s] if np.isfinite(total[d, s]) else np.nanmax(c[:, d, s])
            raise ImplausibleSessions(
                f"session data for plaque {pid} peaks at {peak:.4g} users on {_instant(frame, d, s)}, more "
                f"than {MAX_SESSIONS_PER_ACCOUNT:g} × its {accounts:,.0f} accounts in the topology: it counts "
                f"something else than users connected (a counter, duplicated series?); {hint}, or the topology"
            )
        school = total[days.class_day]
        pool, what = (school, "school days") if np.isfinite(school).any() else (total, "days")
        if np.isfinite(pool).any() and not np.nan_to_num(pool).any():
            n = int(np.isfinite(pool).any(axis=-1).sum())
            raise ImplausibleSessions(
                f"session data for plaque {pid} is 0 at every instant of its {n} {what} with data from "
                f"{frame.days[0]} to {frame.days[-1]}: a model fitted on it would plan for no one; {hint}"
            )


def _where(frame: DayFrame, c: FloatArray, bad: npt.NDArray[np.bool_]) -> str:
    q, d, s = (int(i[0]) for i in np.nonzero(bad))
    return f"{c[q, d, s]:g} for {PROFILES[q]} on {_instant(frame, d, s)}"


def _instant(frame: DayFrame, day: int | np.intp, slot: int | np.intp) -> str:
    d: date = frame.days[int(day)]
    minutes = int(slot) * BASE_STEP_S // 60
    return f"{d} {minutes // 60:02d}:{minutes % 60:02d}"
