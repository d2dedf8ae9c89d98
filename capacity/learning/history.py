"""Fetch history from a metrics source into plain arrays on a regular UTC grid.

This is the only place that knows about labels: after it, sessions are arrays [profile, instant] per
plaque and requests/CPU are arrays [instant] per (plaque, component), NaN where nothing was scraped.
Duplicated series (the same key twice: HA pair, second job) are merged by their maximum, not summed.
An empty or all-NaN answer for the whole window is an error; a plaque missing alone is only noted,
so the fitter can keep that plaque's prior and say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from capacity.common.errors import DataSourceError
from capacity.learning.queries import QueryConfig
from capacity.learning.source import MetricsSource, RangeSeries
from capacity.learning.window import instant_range_s
from capacity.policy.topology import PROFILES, Plaque

FloatArray = npt.NDArray[np.float64]
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class History:
    """Samples on the grid start_s + k * step_s, k < n (UTC seconds)."""

    start_s: int
    step_s: int
    n: int
    sessions: Mapping[str, FloatArray]  # plaque -> [profile (PROFILES order), instant]
    requests: Mapping[tuple[str, str], FloatArray] = field(default_factory=dict)  # (plaque, component) -> rps
    cpu: Mapping[tuple[str, str], FloatArray] = field(default_factory=dict)  # (plaque, component) -> cores
    notes: tuple[str, ...] = ()
    source: str = ""


def fetch_history(
    source: MetricsSource,
    config: QueryConfig,
    plaques: Sequence[Plaque],
    first: date,
    last: date,
    step_s: int,
    *,
    component_first: date | None = None,
    with_components: bool = True,
    on_progress: ProgressCallback | None = None,
) -> History:
    """Sessions over local days first..last; requests and CPU over component_first..last (if wanted)."""
    start_s, end_s = instant_range_s(first, last, step_s)
    n = (end_s - start_s) // step_s + 1
    comp_start_s = max(start_s, instant_range_s(component_first, last, step_s)[0]) if component_first else start_s
    plan = [("sessions", start_s)] + ([("requests", comp_start_s), ("cpu", comp_start_s)] if with_components else [])
    totals = [len(source.chunks(s, end_s, step_s)) for _, s in plan]
    done = 0

    def tick(i: int, _total: int) -> None:
        if on_progress is not None:
            on_progress(done + i, sum(totals))

    fetched: dict[str, list[RangeSeries]] = {}
    for (metric, s0), count in zip(plan, totals, strict=True):
        fetched[metric] = source.query_range(config.promql(metric, step_s), s0, end_s, step_s, on_chunk=tick)
        done += count

    notes: list[str] = []
    window = f"{first} to {last}"
    sessions = _sessions(source, config, plaques, fetched["sessions"], start_s, step_s, n, window, notes)
    requests: dict[tuple[str, str], FloatArray] = {}
    cpu: dict[tuple[str, str], FloatArray] = {}
    if with_components:
        requests = _by_component(config, plaques, fetched["requests"], start_s, step_s, n, "requests", notes)
        cpu = _by_component(config, plaques, fetched["cpu"], start_s, step_s, n, "cpu", notes)
    return History(start_s, step_s, n, sessions, requests, cpu, tuple(notes), source.name)


def place(series: Iterable[RangeSeries], start_s: int, step_s: int, n: int) -> FloatArray:
    """Put samples on the grid (NaN where absent); several series on the same grid merge by maximum."""
    out = np.full(n, np.nan)
    for s in series:
        offset = s.timestamps_s - start_s
        idx = offset // step_s
        ok = (offset % step_s == 0) & (idx >= 0) & (idx < n)
        out[idx[ok]] = np.fmax(out[idx[ok]], s.values[ok])
    return out


def _sessions(
    source: MetricsSource,
    config: QueryConfig,
    plaques: Sequence[Plaque],
    result: list[RangeSeries],
    start_s: int,
    step_s: int,
    n: int,
    window: str,
    notes: list[str],
) -> dict[str, FloatArray]:
    promql = config.promql("sessions", step_s)
    if not result:
        present = source.series(config.match["sessions"], start_s, start_s + n * step_s)
        why = (
            "the metric exists but the query matched nothing"
            if present
            else f"no series {config.match['sessions']!r} at all in that window"
        )
        raise DataSourceError(
            f"no session data from {source.name} for {window} ({why}): check --from/--to, the metric name "
            f"and the `sessions` query in {config.source} ({promql})"
        )
    if all(np.isnan(s.values).all() for s in result):  # ±inf is data, refused later as impossible
        raise DataSourceError(
            f"session data from {source.name} for {window} is only NaN: the exporter reports no numbers; "
            f"check it, or the `sessions` query in {config.source} ({promql})"
        )
    known = {p.id for p in plaques}
    plaque_label, profile_label = config.labels["plaque"], config.labels["profile"]
    grouped: dict[tuple[str, int], list[RangeSeries]] = {}
    for s in result:
        pid, raw_profile = s.labels.get(plaque_label), s.labels.get(profile_label)
        if pid not in known:
            continue  # another plaque (not asked for), or a label the queries file should name
        profile = config.profile_of(raw_profile) if raw_profile is not None else None
        if profile is None:
            _note_once(notes, f"ignored session series {dict(s.labels)}: profile not in `profiles` of {config.source}")
            continue
        grouped.setdefault((pid, PROFILES.index(profile)), []).append(s)
    if not grouped:
        seen = ", ".join(str(dict(s.labels)) for s in result[:3])
        raise DataSourceError(
            f"session data from {source.name} matches none of the plaques {', '.join(sorted(known))} "
            f"(label `{plaque_label}`; series look like {seen}): set `labels` in the queries file"
        )
    out: dict[str, FloatArray] = {}
    for plaque in plaques:
        rows = np.full((len(PROFILES), n), np.nan)
        for q in range(len(PROFILES)):
            rows[q] = place(grouped.get((plaque.id, q), []), start_s, step_s, n)
        if np.isnan(rows).all():
            notes.append(f"{plaque.id}: no session data in the window (NaN or missing): it keeps its prior")
            continue
        for q, profile in enumerate(PROFILES):
            if np.isnan(rows[q]).all():
                notes.append(f"{plaque.id}: no session data for profile {profile}: that profile keeps its prior")
        out[plaque.id] = rows
    return out


def _by_component(
    config: QueryConfig,
    plaques: Sequence[Plaque],
    result: list[RangeSeries],
    start_s: int,
    step_s: int,
    n: int,
    metric: str,
    notes: list[str],
) -> dict[tuple[str, str], FloatArray]:
    """Map series to (plaque, component) by plaque/component labels, else by namespace/container."""
    lab = config.labels
    by_ns: dict[tuple[str, str], tuple[str, str]] = {}
    by_name: dict[tuple[str, str], tuple[str, str]] = {}
    for p in plaques:
        for c in p.components:
            by_ns[(c.target.namespace, c.target.name)] = (p.id, c.name)
            by_ns[(p.namespace, c.target.name)] = (p.id, c.name)
            by_name[(p.id, c.name)] = (p.id, c.name)
            by_name[(p.id, c.target.name)] = (p.id, c.name)
    grouped: dict[tuple[str, str], list[RangeSeries]] = {}
    for s in result:
        key = by_name.get((s.labels.get(lab["plaque"], ""), s.labels.get(lab["component"], "")))
        if key is None:
            key = by_ns.get((s.labels.get(lab["namespace"], ""), s.labels.get(lab["container"], "")))
        if key is not None:
            grouped.setdefault(key, []).append(s)
    out = {key: place(series, start_s, step_s, n) for key, series in grouped.items()}
    missing = [f"{p.id}/{c.name}" for p in plaques for c in p.components if (p.id, c.name) not in out]
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        notes.append(f"no {metric} data for {shown}: those components keep their configured capacity")
    return {k: v for k, v in out.items() if np.isfinite(v).any()}


def _note_once(notes: list[str], text: str) -> None:
    if text not in notes and len(notes) < 50:
        notes.append(text)
