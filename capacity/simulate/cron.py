"""`cron`: a fixed schedule in the style of KEDA's cron scaler, with the usual CPU HPA above it.

On weekdays from 7 h to 19 h (local time) the HPA's minimum is raised to a fixed number sized on an
ordinary school week; otherwise it is the mandate floor. No calendar: holidays, lockdowns and rentrées
look like any other weekday to it, which is the point of the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.common.arrays import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class CronSchedule:
    """Weekdays (Mon=0) and local hours [start_h, end_h) during which the schedule's floor applies."""

    start_h: float = 7.0
    end_h: float = 19.0
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)


def cron_active(local_hour: FloatArray, weekday: IntArray, schedule: CronSchedule) -> BoolArray:
    """Whether the schedule is on at each step."""
    on_day = np.isin(weekday, schedule.weekdays)
    return np.asarray(on_day & (local_hour >= schedule.start_h) & (local_hour < schedule.end_h))


def cron_floor(active: BoolArray, scheduled: IntArray, floor: IntArray, ceiling: IntArray) -> IntArray:
    """The HPA minimum [step, unit]: `scheduled` while active, the mandate floor otherwise, within the ceiling."""
    high = np.minimum(np.maximum(scheduled, floor), ceiling)
    return np.where(active[:, None], high[None, :], floor[None, :]).astype(np.int64)
