"""The season as a deployment refitting weekly would have planned it: the operator's own refit decision.

At every scheduled refit (`learning.refit.refit_instants`) the history of the year before is fitted,
validated against the model in force and accepted or rejected by `learning.refit.refit` — the function
`capctl run --refit weekly` calls. Each day is planned with the model in force at its start. Only the
per-plaque rates of accepted models are kept (a few MB each), never a day's plan.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from capacity.calendar.types import Calendar
from capacity.common.timegrid import PARIS
from capacity.learning.history import History
from capacity.learning.refit import (
    ACCEPTED,
    DEFAULT_OPTIONS,
    DEFAULT_SCHEDULE,
    REJECTED,
    RefitOptions,
    RefitSchedule,
    history_between,
    history_window,
    per_plaque,
    refit,
    refit_instants,
)
from capacity.planning.demand import UsageRates
from capacity.policy.topology import Plaque

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RefitRecord:
    at: datetime
    result: str
    candidate_error: float | None
    current_error: float | None
    reason: str


@dataclass(frozen=True)
class RefitReplay:
    """Rates in force per day, and what each refit decided."""

    starts: tuple[date, ...]  # first local day each model plans (sorted)
    models: tuple[Mapping[str, UsageRates], ...]
    records: tuple[RefitRecord, ...]

    def rates_for(self, day: date) -> Mapping[str, UsageRates]:
        i = bisect.bisect_right(self.starts, day) - 1
        return self.models[max(i, 0)]

    def count(self, result: str) -> int:
        return sum(1 for r in self.records if r.result == result)

    def summary(self) -> dict[str, object]:
        return {
            "refits": len(self.records),
            ACCEPTED: self.count(ACCEPTED),
            REJECTED: self.count(REJECTED),
            "history": [
                {"at": r.at.isoformat(), "result": r.result, "candidate_error": r.candidate_error,
                 "current_error": r.current_error}
                for r in self.records
            ],
        }  # fmt: skip


def history_first(
    first: date, options: RefitOptions = DEFAULT_OPTIONS, schedule: RefitSchedule = DEFAULT_SCHEDULE
) -> date:
    """The first local day of history the window's refits read (the year before the first refit)."""
    return history_window(refit_instants(first, first, schedule)[0].astimezone(PARIS).date(), options)[0]


def replay_refits(
    history: History,
    calendar: Calendar,
    plaques: Sequence[Plaque],
    initial: UsageRates | Mapping[str, UsageRates],
    first: date,
    last: date,
    *,
    schedule: RefitSchedule = DEFAULT_SCHEDULE,
    options: RefitOptions = DEFAULT_OPTIONS,
    on_progress: Progress | None = None,
) -> RefitReplay:
    """Run every scheduled refit of the window on `history` (which must cover the year before `first`)."""
    ids = [p.id for p in plaques]
    current: Mapping[str, UsageRates] = per_plaque(initial, plaques)
    starts, models, records = [first], [current], []
    instants = refit_instants(first, last, schedule)
    for i, at in enumerate(instants):
        day = at.astimezone(PARIS).date()
        window = history_between(history, *history_window(day, options))
        outcome = refit(window, calendar, plaques, current, day, options, {"prometheus": history.source})
        v = outcome.validation
        records.append(RefitRecord(at, outcome.result, v.candidate_error, v.current_error, outcome.reason))
        if outcome.accepted:
            current = outcome.model.rates_by_plaque(ids)
            effective = max(first, day)
            if effective == starts[-1]:
                models[-1] = current
            else:
                starts.append(effective)
                models.append(current)
        if on_progress is not None:
            on_progress(i + 1, len(instants))
    return RefitReplay(tuple(starts), tuple(models), tuple(records))
