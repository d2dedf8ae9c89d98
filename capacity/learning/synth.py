"""Deterministic synthetic ENT history for the shipped plaques: demos, tests and benchmarks.

It carries what real data has and the fitter must survive: multiplicative noise on every sample, a
random multiplier per day (AR(1) across days), scrape gaps (short ones and one long outage per school
year), a few NaN samples, counter resets at every deploy, a duplicated exporter for three weeks, an
incident (outage then reconnection storm) once per school year per plaque, accounts that grow through
the year and from year to year, habits that change after the first lockdown, a winter high and a June
low for lycéens. Day shapes come from synth_shapes.py, not from the fitter's model.

Randomness is keyed by (seed, plaque, day) so a day's values do not depend on the window asked for:
three weeks of history are exactly the corresponding part of two years.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from capacity.calendar.types import Calendar, DayInfo, DayState, Level
from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.common.errors import InputError
from capacity.common.timegrid import BASE_STEP_S, day_grid, local_hours
from capacity.learning.history import History
from capacity.learning.openmetrics import SampleSeries
from capacity.learning.synth_shapes import INTENSITY, PROFILE_SHAPES, Habits, incident, surge_curve
from capacity.learning.window import midnight_s
from capacity.planning.kernel import segment_infos
from capacity.policy.topology import PROFILES, Component, Plaque

METRICS = ("sessions", "requests", "cpu")
PROFILE_LABELS = ("eleve", "enseignant", "parent")
EPOCH = date(2015, 8, 1)  # the AR(1) day multiplier runs from here so any window sees the same values
AR_RHO = 0.5  # day-to-day persistence of the day multiplier
_KINDS = {
    DayState.PRESENTIEL: "class",
    DayState.HYBRIDE: "hybrid",
    DayState.DISTANCIEL: "distance",
    DayState.VACANCES: "holiday",
    DayState.FERIE: "sunday",
}


@dataclass(frozen=True)
class SynthOptions:
    seed: int = 20200316
    step_s: int = BASE_STEP_S
    metrics: tuple[str, ...] = METRICS
    components_from: date | None = None

    def __post_init__(self) -> None:
        if self.step_s % BASE_STEP_S or 3600 % self.step_s:
            raise InputError(f"synthetic step must be 5m, 15m, 30m or 1h, got {self.step_s} s")
        unknown = set(self.metrics) - set(METRICS)
        if unknown:
            raise InputError(f"unknown metric(s) {sorted(unknown)}: choose from {', '.join(METRICS)}")


@dataclass(frozen=True)
class ComponentTruth:
    """What the generator used for one component: the fitter should find these back."""

    requests_per_user_s: float
    rps_per_replica: float
    cpu_s_per_request: float


@dataclass(frozen=True)
class Synth:
    """Generated history on the grid start_s + k * step_s; NaN values are samples the exporter sent as NaN."""

    start_s: int
    step_s: int
    sessions: Mapping[str, FloatArray]  # plaque -> [profile, instant]
    present: Mapping[str, BoolArray]  # plaque -> [instant], False during scrape gaps
    duplicate: Mapping[str, FloatArray]  # plaque -> [profile, instant] second exporter (NaN when absent)
    rps: Mapping[tuple[str, str], FloatArray] = field(default_factory=dict)
    cores: Mapping[tuple[str, str], FloatArray] = field(default_factory=dict)
    deploys: Mapping[tuple[str, str], IntArray] = field(default_factory=dict)  # instants of counter resets
    components: Mapping[tuple[str, str], ComponentTruth] = field(default_factory=dict)
    namespaces: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # -> (namespace, container)
    incidents: tuple[tuple[str, int], ...] = ()
    components_start: int = 0  # first instant index with component metrics

    @property
    def n(self) -> int:
        return next(iter(self.present.values())).size

    @property
    def timestamps_s(self) -> IntArray:
        return self.start_s + np.arange(self.n, dtype=np.int64) * self.step_s

    def history(self) -> History:
        """What Prometheus answers with the default queries (max over duplicates, gaps as NaN)."""
        sessions = {
            p: np.fmax(np.where(self.present[p], v, np.nan), self.duplicate[p]) for p, v in self.sessions.items()
        }
        requests = {k: np.where(self.present[k[0]], v, np.nan) for k, v in self.rps.items()}
        return History(self.start_s, self.step_s, self.n, sessions, requests, dict(self.cores), (), "synthetic")

    def series(self) -> Iterator[SampleSeries]:
        """Every series as OpenMetrics samples (gaps left out, counters with resets, pods renamed)."""
        ts = self.timestamps_s
        for p, values in self.sessions.items():
            keep = self.present[p]
            for q, label in enumerate(PROFILE_LABELS):
                labels = {"plaque": p, "profile": label}
                yield SampleSeries("ent_active_sessions", "gauge", labels, ts[keep], values[q, keep])
        for p, dup in self.duplicate.items():
            keep = np.isfinite(dup[0])
            for q, label in enumerate(PROFILE_LABELS):
                labels = {"plaque": p, "profile": label, "instance": "ent-exporter-b"}
                yield SampleSeries("ent_active_sessions", "gauge", labels, ts[keep], dup[q, keep])
        c0 = self.components_start
        for (p, c), rps in self.rps.items():
            counter = _counter(rps[c0:] * self.step_s, self.deploys[(p, c)] - c0)
            keep = self.present[p][c0:]
            labels = {"plaque": p, "component": c}
            yield SampleSeries("ent_http_requests_total", "counter", labels, ts[c0:][keep], counter[keep])
        for (p, c), cores in self.cores.items():
            namespace, container = self.namespaces[(p, c)]
            bounds = [c0, *[int(d) for d in self.deploys[(p, c)] if d > c0], self.n]
            for k, (a, b) in enumerate(itertools.pairwise(bounds)):
                if b <= a:
                    continue
                labels = {"namespace": namespace, "container": container, "pod": f"{container}-{k:04x}"}
                used = np.cumsum(cores[a:b] * self.step_s)
                yield SampleSeries("container_cpu_usage_seconds_total", "counter", labels, ts[a:b], used, decimals=2)


@dataclass
class SynthParts:
    """What a generator gathers plaque by plaque; `build` freezes it into a `Synth` (shared by both generators)."""

    metrics: tuple[str, ...]
    sessions: dict[str, FloatArray] = field(default_factory=dict)
    present: dict[str, BoolArray] = field(default_factory=dict)
    duplicate: dict[str, FloatArray] = field(default_factory=dict)
    rps: dict[tuple[str, str], FloatArray] = field(default_factory=dict)
    cores: dict[tuple[str, str], FloatArray] = field(default_factory=dict)
    deploys: dict[tuple[str, str], IntArray] = field(default_factory=dict)
    truth: dict[tuple[str, str], ComponentTruth] = field(default_factory=dict)
    names: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    incidents: list[tuple[str, int]] = field(default_factory=list)

    @property
    def wants_components(self) -> bool:
        return bool(set(self.metrics) & {"requests", "cpu"})

    def add_plaque(self, plaque_id: str, sessions: FloatArray, present: BoolArray, duplicate: FloatArray) -> None:
        self.sessions[plaque_id] = sessions
        self.present[plaque_id] = present
        self.duplicate[plaque_id] = duplicate

    def add_component(
        self, plaque: str, comp: Component, truth: ComponentTruth, rps: FloatArray, cores: FloatArray, resets: IntArray
    ) -> None:
        """Keep the asked-for metrics of one component, its counter resets, ground truth and pod names."""
        ck = (plaque, comp.name)
        if "requests" in self.metrics:
            self.rps[ck] = rps
        if "cpu" in self.metrics:
            self.cores[ck] = cores
        self.deploys[ck], self.truth[ck] = resets, truth
        self.names[ck] = (comp.target.namespace, comp.target.name)

    def build(self, start_s: int, step_s: int, components_start: int) -> Synth:
        return Synth(
            start_s=start_s,
            step_s=step_s,
            sessions=self.sessions,
            present=self.present,
            duplicate=self.duplicate,
            rps=self.rps,
            cores=self.cores,
            deploys=self.deploys,
            components=self.truth,
            namespaces=self.names,
            incidents=tuple(self.incidents),
            components_start=components_start if (self.rps or self.cores) else 0,
        )


def generate(
    calendar: Calendar, plaques: Sequence[Plaque], first: date, last: date, options: SynthOptions = SynthOptions()
) -> Synth:
    """Synthetic history of local days first..last (inclusive) for `plaques`."""
    if last < first:
        raise InputError(f"--to {last} is before --from {first}")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day_of, hours = _instants(days)
    stride = options.step_s // BASE_STEP_S
    start_s = midnight_s(first)
    n_base = hours.size
    comp_from = options.components_from or first
    c0 = max(0, int(np.searchsorted(day_of, (comp_from - first).days))) // stride
    bounds = np.searchsorted(day_of, np.arange(len(days) + 1))
    parts = SynthParts(options.metrics)
    for p_idx, plaque in enumerate(plaques):
        key = _key(options.seed, plaque)
        users = _users(calendar, plaque, key, days, hours, bounds, None)
        spikes = np.ones(n_base)
        for i, d in enumerate(days):
            a, b = int(bounds[i]), int(bounds[i + 1])
            h = hours[a:b]
            spot = _incident_time(key, d)
            if spot is not None:
                spikes[a:b] = incident(h, spot)
                parts.incidents.append((plaque.id, start_s + a * BASE_STEP_S + int(spot * 3600)))
        noise = np.exp(_day_draws((*key, 4), days, bounds, lambda r, n: r.normal(0, 0.03, (len(PROFILES), n))))
        values = np.round(users * spikes * noise)[:, ::stride]
        nan_at = _day_draws((*key, 5), days, bounds, lambda r, n: r.random((len(PROFILES), n)))[:, ::stride] < 5e-4
        dup = _duplicate(key, p_idx, days, bounds, values, stride)
        parts.add_plaque(plaque.id, np.where(nan_at, np.nan, values), ~_gaps(key, days, bounds)[::stride], dup)
        if not parts.wants_components:
            continue
        total = users.sum(axis=0)[::stride] * spikes[::stride]
        day_starts = bounds // stride
        for c_idx, comp in enumerate(plaque.components):
            made = _component((*key, 10 + c_idx), comp, total, spikes[::stride], days, day_starts)
            parts.add_component(plaque.id, comp, *made)
    return parts.build(start_s, options.step_s, c0)


def expected_users(
    calendar: Calendar, plaque: Plaque, first: date, last: date, seed: int, known_days: int
) -> FloatArray:
    """What a perfect forecaster, knowing this generator and everything up to `known_days` before each day,
    would expect [profile, 5-minute instant]: no sample or day noise, no incident, each day's habits and
    surge draws at their middle, and the AR(1) day multiplier at its conditional mean given its value
    `known_days` earlier. The noise floor a forecast is measured against (as synth_independent's)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    _day_of, hours = _instants(days)
    bounds = np.searchsorted(_day_of, np.arange(len(days) + 1))
    return _users(calendar, plaque, _key(seed, plaque), days, hours, bounds, known_days)


def _key(seed: int, plaque: Plaque) -> tuple[int, ...]:
    """What every random draw of one plaque is keyed by."""
    return (seed, _stable(plaque.id))


def _users(
    calendar: Calendar,
    plaque: Plaque,
    key: tuple[int, ...],
    days: Sequence[date],
    hours: FloatArray,
    bounds: IntArray,
    known_days: int | None,
) -> FloatArray:
    """Users [profile, 5-minute instant] of one plaque before incidents and sample noise (`known_days`:
    see expected_users; None draws every day's randomness)."""
    last = days[-1]
    infos = [segment_infos(calendar, plaque, d) for d in [*days, last + timedelta(days=1)]]
    users = np.zeros((len(PROFILES), hours.size))
    mult = _day_multipliers(key, days[0], last, known_days)
    intensity = np.random.default_rng([*key, 1]).uniform(0.8, 1.25, len(PROFILES)) * np.array(INTENSITY)
    habits = np.random.default_rng([*key, 2]).uniform(-0.13, 0.13, 2)
    for i, d in enumerate(days):
        a, b = int(bounds[i]), int(bounds[i + 1])
        if known_days is None:
            rng = np.random.default_rng([*key, 3, d.toordinal()])
            jitter = Habits(rush_h=habits[0] + rng.normal(0, 0.07), evening_h=habits[1] + rng.normal(0, 0.15))
            draws = {name: float(rng.uniform(0, 1)) for name in ("rentree", "bascule")}
            noise: FloatArray | float = np.exp(rng.normal(0, 0.025, (len(PROFILES), 1)))
        else:  # a forecaster cannot know the day's draws: their middle
            jitter, draws, noise = Habits(rush_h=habits[0], evening_h=habits[1]), {"rentree": 0.5, "bascule": 0.5}, 1.0
        curve = _day_users(plaque, d, infos[i], infos[i + 1], hours[a:b], jitter, intensity, draws)
        users[:, a:b] = curve * mult[i] * noise
    return users


def _instants(days: Sequence[date]) -> tuple[IntArray, FloatArray]:
    """Day index and local hour of every 5-minute instant of the days (DST days have 276 or 300)."""
    day_of, hours = [], []
    normal = np.arange(288) * BASE_STEP_S / 3600
    for i, d in enumerate(days):
        if midnight_s(d + timedelta(days=1)) - midnight_s(d) == 86400:
            h = normal
        else:
            h = local_hours(day_grid(d, BASE_STEP_S).starts)
        hours.append(h)
        day_of.append(np.full(h.size, i, dtype=np.int64))
    return np.concatenate(day_of), np.concatenate(hours)


def _day_users(
    plaque: Plaque,
    d: date,
    today: Sequence[DayInfo],
    tomorrow: Sequence[DayInfo],
    h: FloatArray,
    habits: Habits,
    intensity: FloatArray,
    draws: Mapping[str, float],
) -> FloatArray:
    """Users connected per profile at hours `h` of day `d`, summed over the plaque's segments (`draws`: the
    day's surge strengths in [0, 1])."""
    out = np.zeros((len(PROFILES), h.size))
    accounts = _accounts(d)
    season = 1 + 0.05 * math.cos(2 * math.pi * (d.timetuple().tm_yday - 15) / 365.25)
    habit = 1.0 if d < date(2020, 3, 16) else 1.1  # the first lockdown left ENT habits behind
    groups: dict[tuple[Level, DayInfo, bool], FloatArray] = {}
    for seg, info, nxt in zip(plaque.segments, today, tomorrow, strict=True):
        k = (seg.level, replace(info, because=()), bool(nxt.rentree and not info.has_class))
        groups[k] = groups.get(k, np.zeros(len(PROFILES))) + np.array(seg.population)
    for (level, info, eve_of_rentree), population in groups.items():
        kind = _kind(info, d)
        lycee = level is Level.LYCEE
        for q, shape in enumerate(PROFILE_SHAPES):
            curve = shape(h, kind, d.weekday(), lycee, habits)
            if eve_of_rentree:  # homework the evening before going back
                curve = curve * (1 + 0.6 * np.exp(-0.5 * ((h - 20.0) / 1.5) ** 2))
            factor = _surge(info, d, h, q, draws)
            june = _june(d) if lycee and q == 0 else 1.0
            out[q] += population[q] * accounts * intensity[q] * season * habit * june * curve * factor
    return out


def _june(d: date) -> float:
    """Lycéens drift away after mid-June (exams, révisions elsewhere): down to -20 % by early July."""
    if d.month not in (6, 7, 8):
        return 1.0
    return 1 - 0.2 * min(1.0, max(0.0, (d - date(d.year, 6, 8)).days / 30))


def _kind(info: DayInfo, d: date) -> str:
    if info.state is DayState.WEEKEND:
        return "saturday" if d.weekday() == 5 else "sunday"
    return _KINDS[info.state]


def _surge(info: DayInfo, d: date, h: FloatArray, profile: int, draws: Mapping[str, float]) -> FloatArray:
    """Extra load on flagged days: stronger for pupils, after the summer, and into distance learning."""
    weight = (1.0, 0.6, 0.8)[profile]
    out = np.ones_like(h)
    if info.rentree:
        top = 1.5 + 0.3 * draws["rentree"] if d.month == 9 else 1.2 + 0.3 * draws["rentree"]
        if info.state is DayState.DISTANCIEL:
            top += 0.2
        out *= surge_curve(h, 1 + weight * (top - 1), 1 + weight * (top - 1) / 4)
    if info.bascule:
        into = {DayState.DISTANCIEL: 1.7 + 0.6 * draws["bascule"], DayState.HYBRIDE: 1.15 + 0.15 * draws["bascule"]}
        peak = into.get(info.state, 1.1 + 0.15 * draws["bascule"])
        out *= surge_curve(h, 1 + weight * (peak - 1), 1 + weight * (peak - 1) / 3)
    return out


def _accounts(d: date) -> float:
    """Active accounts relative to the topology: +4.5 % a year, +6 % through each school year."""
    year = d.year if d.month >= 9 else d.year - 1
    elapsed = (d - date(year, 9, 1)).days / 365.0
    return (1 + 0.045 * (year - 2020)) * (1 + 0.06 * elapsed)


def _day_multipliers(key: tuple[int, ...], first: date, last: date, known_days: int | None = None) -> FloatArray:
    """AR(1) day-to-day multiplier (ρ = 0.5, σ ≈ 4.5 %) from EPOCH, cut to first..last; with `known_days`,
    its conditional mean given its value that many days before (in log: the earlier value, decayed)."""
    start = min(EPOCH, first)
    n = (last - start).days + 1
    eps = np.random.default_rng([*key, 6]).normal(0, 0.039, n)
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = AR_RHO * ar[i - 1] + eps[i]
    if known_days:
        ar = AR_RHO**known_days * np.concatenate([np.zeros(known_days), ar[:-known_days]])
    return np.asarray(np.exp(ar[(first - start).days :]))


def _incident_time(key: tuple[int, ...], d: date) -> float | None:
    """Local hour of this plaque's incident if it falls on `d` (one per school year, a weekday)."""
    year = d.year if d.month >= 9 else d.year - 1
    rng = np.random.default_rng([*key, 7, year])
    day = date(year, 10, 1) + timedelta(days=int(rng.integers(0, 230)))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return float(rng.uniform(7.0, 11.0)) if day == d else None


def _gaps(key: tuple[int, ...], days: Sequence[date], bounds: IntArray) -> BoolArray:
    """Scrape outages: ~1 short gap (10 min to 3 h) every 5 weeks, one 1-2 day outage per school year."""
    gap = np.zeros(int(bounds[-1]), dtype=bool)
    for i, d in enumerate(days):
        rng = np.random.default_rng([*key, 8, d.toordinal()])
        if rng.random() < 1 / 35:
            a = int(bounds[i] + rng.integers(0, 288))
            gap[a : a + int(rng.integers(2, 37))] = True
        year = d.year if d.month >= 9 else d.year - 1
        yr = np.random.default_rng([*key, 9, year])
        outage = date(year, 9, 15) + timedelta(days=int(yr.integers(0, 280)))
        if outage <= d <= outage + timedelta(days=int(yr.integers(1, 3))):
            gap[bounds[i] : bounds[i + 1]] = True
    return gap


def _duplicate(
    key: tuple[int, ...], p_idx: int, days: Sequence[date], bounds: IntArray, values: FloatArray, stride: int
) -> FloatArray:
    """The first plaque's exporter runs twice from 5 to 25 October (HA migration): a second series."""
    out = np.full(values.shape, np.nan)
    if p_idx != 0:
        return out
    on = np.zeros(int(bounds[-1]), dtype=bool)
    for i, d in enumerate(days):
        on[bounds[i] : bounds[i + 1]] = date(d.year, 10, 5) <= d <= date(d.year, 10, 25)
    on = on[::stride]
    draws = _day_draws((*key, 11), days, bounds, lambda r, n: r.normal(0, 0.03, (values.shape[0], n)))
    noise = np.exp(draws[:, ::stride])
    out[:, on] = np.round(values[:, on] * noise[:, on])
    return out


def _component(
    key: tuple[int, ...],
    comp: Component,
    users: FloatArray,
    spikes: FloatArray,
    days: Sequence[date],
    day_starts: IntArray,
) -> tuple[ComponentTruth, FloatArray, FloatArray, IntArray]:
    """Requests per second, CPU cores and deploy instants (counter resets) of one component."""
    rng = np.random.default_rng(list(key))
    rpu = comp.requests_per_user_s * rng.uniform(0.7, 1.4)
    capacity = comp.rps_per_replica * rng.uniform(0.6, 1.3)
    cpu_per_request = comp.cpu_per_replica / capacity
    noise = _day_draws((*key, 1), days, day_starts, lambda r, n: r.normal(0, 1, (2, n)))
    storm = np.where(spikes > 1.05, 1.5, 1.0)  # retries during the reconnection storm
    rps = users * rpu * storm * np.exp(0.05 * noise[0]) + 1.5
    replicas = np.ceil(rps / (capacity * 0.7)) + 1
    idle = 0.03 * comp.cpu_per_replica * replicas
    cores = (rps * cpu_per_request + idle) * np.exp(0.04 * noise[1])
    resets = []
    for i, d in enumerate(days):
        day_rng = np.random.default_rng([*key, 2, d.toordinal()])
        n = int(day_starts[i + 1] - day_starts[i])
        if day_rng.random() < 0.12 and n > 0:
            resets.append(int(day_starts[i]) + int(day_rng.integers(0, n)))
    return ComponentTruth(rpu, capacity, cpu_per_request), rps, cores, np.array(resets, dtype=np.int64)


def _day_draws(
    key: tuple[int, ...],
    days: Sequence[date],
    bounds: IntArray,
    draw: Callable[[np.random.Generator, int], FloatArray],
) -> FloatArray:
    """Random values drawn day by day from a generator keyed by the date: the same whatever the window."""
    parts = [
        draw(np.random.default_rng([*key, d.toordinal()]), int(bounds[i + 1] - bounds[i])) for i, d in enumerate(days)
    ]
    return np.concatenate(parts, axis=-1)


def _counter(increments: FloatArray, resets: IntArray) -> FloatArray:
    """Cumulative counter that restarts from zero at each reset index (a restarted pod)."""
    total = np.cumsum(increments)
    offset = np.zeros_like(total)
    for r in resets:
        if 0 < r < total.size:
            offset[r:] = total[r - 1]
    return np.round(total - offset)


def _stable(text: str) -> int:
    """A seed component from a plaque id that does not change between Python runs (unlike hash())."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "little")
