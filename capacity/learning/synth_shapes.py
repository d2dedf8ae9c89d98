"""Day shapes of the synthetic ENT: what pupils, teachers and parents do, hour by hour.

Deliberately NOT the fitter's model: asymmetric bumps instead of the prior's Gaussians, shapes that
differ by school level (lycéens log in later in the evening than collégiens) though the fitter only
knows profiles, per-plaque habits, per-day jitter of the rush, Monday/Friday effects, a heavier Sunday
evening before a rentrée, a hybrid day that is not half of each. Amplitude 1 ≈ a normal morning rush.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.common.arrays import FloatArray

#: Day kinds the generator draws (its own vocabulary, mapped from calendar states in synth.py).
KINDS = ("class", "distance", "hybrid", "holiday", "saturday", "sunday")


@dataclass(frozen=True)
class Habits:
    """Per-plaque and per-day shifts, in hours."""

    rush_h: float = 0.0
    evening_h: float = 0.0


def bump(h: FloatArray, center: float, left: float, right: float) -> FloatArray:
    """Asymmetric bell: rises with width `left`, falls with width `right` (hours)."""
    width = np.where(h < center, left, right)
    return np.asarray(np.exp(-0.5 * ((h - center) / width) ** 2))


def plateau(h: FloatArray, start: float, end: float, edge: float) -> FloatArray:
    return np.asarray(1 / (1 + np.exp(-(h - start) / edge)) / (1 + np.exp((h - end) / edge)))


def pupils(h: FloatArray, kind: str, weekday: int, lycee: bool, habits: Habits) -> FloatArray:
    rush = 7.45 + (0.08 if lycee else -0.05) + habits.rush_h
    evening = (19.9 if lycee else 18.8) + habits.evening_h
    wed = weekday == 2
    if kind == "class":
        out = 0.015 + (1.08 if weekday == 0 else 1.0) * bump(h, rush, 0.3, 0.45)
        out = out + (0.25 if lycee else 0.2) * plateau(h, 8.3, 12.0 if wed else 16.8, 0.15)
        if wed:
            return out + 0.35 * bump(h, 15.0, 1.2, 1.6) + 0.75 * bump(h, evening - 0.8, 1.3, 1.6)
        evening_amp = (0.95 if lycee else 0.85) * {0: 1.1, 4: 0.55}.get(weekday, 1.0)
        return out + 0.16 * bump(h, 12.6, 0.35, 0.5) + evening_amp * bump(h, evening, 1.3, 1.7)
    if kind == "distance":
        out = 0.02 + 2.4 * bump(h, 8.1 + habits.rush_h / 2, 0.18, 0.35) + 1.0 * plateau(h, 8.4, 12.0, 0.12)
        return out + (0.45 if wed else 0.85) * plateau(h, 13.4, 16.8, 0.2) + 0.7 * bump(h, evening - 0.4, 1.2, 1.5)
    if kind == "hybrid":
        return 0.6 * pupils(h, "class", weekday, lycee, habits) + 0.45 * pupils(h, "distance", weekday, lycee, habits)
    return _quiet(h, kind, evening, (0.12, 0.07, 0.18, 0.14, 0.13, 0.45))


def teachers(h: FloatArray, kind: str, weekday: int, lycee: bool, habits: Habits) -> FloatArray:
    rush = 7.2 + habits.rush_h
    wed = weekday == 2
    if kind == "class":
        out = 0.01 + 0.7 * bump(h, rush, 0.35, 0.5) + 0.2 * bump(h, 12.4, 0.3, 0.4)
        out = (
            out + 0.65 * plateau(h, 8.0, 12.5 if wed else 17.5, 0.2) + (0.3 * plateau(h, 13.5, 17.0, 0.3) if wed else 0)
        )
        return out + (0.4 if weekday == 4 else 0.55) * bump(h, 20.8 + habits.evening_h, 1.0, 1.2)
    if kind == "distance":
        out = 0.015 + 1.0 * bump(h, 8.0, 0.25, 0.4) + 1.3 * plateau(h, 8.2, 12.2, 0.15)
        return out + (0.6 if wed else 1.1) * plateau(h, 13.5, 17.2, 0.2) + 0.7 * bump(h, 20.5, 1.0, 1.3)
    if kind == "hybrid":
        return 0.7 * teachers(h, "class", weekday, lycee, habits) + 0.4 * teachers(
            h, "distance", weekday, lycee, habits
        )
    return _quiet(h, kind, 20.5 + habits.evening_h, (0.2, 0.12, 0.15, 0.1, 0.16, 0.6))


def parents(h: FloatArray, kind: str, weekday: int, lycee: bool, habits: Habits) -> FloatArray:
    evening = 20.3 + habits.evening_h
    if kind == "class":
        out = 0.008 + 0.35 * bump(h, 7.0 + habits.rush_h, 0.3, 0.4) + 0.25 * bump(h, 12.8, 0.4, 0.5)
        out = out + 0.1 * plateau(h, 8.5, 17.0, 0.3) + (0.7 if weekday == 4 else 1.0) * bump(h, evening, 1.2, 1.3)
        return out + (0.3 * bump(h, 14.5, 1.0, 1.5) if weekday == 2 else 0)
    if kind == "distance":
        out = 0.01 + 0.6 * bump(h, 8.2, 0.25, 0.5) + 0.45 * plateau(h, 8.5, 17.0, 0.3)
        return out + 0.9 * bump(h, evening, 1.2, 1.3)
    if kind == "hybrid":
        return 0.5 * parents(h, "class", weekday, lycee, habits) + 0.5 * parents(h, "distance", weekday, lycee, habits)
    return _quiet(h, kind, evening, (0.08, 0.12, 0.2, 0.15, 0.15, 0.55))


def _quiet(h: FloatArray, kind: str, evening: float, amps: tuple[float, ...]) -> FloatArray:
    """Holidays, Saturdays and Sundays: no rush; amps = (holiday day, holiday evening, sat morning,
    sat afternoon, sun afternoon, sun evening)."""
    if kind == "holiday":
        return 0.008 + amps[0] * bump(h, 14.8, 3.0, 3.5) + amps[1] * bump(h, evening + 0.4, 1.0, 1.2)
    if kind == "saturday":
        return 0.01 + amps[2] * bump(h, 11.0, 1.8, 2.5) + amps[3] * bump(h, 16.5, 1.5, 2.5)
    return 0.01 + amps[4] * bump(h, 15.5, 2.5, 2.5) + amps[5] * bump(h, evening - 0.1, 1.0, 1.3)


PROFILE_SHAPES = (pupils, teachers, parents)
#: Share of accounts connected at amplitude 1, per profile, before per-plaque habits.
INTENSITY = (0.06, 0.15, 0.03)


def surge_curve(h: FloatArray, morning: float, day: float) -> FloatArray:
    """Multiplier on a flagged day: `morning` around the rush, easing to `day` in the afternoon."""
    window = plateau(h, 6.3, 11.5, 0.4)
    return np.asarray(day + (morning - day) * window)


def incident(h: FloatArray, start_h: float) -> FloatArray:
    """An outage then a reconnection storm: 25 min near zero, then ×2.6 easing over 40 minutes."""
    out = np.ones_like(h)
    out = np.where((h >= start_h) & (h < start_h + 25 / 60), 0.15, out)
    storm = (h >= start_h + 25 / 60) & (h < start_h + 65 / 60)
    return np.asarray(np.where(storm, 1 + 1.6 * np.exp(-(h - start_h - 25 / 60) / 0.35), out))
