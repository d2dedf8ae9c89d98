"""Learn usage rates from observed sessions (pure: arrays in, rates and levels out).

Model (the one `demand.py` forecasts with, plus a slow per-plaque level and per-plaque state factors):
    users[plaque, profile, day, slot] = level[plaque, profile, day] × Σ_state pop[state] × rate[profile,
                                        state, weekday, slot] × factor[plaque, state] × surge(flags, state, slot)
Rates and surges are SHARED by all plaques: a plaque that never was at a distance is forecast with the
distance rates the other plaques showed. The level absorbs what differs between plaques and drifts
slowly (accounts activated over the year, habits): it is measured on weekends and holidays only
(levels.py), never on the rare states it would otherwise confuse with their rates; the state factors
then calibrate class days on daily peaks (calibrate.py).

Estimators are medians over plaque-days (per 5-minute slot), so gaps, NaN, incident spikes and counter
glitches move nothing. Several states on one day (collèges in class, lycées in demi-jauge) are handled
by backfitting: each state's curve is estimated from the days where it holds most of the accounts,
after subtracting what the other states predict. A (state, weekday) seen on too few days borrows from
its weekday group, then from the prior rescaled to what the data showed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.common.arrays import BoolArray, FloatArray, IntArray
from capacity.learning import pooling, recent
from capacity.learning.calibrate import lagged_peaks, relative_error, state_factors
from capacity.learning.days import COMBOS, DayFrame, PlaqueDays, expected, mix
from capacity.learning.levels import cut, level_ratios, level_school_year, subset, trailing_level
from capacity.learning.robust import moving_average, nanmedian0, rolling_nanmedian
from capacity.learning.shape import plaque_shape, shaped
from capacity.planning.demand import FLAGS, UsageRates
from capacity.policy.topology import PROFILES

#: Weekdays that share a day shape when one of them has too few days (Mon/Tue/Thu/Fri; Wed; Sat; Sun).
WEEKDAY_GROUPS = ((0, 1, 3, 4), (2,), (5,), (6,))
_PRESENTIEL = STATE_INDEX[DayState.PRESENTIEL]
SUMMER = len(FLAGS)  # internal key of the September rentrée's surge cell
_POOLED_CLASS = (STATE_INDEX[DayState.HYBRIDE], STATE_INDEX[DayState.DISTANCIEL])


@dataclass(frozen=True)
class FitOptions:
    iterations: int = 3
    min_days: int = 3  # plaque-days needed to estimate one (state, weekday) curve
    dominant_share: float = 0.5  # a day informs a state's curve when that state holds this share of accounts
    level_window_days: int = 35  # the level is the median ratio over this many days
    min_coverage: float = 0.6  # share of a day's slots with data for the day to count
    surge_smoothing_slots: int = 7
    horizon_days: int = 7  # lag used to measure the out-of-sample relative error


@dataclass(frozen=True)
class FitResult:
    rates: UsageRates
    levels: Mapping[str, FloatArray]  # plaque -> [profile], at the end of the data
    factors: Mapping[str, FloatArray]  # plaque -> [state] (calibrate.py), recent correction at the end included
    origin: Mapping[tuple[int, int, int], tuple[str, int]]  # (profile, state, weekday) -> (how, plaque-days)
    surge_origin: Mapping[tuple[int, int], tuple[str, int]]  # (flag, state) -> (how, plaque-days)
    fitted_plaques: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    base_factors: Mapping[str, FloatArray] = field(default_factory=dict)  # long-run factors, no recent correction
    recent_states: Mapping[str, frozenset[int]] = field(default_factory=dict)  # class states lately (pooling.py)
    level_years: Mapping[str, int] = field(default_factory=dict)  # school year each fitted level was read on
    shapes: Mapping[str, FloatArray] = field(default_factory=dict)  # plaque -> [profile, state, slot] (shape.py)
    recent_corrections: Mapping[str, recent.Correction] = field(default_factory=dict)  # in `factors` (recent.py)


@dataclass
class _Plaque:
    """Working arrays of one plaque during the fit."""

    days: PlaqueDays
    y: FloatArray  # observed users [profile, day, slot]
    pop: FloatArray  # [profile]
    share: FloatArray  # unflagged population share [profile, day, state]
    unflagged_day: BoolArray  # [day]
    covered: BoolArray  # [profile, day] enough slots with data
    level: FloatArray  # [profile, day]


def fit_rates(
    frame: DayFrame,
    curves: Mapping[str, FloatArray],
    prior: UsageRates,
    *,
    upto: int | None = None,
    options: FitOptions = FitOptions(),
    start: UsageRates | None = None,
) -> FitResult:
    """Fit on days [0, upto) of `frame` (all by default) from observed `curves[plaque]` [profile, day, slot].

    Plaques absent from `curves` (or with no usable day) are not fitted: they keep level 1, and the
    notes say so. `start` warm-starts the iterations (the backtest refits week after week).
    """
    n_days = len(frame.days) if upto is None else upto
    notes: list[str] = []
    work: dict[str, _Plaque] = {}
    for pid, pd in frame.plaques.items():
        if pid not in curves:
            notes.append(f"{pid}: no session data: keeps the prior (topology population, level 1)")
            continue
        w = _prepare(pd, curves[pid][:, :n_days], n_days, options)
        if not w.covered.any():
            notes.append(f"{pid}: no day with enough data: keeps the prior (topology population, level 1)")
            continue
        work[pid] = w
    weekday = frame.weekday[:n_days]
    rates = start if start is not None else prior
    origin: dict[tuple[int, int, int], tuple[str, int]] = {}
    # A warm start (the previous week's fit) is already near the fixed point: one pass is enough.
    iterations = 1 if start is not None else options.iterations
    for it in range(iterations + 1):
        new, origin = _estimate_rates(work, weekday, rates, prior, options)
        rates = replace(rates, rates=new)
        if it < iterations:
            _update_levels(work, weekday, rates, options)
    surge, summer, surge_origin, surge_dates, surge_extra = _estimate_surges(work, weekday, rates, prior, options)
    state_seen = np.array(
        [
            any(origin[(q, s, w)][0] != "prior" for q in range(len(PROFILES)) for w in range(7))
            for s in range(len(DayState))
        ]
    )
    extra = pooling.extra_errors(surge_dates, surge_extra, prior, state_seen)
    rates = replace(rates, surge=surge, extra_error=extra, summer_surge=summer)
    shapes = {pid: plaque_shape(w.days, w.y, rates, w.level, weekday, n_days) for pid, w in work.items()}
    peaks = {
        pid: lagged_peaks(
            w.days,
            w.y,
            np.asarray(w.covered.all(axis=0), dtype=bool),
            shaped(rates, shapes[pid]),
            weekday,
            options.horizon_days,
            options.level_window_days,
            options.min_coverage,
        )
        for pid, w in work.items()
    }
    base_factors = {pid: state_factors(p, len(DayState)) for pid, p in peaks.items()}
    errors = {pid: p.log_errors(base_factors[pid]) for pid, p in peaks.items()}
    corrections = {pid: recent.rolling_corrections(p, errors[pid], options.horizon_days) for pid, p in peaks.items()}
    rates = replace(rates, relative_error=relative_error(peaks, base_factors, prior, notes, corrections))
    lately = {pid: recent.measured(peaks[pid], errors[pid], n_days) for pid in peaks}
    factors = {pid: recent.apply(f, lately[pid].log) for pid, f in base_factors.items()}
    ratios = {pid: level_ratios(w.days, w.y, rates, weekday, options.min_coverage) for pid, w in work.items()}
    levels: dict[str, FloatArray] = {}
    level_years: dict[str, int] = {}
    for pid, r in ratios.items():
        levels[pid] = trailing_level(r, n_days, options.level_window_days)
        level_years[pid] = level_school_year(work[pid].days, frame.days, r, n_days, options.level_window_days)
    for pid in frame.plaques:
        levels.setdefault(pid, np.ones(len(PROFILES)))
        factors.setdefault(pid, np.ones(len(DayState)))
        base_factors.setdefault(pid, np.ones(len(DayState)))
    for s, state in enumerate(DayState):
        if all(origin[(q, s, w)][0] == "prior" for q in range(len(PROFILES)) for w in range(7)):
            notes.append(f"state {state.value}: never seen in the data: prior rates, rescaled to the fitted level")
    return FitResult(
        rates=rates,
        levels=levels,
        factors=factors,
        base_factors=base_factors,
        recent_states={
            pid: pooling.recent_states(pd.state, n_days - recent.LATELY_DAYS, n_days)
            for pid, pd in frame.plaques.items()
        },
        level_years=level_years,
        shapes=shapes,
        recent_corrections=lately,
        origin=origin,
        surge_origin=surge_origin,
        fitted_plaques=tuple(work),
        notes=tuple(notes),
    )


def _prepare(pd: PlaqueDays, y: FloatArray, n_days: int, options: FitOptions) -> _Plaque:
    base = pd.base[:, :n_days]
    pop = pd.population
    flagged_pop = pd.flagged[:, :n_days].sum(axis=(0, 2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = base / np.where(pop > 0, pop, 1)[:, None, None]
    coverage = np.isfinite(y).mean(axis=-1)
    return _Plaque(
        days=pd,
        y=y,
        pop=pop,
        share=share,
        unflagged_day=flagged_pop == 0,
        covered=(coverage >= options.min_coverage) & (pop[:, None] > 0),
        level=np.ones((len(PROFILES), n_days)),
    )


def _estimate_rates(
    work: Mapping[str, _Plaque],
    weekday: IntArray,
    current: UsageRates,
    prior: UsageRates,
    options: FitOptions,
) -> tuple[FloatArray, dict[tuple[int, int, int], tuple[str, int]]]:
    """One backfitting pass: every (profile, state, weekday) curve from the days its state dominates."""
    n_q, n_s = len(PROFILES), len(DayState)
    new = np.array(current.rates, copy=True)
    origin: dict[tuple[int, int, int], tuple[str, int]] = {}
    for q in range(n_q):
        rows: dict[tuple[int, int], list[FloatArray]] = {}
        for w in work.values():
            n_days = w.y.shape[1]
            pred = mix(w.share[q : q + 1], current.rates[q : q + 1], weekday[:n_days])[0]
            with np.errstate(invalid="ignore", divide="ignore"):
                resid = w.y[q] / (w.pop[q] * w.level[q][:, None]) - pred
            usable = w.unflagged_day & w.covered[q]
            for s in range(n_s):
                sel = usable & (w.share[q][:, s] >= options.dominant_share)
                if not sel.any():
                    continue
                # x = observed - other states' prediction, per account of state s (+ current curve)
                x = resid[sel] / w.share[q][sel, s][:, None] + current.rates[q, s, weekday[:n_days][sel], :]
                for wd in np.unique(weekday[:n_days][sel]):
                    rows.setdefault((s, int(wd)), []).append(x[weekday[:n_days][sel] == wd])
        for s in range(n_s):
            stacked = {wd: np.concatenate(rows[(s, wd)]) for wd in range(7) if (s, wd) in rows}
            fitted_total, prior_total = 0.0, 0.0
            pending: list[int] = []
            for wd in range(7):
                mine = stacked.get(wd)
                if mine is not None and mine.shape[0] >= options.min_days:
                    new[q, s, wd] = _clean(nanmedian0(mine))
                    origin[(q, s, wd)] = ("fitted", mine.shape[0])
                    fitted_total += float(new[q, s, wd].sum())
                    prior_total += float(prior.rates[q, s, wd].sum())
                    continue
                group = next(g for g in WEEKDAY_GROUPS if wd in g)
                pooled = [stacked[g] for g in group if g in stacked]
                if pooled and sum(p.shape[0] for p in pooled) >= options.min_days:
                    both = np.concatenate(pooled)
                    new[q, s, wd] = _clean(nanmedian0(both))
                    origin[(q, s, wd)] = ("pooled", both.shape[0])
                else:
                    pending.append(wd)
            for wd in pending:
                scale = fitted_total / prior_total if prior_total > 0 else _profile_scale(new, prior, origin, q)
                new[q, s, wd] = prior.rates[q, s, wd] * scale
                origin[(q, s, wd)] = ("prior", 0)
                if prior_total == 0 and s in _POOLED_CLASS and origin[(q, _PRESENTIEL, wd)][0] != "prior":
                    # never seen: the prior's volume pooled halfway towards the parent (a class day in person)
                    new[q, s, wd] = pooling.towards_parent(new[q, s, wd], new[q, _PRESENTIEL, wd])
    return new, origin


def _profile_scale(
    new: FloatArray, prior: UsageRates, origin: Mapping[tuple[int, int, int], tuple[str, int]], q: int
) -> float:
    """How the fitted rates of a profile compare to the prior, over every curve fitted so far."""
    keys = [(s, w) for (qq, s, w), (how, _) in origin.items() if qq == q and how == "fitted"]
    if not keys:
        return 1.0
    fitted = sum(float(new[q, s, w].sum()) for s, w in keys)
    base = sum(float(prior.rates[q, s, w].sum()) for s, w in keys)
    return fitted / base if base > 0 else 1.0


def _clean(curve: FloatArray) -> FloatArray:
    """No negative rate; a slot no day covered takes its neighbours' value."""
    out = np.where(np.isfinite(curve), np.maximum(curve, 0.0), np.nan)
    if np.isnan(out).all():
        return np.zeros_like(out)
    if np.isnan(out).any():
        idx = np.arange(out.size)
        ok = ~np.isnan(out)
        out = np.interp(idx, idx[ok], out[ok], period=out.size)
    return np.asarray(out, dtype=np.float64)


def _update_levels(work: Mapping[str, _Plaque], weekday: IntArray, rates: UsageRates, options: FitOptions) -> None:
    """Centered rolling level per plaque, then rescaled so the median level of each profile is 1."""
    half = options.level_window_days // 2
    for w in work.values():
        ratios = level_ratios(w.days, w.y, rates, weekday, options.min_coverage)
        n_days = ratios.shape[1]
        padded = np.concatenate([ratios, np.full((ratios.shape[0], half), np.nan)], axis=-1)
        rolling, _counts = rolling_nanmedian(padded, 2 * half + 1)
        centred = rolling[:, half:]
        idx = np.arange(n_days)
        for q in range(ratios.shape[0]):
            known = np.isfinite(centred[q])
            w.level[q] = np.interp(idx, idx[known], centred[q, known]) if known.any() else 1.0
    for q in range(len(PROFILES)):
        levels = [w.level[q][w.covered[q]] for w in work.values() if w.covered[q].any()]
        if levels:
            g = float(np.median(np.concatenate(levels)))
            if g > 0:
                for w in work.values():
                    w.level[q] /= g


def _estimate_surges(
    work: Mapping[str, _Plaque], weekday: IntArray, rates: UsageRates, prior: UsageRates, options: FitOptions
) -> tuple[
    FloatArray,
    FloatArray,
    dict[tuple[int, int], tuple[str, int]],
    dict[tuple[int, int], int],
    dict[tuple[int, int], float],
]:
    """Surge per (flag, state, slot) from days flagged with that flag alone, on users summed over profiles,
    pooled towards no surge by the number of distinct dates it was seen on (pooling.py).

    The rentrée after the summer is its own cell (key SUMMER), pooled towards the state's rentrée surge.
    Returns (surges, summer rentrée surges [state, slot], origin, distinct dates, band of what pooling
    removed) per (flag, state)."""
    surge = np.array(prior.surge, copy=True)
    origin: dict[tuple[int, int], tuple[str, int]] = {}
    rows: dict[tuple[int, int], list[FloatArray]] = {}
    dates: dict[tuple[int, int], set[int]] = {}
    extra: dict[tuple[int, int], float] = {}
    no_surge = replace(rates, surge=np.ones_like(rates.surge), summer_surge=None)
    for w in work.values():
        n_days = w.y.shape[1]
        pd = cut(w.days, n_days)
        flagged_days = np.flatnonzero(~w.unflagged_day & w.covered.all(axis=0))
        if flagged_days.size == 0:
            continue
        sub = subset(pd, flagged_days)
        wd = weekday[:n_days][flagged_days]
        observed = np.sum(w.y[:, flagged_days] / w.level[:, flagged_days, None], axis=0)
        unflagged = expected(no_surge, replace(sub, flagged=np.zeros_like(sub.flagged)), wd).sum(axis=0)
        for c, combo in enumerate(COMBOS[:2]):
            f = combo.index(True)
            per_state = sub.flagged[..., c]  # [profile, day, state]
            total_flagged = sub.flagged.sum(axis=(0, 2, 3))
            for s in range(len(DayState)):
                mass = per_state[:, :, s].sum(axis=0)
                pick = (mass >= 0.8 * total_flagged) & (mass > 0)
                if not pick.any():
                    continue
                only = replace(sub, base=np.zeros_like(sub.base), flagged=np.zeros_like(sub.flagged))
                only.flagged[..., c] = sub.flagged[..., c]
                flagged_part = expected(no_surge, only, wd).sum(axis=0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    x = (observed - unflagged) / flagged_part
                x[flagged_part.max(axis=-1) <= 0] = np.nan
                late = np.zeros(pick.size, dtype=bool) if sub.summer is None or f != 0 else sub.summer
                for key, chosen in (((f, s), pick & ~late), ((SUMMER, s), pick & late)):
                    if chosen.any():
                        rows.setdefault(key, []).append(x[chosen])
                        dates.setdefault(key, set()).update(int(d) for d in flagged_days[chosen])

    def smooth(x: FloatArray) -> FloatArray:
        curve = moving_average(nanmedian0(x), options.surge_smoothing_slots)
        return np.asarray(np.clip(np.where(np.isfinite(curve), curve, 1.0), 0.5, 6.0), dtype=np.float64)

    parents: dict[int, FloatArray] = {}
    for f in range(len(FLAGS)):  # the flag's surge over every state: the parent of each (flag, state)
        mine = [np.concatenate(parts) for (ff, _), parts in rows.items() if ff == f]
        if mine:
            n = len(set().union(*(dates[k] for k in dates if k[0] == f)))
            parents[f] = pooling.shrink_surge(smooth(np.concatenate(mine)), n)[0]
    for (f, s), parts in rows.items():
        if f == SUMMER:
            continue
        x = np.concatenate(parts)
        surge[f, s], extra[(f, s)] = pooling.shrink_surge(smooth(x), len(dates[(f, s)]), parents[f])
        origin[(f, s)] = ("fitted", x.shape[0])
    # The September rentrée: a child of the state's rentrée surge, pooled towards it by its own dates.
    summer = np.array(surge[0], copy=True)
    for (f, s), parts in rows.items():
        if f == SUMMER:
            summer[s], extra[(f, s)] = pooling.shrink_surge(
                smooth(np.concatenate(parts)), len(dates[(f, s)]), surge[0, s]
            )
    for f in range(len(FLAGS)):
        for s in range(len(DayState)):
            origin.setdefault((f, s), ("prior", 0))
    return surge, summer, origin, {k: len(v) for k, v in dates.items()}, extra
