"""Time windows in local school days: durations, local midnights as UTC seconds, inclusive date ranges.

Metrics are stored at UTC instants; school load follows Paris days. A window `--from D1 --to D2` means
the local days D1..D2 inclusive, i.e. the instants [midnight(D1), midnight(D2 + 1)) in Europe/Paris.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from capacity.common.errors import InputError
from capacity.common.timegrid import PARIS

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration_s(text: str) -> int:
    """'7d', '12h', '30m', '90s', '2w' → seconds (> 0)."""
    raw = text.strip().lower()
    try:
        value = int(raw[:-1]) * _UNITS[raw[-1]]
    except (KeyError, ValueError, IndexError):
        raise InputError(f"invalid duration {text!r}: use a number and a unit, e.g. 7d, 12h, 30m") from None
    if value <= 0:
        raise InputError(f"invalid duration {text!r}: must be more than zero")
    return value


def parse_days(text: str) -> int:
    """A duration in whole days ('7d', '2w', '168h')."""
    seconds = parse_duration_s(text)
    if seconds % 86400:
        raise InputError(f"invalid duration {text!r}: give whole days, e.g. 7d")
    return seconds // 86400


def midnight_s(day: date) -> int:
    """UTC epoch seconds of local midnight (Europe/Paris) starting `day`."""
    return int(datetime.combine(day, time(0), PARIS).timestamp())


def days_between(first: date, last: date) -> list[date]:
    """first..last inclusive; an empty or reversed window is an input error."""
    if last < first:
        raise InputError(f"window ends ({last}) before it starts ({first}): check --from and --to")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def instant_range_s(first: date, last: date, step_s: int) -> tuple[int, int]:
    """[start, end] UTC seconds of the first and last sampling instant of local days first..last."""
    start = midnight_s(first)
    end = midnight_s(last + timedelta(days=1)) - step_s
    return start, end
