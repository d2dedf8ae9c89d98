"""The operator's memory of today's mornings: believed live readings per plaque and planner slot, and the
nowcast they give from the end of the window (capacity/planning/nowcast.py).

Each tick records the plaque's believed reading (an implausible or missing one records nothing) in the
slot of the plan that contains `now`; several ticks in one slot are averaged. At the first tick after the
window the nowcast is decided, once per plaque and day; a plaque it raises has its day planned again at
that factor (the plan cache keeps it) and reads that plan wherever it asks more than the forecast's.

In memory only: after a restart or a failover the new leader has not seen the morning and makes no
nowcast that day — the plan as forecast, which is where every day starts anyway (a nowcast only raises).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from capacity.common.arrays import FloatArray
from capacity.common.timegrid import PARIS, local_hour, local_hours
from capacity.operator.lookahead import PlaqueDay, slot_index, with_nowcast
from capacity.planning.nowcast import Nowcast, decided_by, morning

log = logging.getLogger("capctl.controller")

#: Plans `plaque`'s `day` at a nowcast factor: the raised day, or why it could not be planned.
RaisedDay = Callable[[date, str, float], PlaqueDay | str]


@dataclass
class _Morning:
    day: date
    total: FloatArray  # sum of the believed readings per slot
    count: FloatArray  # readings per slot
    decided: bool = False
    nowcast: Nowcast | None = None


@dataclass(frozen=True)
class Nowcasts:
    """What one tick made of the mornings: the day plans to act on, the factor per plaque (1: none) and
    the nowcasts decided at this tick (for an Event each), with any plaque whose raised day failed."""

    days: dict[str, list[PlaqueDay]]
    factors: dict[str, float]
    decided: dict[str, Nowcast]
    failed: dict[str, str]


@dataclass
class Mornings:
    _plaques: dict[str, _Morning] = field(default_factory=dict)
    _hours: dict[tuple[date, int], FloatArray] = field(default_factory=dict)

    def step(
        self,
        days: Mapping[str, list[PlaqueDay]],
        users: Mapping[str, float | None],
        now: datetime,
        most: float,
        raised_day: RaisedDay,
    ) -> Nowcasts:
        """Record this tick's readings; decide the nowcasts whose window just ended; the plans to act on."""
        out = {p: list(pds) for p, pds in days.items()}
        factors: dict[str, float] = {}
        decided: dict[str, Nowcast] = {}
        failed: dict[str, str] = {}
        current = min((pds[0].day for pds in days.values()), default=None)
        for plaque in [p for p, m in self._plaques.items() if current is not None and m.day < current]:
            del self._plaques[plaque]  # a past day's (a plaque held for a tick keeps its morning)
        for plaque, pds in days.items():
            today = pds[0]
            m = self._record(plaque, today, now, users.get(plaque))
            if not m.decided and decided_by(local_hour(now)):  # once, at the first tick after the window
                read = np.where(m.count > 0, m.total / np.maximum(m.count, 1), np.nan)
                m.nowcast = morning(self._hours_of(today), today.users, read, local_hour(now), most)
                m.decided = True
                if m.nowcast is not None:
                    decided[plaque] = m.nowcast
            # the setting in force now: lowering nowcast_most (1: off) in the afternoon takes effect at once
            factor = min(m.nowcast.factor, max(most, 1.0)) if m.nowcast is not None else 1.0
            factors[plaque] = factor
            if factor <= 1.0:
                continue
            raised = raised_day(today.day, plaque, factor)
            if isinstance(raised, str):
                failed[plaque] = raised
                continue
            out[plaque][0] = with_nowcast(today, raised)
        return Nowcasts(out, factors, decided, failed)

    def _record(self, plaque: str, today: PlaqueDay, now: datetime, reading: float | None) -> _Morning:
        m = self._plaques.get(plaque)
        if m is None or m.day != today.day or m.total.size != today.users.size:
            m = self._plaques[plaque] = _Morning(today.day, np.zeros(today.users.size), np.zeros(today.users.size))
        if reading is not None:
            i = slot_index(today, now)
            m.total[i] += reading
            m.count[i] += 1
        return m

    def _hours_of(self, today: PlaqueDay) -> FloatArray:
        """Local hour of each slot start (a DST day has 23 or 25 hours: read the clock, not the index)."""
        key = (today.day, today.starts.size)
        if key not in self._hours:
            self._hours = {k: v for k, v in self._hours.items() if k[0] >= today.day}
            self._hours[key] = local_hours([datetime.fromtimestamp(s, PARIS) for s in today.starts])
        return self._hours[key]
