"""A second synthetic ENT history, written from different assumptions than synth.py (`--generator independent`).

synth.py and the fitter grew up together; a forecast that only holds on its own generator has learnt the
generator. This one shares nothing with synth.py's shapes, rates or event model (only the output type,
`Synth`, so `capctl synth`, the OpenMetrics backfill, `fit` and `backtest` take it unchanged):

* day shapes are piecewise-linear curves through knots (not bells), one per school level (collège,
  lycée, école) × day kind × profile: lycéens peak in the evening at 21 h on class days, collégiens at
  7 h 30; a hybrid day has its own shape, not a blend of class and distance;
* accounts grow along a saturating curve from each September (fast in autumn, flat in spring) and by
  +7 % a year; départements differ (activation per département, and hybrid-teaching intensity per
  département, since each lycée chose its own gauge);
* a random level per plaque and day, AR(1) in log (ρ = 0.85), plus per-level day noise and
  multiplicative sample noise;
* events differ from earlier events of the same kind: the first distance-learning episode (spring 2020)
  starts with a ×1.9 morning surge and fades week after week; the next ones are weaker (×0.72 of the
  first, surge ×1.3), except after a holiday break inside the episode (the 2021-04-26 distance rentrée is
  busier than the week before the spring holidays); the second confinement (November 2020, schools open,
  lycées in half gauge) is far weaker than the first; the September rentrée is a big parents' day
  and the whole first week of September stays busy (the calendar flags only its first day);
* what exporters do: scrape gaps (short and multi-day), samples missing or NaN, an HA pair of exporters
  on two plaques for weeks (a second, noisier and one-scrape-late copy of the series), counter resets at
  deploys (requests and CPU, when asked for).

Deterministic: randomness is keyed by (seed, plaque[, day]) and the day level runs from the calendar's
first supported day, so a window is exactly the corresponding part of a longer one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from capacity.calendar.types import STATE_INDEX, Calendar, DayState, Level
from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.common.errors import InputError
from capacity.common.timegrid import BASE_STEP_S, day_grid, local_hours
from capacity.learning.days import segment_states
from capacity.learning.synth import ComponentTruth, Synth, SynthOptions, SynthParts
from capacity.learning.window import midnight_s
from capacity.policy.topology import PROFILES, Component, Plaque

_P, _H, _D, _V, _F, _W = (STATE_INDEX[s] for s in DayState)  # presentiel hybride distanciel vacances ferie weekend
#: Share of accounts connected at shape 1.0, per profile (élève, enseignant, parent).
INTENSITY = np.array([0.052, 0.19, 0.022])
#: Knots (hour, value) of each day shape: SHAPES[level][kind] = (pupils, teachers, parents).
Knots = tuple[tuple[float, float], ...]
_NIGHT: Knots = ((0, 0.01), (5.5, 0.01))
_T_CLASS: Knots = (*_NIGHT, (6.8, 0.25), (7.7, 0.8), (8.5, 0.55), (12.3, 0.75), (13.5, 0.45), (16.8, 0.6),
                   (18, 0.4), (20.6, 0.62), (22.5, 0.2), (24, 0.01))  # fmt: skip
_T_DIST: Knots = (*_NIGHT, (7.2, 0.4), (8.0, 1.2), (9, 1.05), (12, 0.95), (13, 0.6), (14, 0.95), (17, 0.8),
                  (18.5, 0.45), (21, 0.6), (23, 0.1), (24, 0.01))  # fmt: skip
_T_HYB: Knots = (*_NIGHT, (7.0, 0.3), (7.9, 0.9), (9, 0.7), (12.3, 0.8), (14, 0.7), (17, 0.7), (18.5, 0.4),
                 (20.8, 0.7), (23, 0.12), (24, 0.01))  # fmt: skip
_T_OFF: Knots = (*_NIGHT, (9, 0.05), (11, 0.12), (13, 0.08), (16, 0.14), (19, 0.1), (21, 0.2), (23, 0.05), (24, 0.01))
_PA_CLASS: Knots = (*_NIGHT, (6.6, 0.2), (7.2, 0.45), (8.0, 0.25), (12.5, 0.35), (13.5, 0.2), (17, 0.25),
                    (19.5, 0.8), (21, 1.0), (22.5, 0.35), (24, 0.01))  # fmt: skip
_PA_DIST: Knots = (*_NIGHT, (7.5, 0.5), (8.5, 0.85), (10, 0.5), (13, 0.45), (16, 0.5), (19.5, 0.9), (21, 1.0),
                   (23, 0.2), (24, 0.01))  # fmt: skip
_PA_OFF: Knots = (*_NIGHT, (10, 0.08), (14, 0.12), (18, 0.1), (21, 0.25), (23, 0.05), (24, 0.01))
SHAPES: dict[Level, dict[str, tuple[Knots, Knots, Knots]]] = {
    Level.COLLEGE: {
        "class": ((*_NIGHT, (6.5, 0.15), (7.3, 1.0), (7.9, 0.8), (8.4, 0.3), (10, 0.15), (12.2, 0.3), (13.4, 0.12),
                   (16.6, 0.2), (17.6, 0.55), (18.4, 0.62), (20, 0.4), (21.5, 0.15), (23, 0.02), (24, 0.01)),
                  _T_CLASS, _PA_CLASS),
        "distance": ((*_NIGHT, (7.5, 0.3), (8.3, 1.3), (9, 1.0), (11.5, 0.85), (12.5, 0.35), (13.8, 0.8),
                      (16.3, 0.7), (17.5, 0.45), (19.5, 0.5), (22, 0.1), (24, 0.01)), _T_DIST, _PA_DIST),
        "hybrid": ((*_NIGHT, (6.6, 0.2), (7.4, 0.85), (8.5, 0.6), (10, 0.5), (12, 0.45), (13.5, 0.35), (16.5, 0.45),
                    (18.3, 0.6), (20.5, 0.35), (23, 0.03), (24, 0.01)), _T_HYB, _PA_CLASS),
        "holiday": ((*_NIGHT, (9.5, 0.05), (11.5, 0.12), (15, 0.16), (18, 0.1), (20, 0.14), (22.5, 0.03), (24, 0.01)),
                    _T_OFF, _PA_OFF),
        "saturday": ((*_NIGHT, (9, 0.06), (10.8, 0.2), (12.5, 0.1), (16, 0.14), (19, 0.08), (22, 0.03), (24, 0.01)),
                     _T_OFF, _PA_OFF),
        "sunday": ((*_NIGHT, (10, 0.05), (14, 0.12), (17, 0.25), (19, 0.42), (21, 0.3), (23, 0.04), (24, 0.01)),
                   _T_OFF, _PA_OFF),
    },
    Level.LYCEE: {
        "class": ((*_NIGHT, (6.8, 0.1), (7.8, 0.7), (8.6, 0.5), (10, 0.3), (12.4, 0.45), (13.6, 0.3), (17.2, 0.4),
                   (19, 0.6), (21, 0.92), (22.6, 0.5), (24, 0.05)), _T_CLASS, _PA_OFF),
        "distance": ((*_NIGHT, (7.6, 0.25), (8.4, 1.15), (9.2, 0.95), (12, 0.9), (13, 0.5), (14, 0.9), (17, 0.8),
                      (18.5, 0.55), (21.2, 0.8), (23.5, 0.15), (24, 0.05)), _T_DIST, _PA_OFF),
        "hybrid": ((*_NIGHT, (6.9, 0.1), (7.9, 0.6), (9, 0.55), (12, 0.6), (13.5, 0.45), (17, 0.55), (19, 0.6),
                    (21, 0.85), (22.8, 0.4), (24, 0.05)), _T_HYB, _PA_OFF),
        "holiday": ((*_NIGHT, (10.5, 0.06), (13, 0.1), (16, 0.18), (19, 0.12), (21.5, 0.25), (23.5, 0.08), (24, 0.02)),
                    _T_OFF, _PA_OFF),
        "saturday": ((*_NIGHT, (10, 0.05), (12, 0.12), (16.5, 0.16), (19, 0.1), (22, 0.12), (24, 0.02)),
                     _T_OFF, _PA_OFF),
        "sunday": ((*_NIGHT, (11, 0.05), (15, 0.15), (18, 0.3), (21, 0.55), (22.5, 0.4), (24, 0.05)),
                   _T_OFF, _PA_OFF),
    },
}  # fmt: skip
SHAPES[Level.ECOLE] = {  # écoles: pupils rarely alone on the ENT, parents carry the day
    k: (tuple((h, 0.35 * v) for h, v in pu), te, SHAPES[Level.COLLEGE][k][2])
    for k, (pu, te, _) in SHAPES[Level.COLLEGE].items()
}


_DEFAULT = SynthOptions()
AR_RHO = 0.85  # day-to-day persistence of the plaque's random level


def generate(
    calendar: Calendar, plaques: Sequence[Plaque], first: date, last: date, options: SynthOptions = _DEFAULT
) -> Synth:
    """Independent synthetic history of local days first..last (inclusive) for `plaques`."""
    if last < first:
        raise InputError(f"--to {last} is before --from {first}")
    epoch, days, hours, bounds = _grid(calendar, first, last)
    stride = options.step_s // BASE_STEP_S
    start_s = midnight_s(first)
    comp_from = options.components_from or first
    c0 = int(bounds[max(0, (comp_from - first).days)]) // stride
    parts = SynthParts(options.metrics)
    for plaque in plaques:
        key = _key(options.seed, plaque)
        users = _users(calendar, plaque, key, epoch, days, hours, bounds, None)
        noise = np.exp(_per_day(key, 2, days, bounds, lambda r, n: r.normal(0, 0.035, (len(PROFILES), n))))
        values = np.round(users * noise)[:, ::stride]
        nan_at = _per_day(key, 3, days, bounds, lambda r, n: r.random((len(PROFILES), n)))[:, ::stride] < 1e-3
        dup = _ha_pair(key, days, bounds, values, stride)
        parts.add_plaque(plaque.id, np.where(nan_at, np.nan, values), ~_gaps(key, days, bounds)[::stride], dup)
        if not parts.wants_components:
            continue
        total = np.nansum(values, axis=0)
        for c_idx, comp in enumerate(plaque.components):
            made = _component((*key, 50 + c_idx), comp, total, days, bounds // stride, c0)
            parts.add_component(plaque.id, comp, *made)
    return parts.build(start_s, options.step_s, c0)


def expected_users(
    calendar: Calendar, plaque: Plaque, first: date, last: date, seed: int, known_days: int
) -> FloatArray:
    """What a perfect forecaster, knowing this generator and everything up to `known_days` before each day,
    would expect [profile, 5-minute instant]: no sample or day noise, and the AR(1) day level at its
    conditional mean given its value `known_days` earlier. The noise floor a forecast is measured against."""
    epoch, days, hours, bounds = _grid(calendar, first, last)
    return _users(calendar, plaque, _key(seed, plaque), epoch, days, hours, bounds, known_days)


def _grid(calendar: Calendar, first: date, last: date) -> tuple[date, list[date], list[FloatArray], IntArray]:
    """(first day of the random processes, the days first..last, the local hour of each of their instants,
    where each day starts in the instant series)."""
    epoch = min(first, calendar.supported_range[0])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    hours = [_hours(d) for d in days]
    bounds = np.concatenate([[0], np.cumsum([h.size for h in hours])]).astype(np.int64)
    return epoch, days, hours, bounds


def _key(seed: int, plaque: Plaque) -> tuple[int, ...]:
    """What every random draw of one plaque is keyed by."""
    return (seed, 7919, _stable(plaque.id))


def _users(
    calendar: Calendar,
    plaque: Plaque,
    key: tuple[int, ...],
    epoch: date,
    days: Sequence[date],
    hours: Sequence[FloatArray],
    bounds: IntArray,
    known_days: int | None,
) -> FloatArray:
    """Users [profile, 5-minute instant] of one plaque before sample noise (`known_days`: see expected_users)."""
    last = days[-1]
    state, flags = segment_states(calendar, plaque, epoch, last + timedelta(days=1))
    episode, since, after_break = _episodes(state)
    dept = {s.departement: _dept_factors(key[0], s.departement) for s in plaque.segments}
    pop = plaque.population_matrix()  # [segment, profile]
    level_of = [s.level for s in plaque.segments]
    ar = _ar1(key, len(state))
    if known_days:  # E[level_k | level_{k-h}] of the log AR(1): its value h days before, decayed
        earlier = np.concatenate([np.ones(known_days), ar[:-known_days]])
        ar = np.exp(AR_RHO**known_days * np.log(earlier))
    off = (days[0] - epoch).days
    users = np.zeros((len(PROFILES), int(bounds[-1])))
    for i, d in enumerate(days):
        k = off + i
        h = hours[i]
        level_noise = dict.fromkeys(Level, 1.0)  # a forecaster cannot know the day's draw
        if known_days is None:
            rng = np.random.default_rng([*key, 1, d.toordinal()])
            level_noise = {lv: float(np.exp(rng.normal(0, 0.03))) for lv in Level}
        groups: dict[tuple[Level, int, bool, bool, int, int, bool, bool], FloatArray] = {}
        for s_idx, seg in enumerate(plaque.segments):
            st = int(state[k, s_idx])
            act, hyb = dept[seg.departement]
            weight = pop[s_idx] * act * (hyb if st == _H else 1.0) * level_noise[level_of[s_idx]]
            rentree, bascule = bool(flags[k, s_idx, 0]), bool(flags[k, s_idx, 1])
            tomorrow = bool(state[k + 1, s_idx] in (_P, _H, _D))
            ep, n_since, broke = int(episode[k, s_idx]), int(since[k, s_idx]), bool(after_break[k, s_idx])
            g = (level_of[s_idx], st, rentree, bascule, ep, n_since, broke, tomorrow)
            groups[g] = groups.get(g, 0.0) + weight
        day = np.zeros((len(PROFILES), h.size))
        for (lv, st, rentree, bascule, ep, n_since, broke, tomorrow), weight in groups.items():
            curves = _segment_day(lv, st, d, h, tomorrow)
            curves *= _event(st, rentree, bascule, ep, n_since, broke, d, h)
            day += weight[:, None] * curves * _state_intensity(st, ep)
        users[:, bounds[i] : bounds[i + 1]] = day * (_accounts(d) * ar[k])
    return np.asarray(users * INTENSITY[:, None], dtype=np.float64)


def _hours(d: date) -> FloatArray:
    """Local hour of every 5-minute instant of day `d` (276 or 300 instants on DST days)."""
    if midnight_s(d + timedelta(days=1)) - midnight_s(d) == 86400:
        return np.arange(288) * BASE_STEP_S / 3600
    return local_hours(day_grid(d, BASE_STEP_S).starts)


def _kind(st: int, d: date) -> str:
    if st == _P:
        return "class"
    if st == _H:
        return "hybrid"
    if st == _D:
        return "distance"
    if st == _V:
        return "holiday"
    return "saturday" if d.weekday() == 5 else "sunday"


def _segment_day(level: Level, st: int, d: date, h: FloatArray, class_tomorrow: bool) -> FloatArray:
    """Shape [profile, instant] of one segment on day `d`, weekday effects included."""
    kind = _kind(st, d)
    out = np.array([np.interp(h, [k[0] for k in knots], [k[1] for k in knots]) for knots in SHAPES[level][kind]])
    wd = d.weekday()
    if kind in ("class", "hybrid"):
        if wd == 2 and level is not Level.LYCEE:  # no class on Wednesday afternoon below the lycée
            afternoon = np.clip((h - 12.5) / 1.0, 0, 1) * np.clip((18.5 - h) / 1.0, 0, 1)
            out[0] *= 1 - 0.55 * afternoon
            out[1] *= 1 - 0.4 * afternoon
        if wd == 4:  # Friday: nobody does homework in the evening
            out *= np.where(h > 17.5, 0.6, 1.0)
        if wd == 0:  # Monday: the week's timetable and messages
            out[0] *= np.where(h < 10, 1.06, 1.0)
    if not class_tomorrow or kind in ("class", "hybrid", "distance"):
        return out
    evening = np.clip((h - 17.0) / 2.0, 0, 1) * np.clip((23.5 - h) / 1.5, 0, 1)
    out[0] *= 1 + 0.35 * evening  # the evening before class resumes: satchel, timetable, homework
    return out


def _episodes(state: IntArray) -> tuple[IntArray, IntArray, BoolArray]:
    """Per [day, segment], counted from the calendar's first day: the index of the distance (or hybrid,
    + 100) episode the day belongs to (-1 elsewhere), the days since that episode began, and whether a
    holiday break of a week or more happened inside the episode before the day. An episode is a run of
    class days in that state; days without class do not end it."""
    episode = np.full(state.shape, -1, dtype=np.int64)
    since = np.zeros(state.shape, dtype=np.int64)
    broke = np.zeros(state.shape, dtype=bool)
    for s in range(state.shape[1]):
        count = {_D: 0, _H: 100}
        current, began, holidays, had_break = -1, 0, 0, False
        for k in range(state.shape[0]):
            st = int(state[k, s])
            if st in (_D, _H):
                if current != st:
                    count[st] += 1
                    current, began, had_break = st, k, False
                had_break = had_break or holidays >= 7
                holidays = 0
                episode[k, s], since[k, s], broke[k, s] = count[st] - 1, k - began, had_break
            elif st == _P:
                current = -1
            elif st == _V:
                holidays += 1
    return episode, since, broke


def _state_intensity(st: int, episode: int) -> float:
    """Distance learning was heavier the first time; hybrid teaching got more organised the second."""
    if st == _D:
        return 1.0 if episode <= 0 else 0.72
    if st == _H:
        return 0.85 if episode <= 100 else 1.0
    return 1.0


def _event(
    st: int, rentree: bool, bascule: bool, episode: int, since: int, broke: bool, d: date, h: FloatArray
) -> FloatArray:
    """Multiplier [profile, instant] for the day: surges, fading novelty, post-break boosts."""
    out = np.ones((len(PROFILES), h.size))
    morning = np.clip((h - 6.0) / 1.0, 0, 1) * np.clip((12.5 - h) / 2.0, 0, 1)
    if st == _D:
        if episode == 0:  # novelty fades over the weeks of the first distance episode
            out *= 0.8 + 0.2 * np.exp(-since / 21)
        if episode > 0 and broke:
            out *= 1.22  # back from a break still at a distance: organised, busier than before it
    if st in (_P, _H, _D) and d.month == 9 and d.day <= 12:
        out *= 1 + np.array([[0.10], [0.05], [0.25]]) * np.exp(-(d.day - 1) / 3)  # the first week stays busy
    if rentree:
        if d.month == 9:
            amp = np.array([[0.5], [0.35], [0.9]])  # parents register, reset passwords
        elif st == _D:
            amp = np.array([[0.35], [0.2], [0.3]])
        else:
            amp = np.array([[0.12], [0.06], [0.1]])
        out *= 1 + amp * morning
    if bascule:
        if st == _D:
            amp = np.array([[0.9], [0.6], [0.7]]) if episode <= 0 else np.array([[0.3], [0.2], [0.25]])
        elif st == _H:
            amp = np.array([[0.06], [0.04], [0.02]])  # the second confinement: schools stayed open
        else:
            amp = np.array([[0.1], [0.05], [0.1]])
        out *= 1 + amp * morning
    return out


def _accounts(d: date) -> float:
    """Active accounts: +7 % a year, and a saturating activation curve from each September."""
    year = d.year if d.month >= 9 else d.year - 1
    since = (d - date(year, 9, 1)).days
    return (1 + 0.07 * (year - 2019)) * (0.84 + 0.2 * (1 - math.exp(-since / 75)))


def _dept_factors(seed: int, departement: str) -> tuple[float, float]:
    """(account activation, hybrid-teaching intensity) of a département."""
    rng = np.random.default_rng([seed, 7919, 1, _stable(departement)])
    return float(np.exp(rng.normal(0, 0.15))), float(rng.uniform(0.8, 1.15))


def _ar1(key: tuple[int, ...], n: int) -> FloatArray:
    """Day level of the plaque from the epoch: log AR(1), ρ = 0.85, innovations σ = 3 %."""
    eps = np.random.default_rng([*key, 4]).normal(0, 0.03, n)
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = AR_RHO * ar[i - 1] + eps[i]
    return np.asarray(np.exp(ar))


def _per_day(key: tuple[int, ...], tag: int, days: Sequence[date], bounds: IntArray, draw: object) -> FloatArray:
    parts = [
        draw(np.random.default_rng([*key, tag, d.toordinal()]), int(bounds[i + 1] - bounds[i]))  # type: ignore[operator]
        for i, d in enumerate(days)
    ]
    return np.concatenate(parts, axis=-1)


def _gaps(key: tuple[int, ...], days: Sequence[date], bounds: IntArray) -> BoolArray:
    """Missing scrapes: single samples (0.3 %), gaps of 10 min to 6 h (one in 20 days), and a 2-4 day outage
    in each school year."""
    gap = np.zeros(int(bounds[-1]), dtype=bool)
    for i, d in enumerate(days):
        rng = np.random.default_rng([*key, 5, d.toordinal()])
        n = int(bounds[i + 1] - bounds[i])
        gap[bounds[i] : bounds[i + 1]] = rng.random(n) < 0.003
        if rng.random() < 1 / 20:
            a = int(bounds[i]) + int(rng.integers(0, n))
            gap[a : a + int(np.clip(rng.lognormal(np.log(8), 0.9), 2, 72))] = True
        year = d.year if d.month >= 9 else d.year - 1
        yr = np.random.default_rng([*key, 6, year])
        outage = date(year, 10, 1) + timedelta(days=int(yr.integers(0, 240)))
        if outage <= d < outage + timedelta(days=int(yr.integers(2, 5))):
            gap[bounds[i] : bounds[i + 1]] = True
    return gap


def _ha_pair(
    key: tuple[int, ...], days: Sequence[date], bounds: IntArray, values: FloatArray, stride: int
) -> FloatArray:
    """Some plaques (drawn from the seed) run a second exporter for six weeks from mid-January: a noisier
    copy of the series, one scrape late."""
    out = np.full(values.shape, np.nan)
    if np.random.default_rng([*key, 8]).random() >= 0.5:
        return out
    on = np.zeros(int(bounds[-1]), dtype=bool)
    for i, d in enumerate(days):
        start = date(d.year, 1, 15)
        on[bounds[i] : bounds[i + 1]] = start <= d < start + timedelta(days=42)
    on = on[::stride]
    late = np.concatenate([values[:, :1], values[:, :-1]], axis=1)
    noise = np.exp(_per_day(key, 7, days, bounds, lambda r, n: r.normal(0, 0.04, (values.shape[0], n)))[:, ::stride])
    out[:, on] = np.round(late[:, on] * noise[:, on])
    return out


def _component(
    key: tuple[int, ...], comp: Component, users: FloatArray, days: Sequence[date], day_starts: IntArray, c0: int
) -> tuple[ComponentTruth, FloatArray, FloatArray, IntArray]:
    """Requests per second, CPU cores and deploy instants (Tuesday deploy train, 10:00) of one component."""
    rng = np.random.default_rng(list(key))
    rpu = comp.requests_per_user_s * rng.uniform(0.8, 1.3)
    capacity = comp.rps_per_replica * rng.uniform(0.7, 1.2)
    cpu_per_request = comp.cpu_per_replica / capacity
    wobble = np.exp(rng.normal(0, 0.06, users.size))
    rps = users * rpu * wobble + 0.8
    cores = rps * cpu_per_request * np.exp(rng.normal(0, 0.05, users.size)) + 0.02 * comp.cpu_per_replica
    per_hour = max(1, int((day_starts[1] - day_starts[0]) // 24)) if len(days) else 1
    resets = [int(day_starts[i]) + 10 * per_hour for i, d in enumerate(days) if d.weekday() == 1]
    resets = [r for r in resets if r > c0]
    return ComponentTruth(rpu, capacity, cpu_per_request), rps, cores, np.array(resets, dtype=np.int64)


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[4:8], "little")
