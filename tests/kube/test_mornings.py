"""The operator's mornings: what it reads 9-12 h decides, once, whether the rest of a plaque's day is planned
higher; the replay (simulate) makes the same decision with the same numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from capacity.calendar import SchoolCalendar
from capacity.common.timegrid import BASE_STEP_S, PARIS
from capacity.operator.lookahead import PlaqueDay, forecast_users, window
from capacity.operator.mornings import Mornings
from capacity.planning.budget import month_budget_levels
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_plaques
from capacity.policy.bundle import load_policies
from capacity.simulate.nowcast import raise_rows

DAY = date(2021, 5, 4)  # an ordinary Tuesday in class
POLICIES, CALENDAR, RATES = load_policies(), SchoolCalendar.load([]), default_rates()
LEVELS = month_budget_levels(DAY, BASE_STEP_S, POLICIES, CALENDAR, RATES)
PLAQUES = [p.id for p in POLICIES.topology.plaques]


def planned(plaque: str, factor: float | None = None) -> PlaqueDay:
    nowcast = None if factor is None else {plaque: factor}
    p = POLICIES.topology.plaque(plaque)
    return PlaqueDay.of(next(plan_plaques(DAY, BASE_STEP_S, POLICIES, CALENDAR, RATES, LEVELS, [p], nowcast=nowcast)))


BASE = {p: [planned(p)] for p in PLAQUES}
asked: list[tuple[date, str, float]] = []


def raised_day(day: date, plaque: str, factor: float) -> PlaqueDay | str:
    asked.append((day, plaque, factor))
    return planned(plaque, factor)


def at(hour: float) -> datetime:
    return datetime.combine(DAY, datetime.min.time(), PARIS) + timedelta(hours=hour)


def morning_of(mornings: Mornings, scale: dict[str, float | None], until_h: float = 12.0) -> None:
    """Ticks every 5 minutes from 8:30 to `until_h` (excluded), reading forecast × scale per plaque."""
    t = at(8.5)
    while t < at(until_h):
        users = {p: None if s is None else s * forecast_users(BASE[p][0], t) for p, s in scale.items()}
        out = mornings.step(BASE, users, t, 1.3, raised_day)
        assert out.decided == {} and all(f == 1.0 for f in out.factors.values())  # nothing before noon
        t += timedelta(minutes=5)


def test_a_busy_morning_raises_the_afternoon_once_with_its_reason() -> None:
    m = Mornings()
    morning_of(m, {"grand-est": 1.22, "occitanie": 0.9})
    noon = m.step(BASE, {}, at(12.0), 1.3, raised_day)
    assert noon.decided["grand-est"].factor == pytest.approx(1.2) and noon.factors["grand-est"] == pytest.approx(1.2)
    assert not noon.decided["occitanie"].raises and noon.factors["occitanie"] == 1.0
    assert noon.days["occitanie"] == BASE["occitanie"]
    evening = window(noon.days["grand-est"], "web", at(17.5), 3600)
    plain = window(BASE["grand-est"], "web", at(17.5), 3600)
    assert evening.planned.replicas > plain.planned.replicas and "nowcast" in evening.planned.reasons
    assert "nowcast" not in plain.planned.reasons
    for name, cd in noon.days["grand-est"][0].components.items():
        assert (cd.replicas >= BASE["grand-est"][0].components[name].replicas).all()
    later = m.step(BASE, {}, at(15.0), 1.3, raised_day)
    assert later.decided == {} and later.factors["grand-est"] == pytest.approx(1.2)  # decided once, kept


def test_a_plaque_held_for_a_tick_keeps_its_morning() -> None:
    m = Mornings()
    morning_of(m, {"grand-est": 1.22}, until_h=10.5)
    others = {p: pds for p, pds in BASE.items() if p != "grand-est"}
    m.step(others, {}, at(10.5), 1.3, raised_day)  # grand-est could not be planned at 10:30
    t = at(10.5)
    while t < at(12.0):
        m.step(BASE, {"grand-est": 1.22 * forecast_users(BASE["grand-est"][0], t)}, t, 1.3, raised_day)
        t += timedelta(minutes=5)
    noon = m.step(BASE, {}, at(12.0), 1.3, raised_day)
    assert noon.factors["grand-est"] == pytest.approx(1.2) and noon.decided["grand-est"].read == 36


def test_switching_the_nowcast_off_in_the_afternoon_takes_effect_at_once() -> None:
    m = Mornings()
    morning_of(m, {"grand-est": 1.22})
    assert m.step(BASE, {}, at(12.0), 1.3, raised_day).factors["grand-est"] == pytest.approx(1.2)
    lower = m.step(BASE, {}, at(14.0), 1.1, raised_day)  # operator.yaml edited: nowcast_most 1.1
    assert lower.factors["grand-est"] == pytest.approx(1.1)
    off = m.step(BASE, {}, at(15.0), 1.0, raised_day)  # nowcast_most: 1
    assert off.factors["grand-est"] == 1.0 and off.days["grand-est"] == BASE["grand-est"]


def test_a_restart_after_the_morning_makes_no_nowcast() -> None:
    fresh = Mornings().step(BASE, {p: 10_000.0 for p in PLAQUES}, at(12.5), 1.3, raised_day)
    assert fresh.decided == {} and fresh.days == BASE


def test_a_morning_without_metrics_keeps_the_plan() -> None:
    m = Mornings()
    morning_of(m, {"grand-est": None})
    noon = m.step(BASE, {}, at(12.0), 1.3, raised_day)
    assert "grand-est" not in noon.decided and noon.days["grand-est"] == BASE["grand-est"]


def test_a_raised_day_that_cannot_be_planned_keeps_the_forecast_and_says_why() -> None:
    m = Mornings()
    morning_of(m, {"grand-est": 1.3})
    noon = m.step(BASE, {}, at(12.0), 1.3, lambda _d, _p, _f: "no mandate in force")
    assert noon.failed == {"grand-est": "no mandate in force"} and noon.days["grand-est"] == BASE["grand-est"]


def test_the_replay_raises_the_same_afternoon_as_the_operator() -> None:
    """simulate's raise_rows, fed the operator's readings at slot starts, gives the operator's replicas."""
    plaques = ["grand-est", "occitanie"]
    scale = {"grand-est": 1.22, "occitanie": 1.11}
    m = Mornings()
    morning_of(m, {p: scale[p] for p in plaques})
    noon = m.step(BASE, {}, at(12.0), 1.3, raised_day)
    starts = BASE["grand-est"][0].starts
    hours = np.array([(datetime.fromtimestamp(s, PARIS) - at(0)).total_seconds() / 3600 for s in starts])
    forecast = np.array([BASE[p][0].users for p in PLAQUES])
    readings = forecast * np.array([scale.get(p, 1.0) for p in PLAQUES])[:, None]
    units = [(row, name) for row, p in enumerate(PLAQUES) for name in BASE[p][0].components]
    rows = [BASE[PLAQUES[r]][0].components[n].replicas.astype(np.int64) for r, n in units]
    out, count = raise_rows(
        rows,
        PLAQUES,
        [r for r, _ in units],
        forecast,
        readings,
        [DAY] * len(starts),
        hours,
        POLICIES,
        CALENDAR,
        lambda _d: RATES,
        1.3,
    )
    assert count == 2
    afternoon = hours >= 12
    for (row, name), replicas in zip(units, out, strict=True):
        operator = noon.days[PLAQUES[row]][0].components[name].replicas
        assert (replicas[afternoon] == operator[afternoon]).all(), (PLAQUES[row], name)
