"""The operator's plans kept between ticks: a `PlaqueDay` per plaque and day, budget levels per month.

A tick at a thousand plaques cannot re-plan: planning a day takes seconds and a month's budget levels
tens of seconds. Plans are a function of the day and the configuration only, so each (plaque, day) is
planned once and each month's budget levels once, then read by every tick of the day. Entries belong
to one configuration version (`Config.version` changes when policies, events, model or settings
reload): a new version drops them all. Days before the earliest one asked for are dropped, so the
cache holds today and, near midnight, tomorrow. The controller owns its cache (no module-level state
keeps old configurations alive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from capacity.calendar.types import check_supported
from capacity.common.timegrid import BASE_STEP_S
from capacity.operator.lookahead import PlaqueDay
from capacity.operator.reload import Config
from capacity.planning.budget import month_budget_levels
from capacity.planning.plans import plan_plaques


class PlanCache:
    """Day digests per (plaque, day) and budget levels per month, for one configuration version."""

    def __init__(self) -> None:
        self._version: str | None = None
        self._days: dict[date, dict[str, PlaqueDay]] = {}
        self._levels: dict[tuple[int, int], Mapping[str, float]] = {}

    def days(self, cfg: Config, days: Sequence[date]) -> dict[str, list[PlaqueDay]]:
        """Per plaque id (topology order), its digest for each of `days` (planned when missing)."""
        if cfg.version != self._version:
            self._version, self._days, self._levels = cfg.version, {}, {}
        for d in [d for d in self._days if d < min(days)]:
            del self._days[d]
        for d in days:
            if d not in self._days:
                self._days[d] = self._plan(cfg, d)
        months = {(d.year, d.month) for d in self._days}
        self._levels = {m: v for m, v in self._levels.items() if m in months}
        return {p.id: [self._days[d][p.id] for d in days] for p in cfg.policies.topology.plaques}

    def budget_levels(self, cfg: Config, day: date) -> Mapping[str, float]:
        """θ per mandate for the month of `day`, computed once per month and configuration."""
        if cfg.version != self._version:
            self._version, self._days, self._levels = cfg.version, {}, {}
        key = (day.year, day.month)
        if key not in self._levels:
            self._levels[key] = month_budget_levels(day, BASE_STEP_S, cfg.policies, cfg.calendar, cfg.rates)
        return self._levels[key]

    def _plan(self, cfg: Config, day: date) -> dict[str, PlaqueDay]:
        check_supported(cfg.calendar, day)  # before the month's levels: the error names the day
        levels = self.budget_levels(cfg, day)
        plans = plan_plaques(day, BASE_STEP_S, cfg.policies, cfg.calendar, cfg.rates, levels)
        return {pp.plaque.id: PlaqueDay.of(pp) for pp in plans}
