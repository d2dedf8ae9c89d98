"""The day itself: when the morning's users run above the forecast, plan the rest of the day higher (pure).

A forecast made a week ahead cannot know a day's own level (a strike of the bus drivers, a snow day, a
distance day the calendar did not announce, an ENT everybody opens because the news said so); the
morning shows it. From the end of a window (9-12 h local: after the 7-8 h rush, before the afternoon and
the evening homework peak), the ratio of the users read to the users forecast over that window scales the
rest of the day's forecast, and the day is planned again with it.

Only upwards, and only so far: a morning *below* the forecast is no reason to plan the evening lower
(the bench measured it: it saves half a point of cost and raises the user-minutes short), and a reading
far above the forecast is more likely a metrics fault than pupils — the ratio is clamped to [1, `most`].
It is rounded to 5 % steps, so a day is planned again a handful of times at most, not at every tick.
Nothing is decided unless most of the window was read (a Prometheus outage at 10 h leaves the plan as
it was) and the window expects real users (nights, weekends and holidays keep their plan).

Measured (`bench/bench_replay_levers.py`, season 2020-21, default history): headroom breaches
0.0705 → 0.059 % of user-minutes for +0.002 × of the oracle's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from capacity.common.arrays import FloatArray
from capacity.common.timegrid import BASE_STEP_S
from capacity.planning.demand import DayForecast

WINDOW_H = (9.0, 12.0)  # local hours read
MIN_READ = 0.75  # share of the window's slots that must have a believed reading
MIN_FORECAST = 50.0  # users forecast per slot of the window, on average: below it, no nowcast
STEP = 0.05  # the ratio is rounded to this step
DEFAULT_MOST = 1.3  # the most a nowcast raises the rest of the day (operator.yaml `nowcast_most`; 1 = off)


def in_window(hours: FloatArray) -> npt.NDArray[np.bool_]:
    """Which slots (local hour of each start) the nowcast reads."""
    return np.asarray((hours >= WINDOW_H[0]) & (hours < WINDOW_H[1]), dtype=bool)


def decided_by(now_h: float) -> bool:
    """Whether a nowcast is decided by local hour `now_h`: once its window is over."""
    return now_h >= WINDOW_H[1]


def after_window(hours: FloatArray) -> npt.NDArray[np.bool_]:
    """Which slots come once the nowcast is decided: where a raised plan holds."""
    return np.asarray(hours >= WINDOW_H[1], dtype=bool)


@dataclass(frozen=True)
class Nowcast:
    """One plaque's morning: users read / users forecast over the window, and the factor applied."""

    measured: float  # the raw ratio over the slots read
    factor: float  # what the rest of the day is planned at: rounded to STEP, within [1, most]
    read: int  # slots of the window with a believed reading
    slots: int  # slots in the window

    @property
    def raises(self) -> bool:
        return self.factor > 1.0


def morning(
    hours: FloatArray, forecast: FloatArray, read: FloatArray, now_h: float, most: float = DEFAULT_MOST
) -> Nowcast | None:
    """The nowcast of one plaque's day once the window is over, or None when there is none to make.

    `hours`: local hour of each slot start; `forecast`: users forecast per slot; `read`: users read per slot
    (NaN where nothing was believed); `now_h`: local hour now. None before the window's end, when `most`
    is 1 (switched off), when the window expects fewer than MIN_FORECAST users a slot, or when less than
    MIN_READ of its slots were read.
    """
    if most <= 1.0 or not decided_by(now_h):
        return None
    window = in_window(hours)
    slots = int(window.sum())
    if slots == 0 or float(forecast[window].mean()) < MIN_FORECAST:
        return None
    seen = window & np.isfinite(read)
    if seen.sum() < MIN_READ * slots:
        return None
    measured = float(read[seen].sum() / forecast[seen].sum())
    factor = min(most, max(1.0, round(round(measured / STEP) * STEP, 6)))
    return Nowcast(measured=measured, factor=factor, read=int(seen.sum()), slots=slots)


def tick_too_slow(tick_s: float) -> str | None:
    """Why ticks `tick_s` apart cannot make a nowcast (they read too few of the window's 5-minute slots)."""
    share = min(1.0, BASE_STEP_S / tick_s)
    if share >= MIN_READ:
        return None
    return (
        f"--tick {tick_s:g} s reads about {share:.0%} of the 5-minute slots: the nowcast needs {MIN_READ:.0%} "
        f"of its 9-12 h window and will not run; use --tick {BASE_STEP_S / MIN_READ:.0f} or less "
        "(or nowcast_most: 1 in operator.yaml to say so)"
    )


def raised(fc: DayForecast, factor: float) -> DayForecast:
    """The day's forecast with every user count (and its band) multiplied by `factor`."""
    by_profile = None if fc.users_by_segment_profile is None else fc.users_by_segment_profile * factor
    return replace(
        fc,
        users=fc.users * factor,
        users_by_segment=fc.users_by_segment * factor,
        low=fc.low * factor,
        high=fc.high * factor,
        users_by_segment_profile=by_profile,
    )
