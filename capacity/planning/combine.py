"""How the funders of one plaque combine, slot by slot (pure, numpy).

The rule (documented for contacts in policies/LISEZMOI.md):
  1. share   each funder carries the part of the plaque's wish that its own users make up at the slot
             that drove the wish (users = population × usage rates of the levels and départements it
             funds, so the share follows population and each level's day state);
  2. floor   its share is raised to its floor: replicas, or users served during class hours, or an
             exam period's higher floor (`floor:<id>`); the plaque's floor is the sum of the funders';
  3. ceiling its share is cut to its ceiling (`ceiling:<id>`); the plaque's ceiling is the sum;
  4. budget  then to its budget ceiling: the mandate's ceiling × the month's budget level θ ≤ 1
             (`budget:<id>`; capacity/planning/budget.py finds θ); floors win over the budget;
  5. hold    in its maintenance windows its share does not go down (`maintenance:<id>`), within
             its ceiling and budget.
Each replica of the plan belongs to exactly one funder, who pays for it; no funder pays beyond its
mandate, and what the clamps cut is what the plan reports as cut for that funder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capacity.calendar.types import DayInfo
from capacity.common.timegrid import BASE_STEP_S, DayGrid
from capacity.policy.bundle import Funder
from capacity.policy.sizing import floor_replicas
from capacity.policy.topology import Component, Plaque

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ComponentLimitsDay:
    """What the funders allow one component on one day: arrays over funders (and slots)."""

    floor: IntArray  # [funder, slot]
    ceiling: IntArray  # [funder]
    hold: BoolArray  # [funder, slot] maintenance window: no scale-down of the funder's share


@dataclass(frozen=True)
class Clamped:
    """Funder shares after every mandate step (see module docstring)."""

    clamped: IntArray  # [funder, slot] after floor and ceiling, before budget and hold
    replicas: IntArray  # [funder, slot] final
    cap: IntArray  # [funder, slot] effective ceiling: min(ceiling, budget ceiling), never under the floor
    floor_hit: BoolArray
    ceiling_hit: BoolArray
    budget_hit: BoolArray
    hold_hit: BoolArray


def budget_ceiling(ceiling: IntArray, level: FloatArray) -> IntArray:
    """Budget ceiling per funder: ⌊θ × ceiling⌋ (θ = 1 when the mandate's budget is not binding)."""
    return np.floor(ceiling * level + 1e-9).astype(np.int64)


def clamp(wish: IntArray, limits: ComponentLimitsDay, level: FloatArray) -> Clamped:
    """Apply floor, ceiling, budget level θ [funder] and maintenance hold to funder shares [funder, slot]."""
    floor = np.minimum(limits.floor, limits.ceiling[:, None])
    clamped = np.clip(wish, floor, limits.ceiling[:, None])
    cap = np.maximum(np.minimum(limits.ceiling, budget_ceiling(limits.ceiling, level))[:, None], floor)
    capped = np.minimum(clamped, cap)
    replicas = hold(capped, limits.hold)
    replicas = np.minimum(replicas, cap)
    return Clamped(
        clamped=clamped,
        replicas=replicas,
        cap=cap,
        floor_hit=wish < floor,
        ceiling_hit=wish > limits.ceiling[:, None],
        budget_hit=capped < clamped,
        hold_hit=replicas > capped,
    )


def hold(values: IntArray, mask: BoolArray) -> IntArray:
    """Within each run of True in `mask` (per row), values never go down (running maximum)."""
    if not mask.any():
        return values
    out = values.copy()
    for row in np.flatnonzero(mask.any(axis=1)):
        m = mask[row].astype(np.int8)
        edges = np.diff(np.concatenate([[0], m, [0]]))
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            out[row, start:stop] = np.maximum.accumulate(out[row, start:stop])
    return out


def slot_minutes(grid: DayGrid) -> IntArray:
    """Local minute of the day at which each slot starts."""
    return np.asarray(grid.base_slot * (BASE_STEP_S // 60), dtype=np.int64)


def span_limits(
    plaque: Plaque, funders: Sequence[Funder], grids: Sequence[DayGrid], infos: Sequence[Sequence[DayInfo]]
) -> dict[str, ComponentLimitsDay]:
    """Per component, what each funder guarantees and allows in each slot of consecutive days.

    Floors: the replica floor always; the users floor in class hours of weekdays when one of the
    funder's segments has class; an exam period's floor in class hours of its weekdays.
    """
    lengths = [len(g) for g in grids]
    day_idx = np.repeat(np.arange(len(grids)), lengths)
    minutes = np.concatenate([slot_minutes(g) for g in grids])
    windows = any(
        w.applies_to(plaque.id, c.name) for f in funders for w in f.mandate.maintenance for c in plaque.components
    )
    starts = np.array([s.timestamp() for g in grids for s in g.starts]) if windows else np.zeros(0)
    ends = starts + grids[0].step_s
    weekday = np.array([g.day.weekday() < 5 for g in grids])
    has_class = np.array([[i.has_class for i in day] for day in infos], dtype=bool).T  # [segment, day]
    k, n = len(funders), len(minutes)
    in_hours = np.zeros((k, n), dtype=bool)
    class_slot = np.zeros((k, n), dtype=bool)
    for f, funder in enumerate(funders):
        hours = funder.mandate.class_hours
        in_hours[f] = (minutes >= hours.start_min) & (minutes < hours.end_min)
        class_day = weekday & has_class[list(funder.segments)].any(axis=0)
        class_slot[f] = in_hours[f] & class_day[day_idx]
    out: dict[str, ComponentLimitsDay] = {}
    for comp in plaque.components:
        floor = np.zeros((k, n), dtype=np.int64)
        ceiling = np.zeros(k, dtype=np.int64)
        held = np.zeros((k, n), dtype=bool)
        for f, funder in enumerate(funders):
            m = funder.mandate
            lim = funder.limits(comp.name)
            ceiling[f] = lim.ceiling
            floor[f] = lim.floor
            users = m.component_floor_users(plaque.id, comp.name)
            if users is not None:
                floor[f, class_slot[f]] = max(lim.floor, floor_replicas(users, comp))
            for exam in m.exams:
                exam_day = np.array([exam.applies(plaque.id, g.day) for g in grids])
                if not exam_day.any():
                    continue
                extra = exam.floors.get(comp.name, 0)
                if exam.floor_users is not None:
                    extra = max(extra, floor_replicas(exam.floor_users, comp))
                mask = in_hours[f] & exam_day[day_idx]
                floor[f, mask] = np.maximum(floor[f, mask], extra)
            for w in m.maintenance:
                if w.applies_to(plaque.id, comp.name):
                    held[f] |= (starts < w.end.timestamp()) & (ends > w.start.timestamp())
        out[comp.name] = ComponentLimitsDay(floor=floor, ceiling=ceiling, hold=held)
    return out


def day_limits(
    plaque: Plaque, funders: Sequence[Funder], grid: DayGrid, infos: Sequence[DayInfo]
) -> dict[str, ComponentLimitsDay]:
    """`span_limits` for one day."""
    return span_limits(plaque, funders, [grid], [infos])


def constant_limits(component: Component, funders: Sequence[Funder], n: int) -> ComponentLimitsDay:
    """Replica floors and ceilings only (no calendar): for callers that plan without a day context."""
    floors = np.array([f.limits(component.name).floor for f in funders], dtype=np.int64)
    ceilings = np.array([f.limits(component.name).ceiling for f in funders], dtype=np.int64)
    return ComponentLimitsDay(
        floor=np.repeat(floors[:, None], n, axis=1),
        ceiling=ceilings,
        hold=np.zeros((len(funders), n), dtype=bool),
    )


def budget_levels(funders: Sequence[Funder], levels: Mapping[str, float] | None) -> FloatArray:
    """θ per funder (1 when its mandate has no binding budget this month)."""
    levels = levels or {}
    return np.array([levels.get(f.mandate.id, 1.0) for f in funders], dtype=np.float64)
