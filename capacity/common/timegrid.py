"""Local time slots of a school day in Europe/Paris, DST-aware.

School load follows wall-clock time (the 7-8 h rush is 7-8 h local in winter and in summer), so usage
rates are indexed by the local time of day in 5-minute base slots, and a day is cut into slots between
two local midnights: 23 or 25 hourly slots on DST days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from capacity.common.errors import InputError

PARIS = ZoneInfo("Europe/Paris")
BASE_STEP_S = 300
SLOTS_PER_DAY = 86400 // BASE_STEP_S
ALLOWED_STEPS_S = (300, 900, 1800, 3600)


@dataclass(frozen=True)
class DayGrid:
    """The slots of one local day: aware start times and the base-slot index of each start."""

    day: date
    step_s: int
    starts: tuple[datetime, ...]
    base_slot: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.starts)


def parse_step(text: str) -> int:
    """'15m', '1h', '300s' or '5m' → seconds; only steps that divide an hour are allowed."""
    raw = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        value = int(raw[:-1]) * units[raw[-1]]
    except (KeyError, ValueError, IndexError):
        raise InputError(f"invalid step {text!r}: use 5m, 15m, 30m or 1h") from None
    if value not in ALLOWED_STEPS_S:
        raise InputError(f"invalid step {text!r}: use 5m, 15m, 30m or 1h")
    return value


@lru_cache(maxsize=4096)
def day_grid(day: date, step_s: int) -> DayGrid:
    """Slots from local midnight to the next local midnight, every `step_s` seconds of real time (cached)."""
    if step_s not in ALLOWED_STEPS_S:
        raise InputError(f"step must be one of {ALLOWED_STEPS_S} seconds, got {step_s}")
    start_utc = datetime.combine(day, time(0), PARIS).astimezone(UTC)
    end_utc = datetime.combine(day + timedelta(days=1), time(0), PARIS).astimezone(UTC)
    count = int((end_utc - start_utc).total_seconds()) // step_s
    starts = tuple((start_utc + timedelta(seconds=i * step_s)).astimezone(PARIS) for i in range(count))
    base = np.fromiter(((s.hour * 3600 + s.minute * 60) // BASE_STEP_S for s in starts), dtype=np.int64, count=count)
    return DayGrid(day=day, step_s=step_s, starts=starts, base_slot=base)


def local_hour(moment: datetime) -> float:
    """Hour of the Paris day as a number (7.5 is 7:30): what windows like 9-12 h are written in."""
    local = moment.astimezone(PARIS)
    return local.hour + local.minute / 60 + local.second / 3600


def local_hours(starts: Sequence[datetime]) -> npt.NDArray[np.float64]:
    """`local_hour` of each slot start (a DST day has 23 or 25 hours: read the clock, not the index)."""
    return np.array([local_hour(s) for s in starts], dtype=np.float64)


def local_day(moment: datetime) -> date:
    """The Paris calendar date of an aware moment."""
    if moment.tzinfo is None:
        raise InputError(f"time {moment.isoformat()} has no UTC offset; give one, e.g. +02:00")
    return moment.astimezone(PARIS).date()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> date:
    """ISO date (YYYY-MM-DD) from the command line, with the exact reason when the format is right."""
    raw = text.strip()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        if _ISO_DATE.match(raw):  # right shape, impossible date: say why (2021-02-30: day is out of range)
            raise InputError(f"invalid date {raw}: {exc}") from None
        raise InputError(f"invalid date {text!r}: expected YYYY-MM-DD, e.g. 2021-04-26") from None


def parse_moment(text: str, option: str = "--now") -> datetime:
    """An aware ISO time from the command line (`2021-04-26T06:30+02:00`), within the representable range.

    Whole days around it must stay representable (plans look a day ahead and behind), so the years 1 and
    9999 are refused here, in one line, instead of overflowing deep inside a computation.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(
            f"invalid {option} {text!r} ({exc}): expected an ISO time such as 2021-04-26T06:30:00+02:00"
        ) from None
    if moment.tzinfo is None:
        raise InputError(f"{option} {text!r} has no UTC offset; add one, e.g. +02:00")
    try:
        local = moment.astimezone(PARIS)
        _ = (local - timedelta(days=366), local + timedelta(days=366))
    except (OverflowError, ValueError):
        raise InputError(f"{option} {text!r} is outside the dates capctl can plan (years 2 to 9998)") from None
    return moment


def parse_day(text: str, option: str = "--today") -> date:
    """A local day from YYYY-MM-DD or from an aware ISO time (its Paris date)."""
    if _ISO_DATE.match(text.strip()):
        return parse_date(text)
    return local_day(parse_moment(text, option))
