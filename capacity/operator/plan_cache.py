"""The operator's plans kept between ticks: a `PlaqueDay` per plaque and day, budget levels per month.

A tick at a thousand plaques cannot re-plan: planning a day takes seconds and a month's budget levels
tens of seconds. Plans are a function of the day and the configuration only, so each (plaque, day) is
planned once and each month's budget levels once, then read by every tick of the day. Entries belong
to one configuration version (`Config.version` changes when policies, events, model or settings
reload): a new version drops them all. A plaque that cannot be planned is kept as why (the
controller holds it: blast radius of one plaque). Days before the earliest one asked for are dropped, so the
cache holds today and, near midnight, tomorrow. The controller owns its cache (no module-level state
keeps old configurations alive).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from capacity.calendar.types import check_supported
from capacity.common.errors import CapctlError
from capacity.common.timegrid import BASE_STEP_S
from capacity.operator.lookahead import PlaqueDay
from capacity.operator.reload import Config
from capacity.planning.budget import month_budget_levels
from capacity.planning.plans import plan_plaques
from capacity.policy.topology import Plaque

log = logging.getLogger("capctl.controller")


class PlanCache:
    """Day digests per (plaque, day) and budget levels per month, for one configuration version.

    A plaque that cannot be planned (a plan error, or a bug) keeps why, in place of its digest, so one
    plaque never stops the others (the controller holds it); `on_error` hears "plan" or "internal" once
    per failure, when it happens, not on every tick that reads it.
    """

    def __init__(
        self, on_error: Callable[[str], None] = lambda _kind: None, keepalive: Callable[[], None] = lambda: None
    ) -> None:
        self.on_error = on_error
        self.keepalive = keepalive  # called between plaques while planning (the controller renews its Lease)
        self._version: str | None = None
        self._days: dict[date, dict[str, PlaqueDay | str]] = {}
        self._levels: dict[tuple[int, int], Mapping[str, float] | str] = {}
        self._raised: dict[tuple[date, str, float], PlaqueDay | str] = {}

    def days(self, cfg: Config, days: Sequence[date]) -> tuple[dict[str, list[PlaqueDay]], dict[str, str]]:
        """Per plaque id (topology order), its digest for each of `days` (planned when missing); and the
        plaques that could not be planned, with why."""
        self._check_version(cfg)
        for d in [d for d in self._days if d < min(days)]:
            del self._days[d]
        self._raised = {k: v for k, v in self._raised.items() if k[0] >= min(days)}
        for d in days:
            if d not in self._days:
                self._days[d] = self._plan(cfg, d)
        months = {(d.year, d.month) for d in self._days}
        self._levels = {m: v for m, v in self._levels.items() if m in months}
        out: dict[str, list[PlaqueDay]] = {}
        held: dict[str, str] = {}
        for p in cfg.policies.topology.plaques:
            mine = [self._days[d][p.id] for d in days]
            failed = next((x for x in mine if isinstance(x, str)), None)
            if failed is not None:
                held[p.id] = failed
            else:
                out[p.id] = [x for x in mine if isinstance(x, PlaqueDay)]
        return out, held

    def budget_levels(self, cfg: Config, day: date) -> Mapping[str, float] | None:
        """θ per mandate for the month of `day`, computed once per month and configuration (None: they
        could not be computed; the error is what `days` reports for every plaque)."""
        levels = self._month_levels(cfg, day)
        return None if isinstance(levels, str) else levels

    def raised_day(self, cfg: Config, day: date, plaque_id: str, factor: float) -> PlaqueDay | str:
        """`plaque_id`'s `day` planned with its forecast × `factor` (a nowcast, planning/nowcast.py) and the
        month's budget levels, once per (day, plaque, factor); or why it could not be planned."""
        self._check_version(cfg)
        key = (day, plaque_id, factor)
        if key not in self._raised:
            plaque = cfg.policies.topology.plaque(plaque_id)
            self._raised[key] = self._plan(cfg, day, [plaque], {plaque_id: factor})[plaque_id]
        return self._raised[key]

    def _check_version(self, cfg: Config) -> None:
        if cfg.version != self._version:
            self._version, self._days, self._levels, self._raised = cfg.version, {}, {}, {}

    def _month_levels(self, cfg: Config, day: date) -> Mapping[str, float] | str:
        self._check_version(cfg)
        key = (day.year, day.month)
        if key not in self._levels:
            try:
                check_supported(cfg.calendar, day)  # before the month's levels: the error names the day
                self._levels[key] = month_budget_levels(
                    day, BASE_STEP_S, cfg.policies, cfg.calendar, cfg.rates, between_plaques=self.keepalive
                )
            except CapctlError as exc:
                self.on_error("plan")
                self._levels[key] = str(exc)
        return self._levels[key]

    def _plan(
        self,
        cfg: Config,
        day: date,
        plaques: Sequence[Plaque] | None = None,
        nowcast: Mapping[str, float] | None = None,
    ) -> dict[str, PlaqueDay | str]:
        todo = cfg.policies.topology.plaques if plaques is None else plaques
        levels = self._month_levels(cfg, day)
        if isinstance(levels, str):
            return {p.id: levels for p in todo}
        out: dict[str, PlaqueDay | str] = {}
        for plaque in todo:
            self.keepalive()
            try:
                plans = plan_plaques(
                    day, BASE_STEP_S, cfg.policies, cfg.calendar, cfg.rates, levels, [plaque], nowcast=nowcast
                )
                out[plaque.id] = PlaqueDay.of(next(iter(plans)))
            except CapctlError as exc:
                self.on_error("plan")
                out[plaque.id] = str(exc)
            except Exception as exc:  # a bug in planning one plaque must not stop the others: logged in full
                log.exception("planning crashed", extra={"fields": {"day": day.isoformat(), "plaque": plaque.id}})
                self.on_error("internal")
                out[plaque.id] = f"planning failed ({type(exc).__name__}: {exc})"
        return out
