"""Glue between the pieces: history → day curves → fitted model → forecasts, and the fit report.

The CLI commands and the benchmarks call these, so a benchmark measures exactly what a user runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from capacity.calendar.types import STATE_AT, Calendar, DayState
from capacity.common.arrays import FloatArray
from capacity.learning.components import fit_components
from capacity.learning.days import DayFrame, compose, day_curves, slot_index
from capacity.learning.fit import FitOptions, FitResult, fit_rates
from capacity.learning.history import History, fetch_history
from capacity.learning.model_file import Model, PlaqueFit
from capacity.learning.plausible import check_sessions
from capacity.learning.queries import QueryConfig
from capacity.learning.recent import Correction
from capacity.learning.source import MetricsSource
from capacity.planning.demand import FLAGS, WEEKDAYS, DayForecast, UsageRates, forecast_day
from capacity.planning.kernel import segment_infos
from capacity.policy.topology import PROFILES, Plaque

#: Capacity per replica changes with every release: fit it on the last weeks only.
COMPONENT_DAYS = 28
#: Weekdays on which each state can happen (the report does not count impossible curves as missing).
POSSIBLE_WEEKDAYS = {
    s: (5, 6)
    if s is DayState.WEEKEND
    else tuple(range(7))
    if s in (DayState.VACANCES, DayState.FERIE)
    else tuple(range(5))
    for s in DayState
}


@dataclass(frozen=True)
class Prepared:
    frame: DayFrame
    curves: dict[str, FloatArray]  # plaque -> [profile, day, slot]


def prepare(calendar: Calendar, plaques: Sequence[Plaque], history: History, first: date, last: date) -> Prepared:
    """Calendar composition and observed day curves for local days first..last; impossible session
    data (negative, infinite, absurd, all zero) is refused here, before any fit or backtest."""
    frame = compose(calendar, plaques, first, last)
    index = slot_index(history.start_s, history.step_s, history.n, frame.days)
    curves = {pid: day_curves(rows, index) for pid, rows in history.sessions.items()}
    check_sessions(frame, curves, history.source)
    return Prepared(frame, curves)


def fetch_for_fit(
    source: MetricsSource,
    config: QueryConfig,
    plaques: Sequence[Plaque],
    first: date,
    last: date,
    step_s: int,
    *,
    with_components: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> History:
    """What a fit reads: sessions over first..last, requests and CPU over the last COMPONENT_DAYS only."""
    return fetch_history(
        source,
        config,
        plaques,
        first,
        last,
        step_s,
        component_first=max(first, last - timedelta(days=COMPONENT_DAYS - 1)),
        with_components=with_components,
        on_progress=on_progress,
    )


def fit_model(
    prepared: Prepared,
    history: History,
    plaques: Sequence[Plaque],
    prior: UsageRates,
    source: Mapping[str, Any],
    options: FitOptions | None = None,
) -> tuple[Model, FitResult]:
    """Fit rates, levels, factors and components; the model covers every plaque (prior for the unfitted)."""
    frame = prepared.frame
    fit = fit_rates(frame, prepared.curves, prior, options=options or FitOptions())
    comp_first = max(0, history.n - COMPONENT_DAYS * 86400 // history.step_s)
    components = fit_components(history.sessions, history.requests, history.cpu, plaques, comp_first)
    plaque_fits = {}
    for p in plaques:
        fitted = p.id in fit.fitted_plaques
        plaque_fits[p.id] = PlaqueFit(
            fitted=fitted,
            level=np.asarray(fit.levels[p.id]),
            state_factors=np.asarray(fit.factors[p.id]),
            components={c.name: components[(p.id, c.name)] for c in p.components if components[(p.id, c.name)].fitted},
            note="" if fitted else "no session data in the window: prior population (level 1), shared rates",
            recent_states=tuple(STATE_AT[s].value for s in sorted(fit.recent_states.get(p.id, ()))),
            level_year=fit.level_years.get(p.id),
            shape=fit.shapes.get(p.id),
        )
    window = (frame.days[0], frame.days[-1])
    label = f"fit of {source.get('prometheus', 'history')} {window[0]} to {window[1]}"
    rates = replace(fit.rates, source=label)
    told = {n.split(":")[0] for n in history.notes}  # a plaque the fetch already reported is not repeated
    notes = (*history.notes, *(n for n in fit.notes if n.split(":")[0] not in told))
    return Model(rates, plaque_fits, window, dict(source), _origin(fit), notes), fit


def _origin(fit: FitResult) -> dict[str, Any]:
    """How each curve was obtained, for the model file (fitted:N plaque-days, pooled:N, prior)."""
    rates = {
        p: {s.value: {w: _how(*fit.origin[(q, k, d)]) for d, w in enumerate(WEEKDAYS)} for k, s in enumerate(DayState)}
        for q, p in enumerate(PROFILES)
    }
    surges = {
        f: {s.value: _how(*fit.surge_origin[(i, k)]) for k, s in enumerate(DayState)} for i, f in enumerate(FLAGS)
    }
    return {"rates": rates, "surges": surges}


def _how(kind: str, n: int) -> str:
    return kind if kind == "prior" else f"{kind}:{n}"


def forecast(
    model_rates: Mapping[str, UsageRates], calendar: Calendar, plaques: Sequence[Plaque], day: date, step_s: int
) -> list[DayForecast]:
    """One day per plaque, each with its own rates (as plan and the operator forecast)."""
    return [forecast_day(model_rates[p.id], p, day, segment_infos(calendar, p, day), step_s) for p in plaques]


def fit_report(model: Model, fit: FitResult, history: History) -> dict[str, Any]:
    """What the fit learned and where it fell back, as plain data (JSON output, table)."""
    states: dict[str, Any] = {}
    for k, s in enumerate(DayState):
        kinds = [fit.origin[(q, k, d)] for q in range(len(PROFILES)) for d in POSSIBLE_WEEKDAYS[s]]
        states[s.value] = {
            "fitted_curves": sum(1 for how, _ in kinds if how == "fitted"),
            "pooled_curves": sum(1 for how, _ in kinds if how == "pooled"),
            "prior_curves": sum(1 for how, _ in kinds if how == "prior"),
            "plaque_days": max((n for _, n in kinds), default=0),
        }
    plaques = {}
    for pid, pf in model.plaques.items():
        plaques[pid] = {
            "fitted": pf.fitted,
            "level": {p: round(float(pf.level[q]), 3) for q, p in enumerate(PROFILES)},
            "level_school_year": None if pf.level_year is None else f"{pf.level_year}-{pf.level_year + 1}",
            "state_factors": {
                s.value: round(float(pf.state_factors[k]), 3)
                for k, s in enumerate(DayState)
                if s in (DayState.PRESENTIEL, DayState.HYBRIDE, DayState.DISTANCIEL)
            },
            "components_fitted": sorted(pf.components),
            "own_shape": _bends(pf.shape),
            "recent_correction": _recent(fit.recent_corrections.get(pid)),
            "note": pf.note,
        }
    surges = {
        f"{FLAGS[i]}/{s.value}": n
        for (i, k), (how, n) in sorted(fit.surge_origin.items())
        for s in [STATE_AT[k]]
        if how == "fitted"
    }
    return {
        "fit_window": {"from": model.fit_window[0].isoformat(), "to": model.fit_window[1].isoformat()},
        "source": dict(model.source),
        "samples": int(sum(np.isfinite(v).sum() for v in history.sessions.values())),
        "states": states,
        "surges_fitted": surges,
        "relative_error": {
            "ordinary": round(float(model.rates.relative_error[0]), 4),
            "event": round(float(model.rates.relative_error[1]), 4),
        },
        "plaques": plaques,
        "notes": list(model.notes),
    }


def _bends(shape: FloatArray | None) -> dict[str, float]:
    """Per class state with an own day shape (learning/shape.py): the largest bend from the shared curve."""
    if shape is None:
        return {}
    most = np.abs(np.log(shape)).max(axis=(0, 2))
    return {s.value: round(float(np.expm1(most[k])), 3) for k, s in enumerate(DayState) if most[k] > 0}


def _recent(c: Correction | None) -> dict[str, Any] | None:
    """The recent correction inside a plaque's factors (recent.py): its factor, days and state read."""
    if c is None:
        return None
    state = None if c.state is None else STATE_AT[c.state].value
    return {"factor": round(float(np.exp(c.log)), 3), "days": c.days, "state": state}


def history_window(day: date, days: int) -> tuple[date, date]:
    """The `days` local days before `day` (what a forecast for `day` may learn from)."""
    return day - timedelta(days=days), day - timedelta(days=1)
