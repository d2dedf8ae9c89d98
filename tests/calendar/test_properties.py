"""Properties of the calendar that must hold for any place, level, date range and overlay.

The scope oracle below is written from the académie table directly, not with the engine's code, so
that "an overlay never leaks outside its scope" is checked against an independent reading of the rule:
an event applies to a place only when every département the place covers is inside the scope.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.calendar import (
    ACADEMIES,
    CLASS_STATES,
    DEPARTEMENTS,
    FORMER_ACADEMIES,
    STATE_INDEX,
    DayState,
    Event,
    Level,
    Place,
    SchoolCalendar,
    make_event,
)

SHIPPED = SchoolCalendar.load()
EVENT_STATES = [s for s in DayState if s is not DayState.WEEKEND]
ALL_ACADEMIES = {**ACADEMIES, **FORMER_ACADEMIES}
FIRST, LAST = date(2019, 1, 1), date(2022, 12, 31)

places = st.one_of(
    st.sampled_from("ABC").map(lambda z: Place(zone=z)),
    st.sampled_from(sorted(ALL_ACADEMIES)).map(lambda a: Place(academie=a)),
    st.sampled_from(sorted(DEPARTEMENTS)).map(lambda d: Place(departement=d)),
)
levels = st.sampled_from(list(Level))
days_in = st.dates(min_value=FIRST, max_value=LAST)


@st.composite
def events(draw: st.DrawFn, ident: str = "random") -> Event:
    start = draw(days_in)
    end = start + timedelta(days=draw(st.integers(0, 60)))
    replaces = draw(
        st.one_of(st.just(CLASS_STATES), st.just("all"), st.frozensets(st.sampled_from(list(DayState)), min_size=1))
    )
    return make_event(
        ident,
        f"Événement {ident}",
        start,
        end,
        draw(st.sampled_from(EVENT_STATES)),
        zones=draw(st.frozensets(st.sampled_from("ABC"), max_size=2)),
        academies=draw(st.frozensets(st.sampled_from(sorted(ALL_ACADEMIES)), max_size=3)),
        departements=draw(st.frozensets(st.sampled_from(sorted(DEPARTEMENTS)), max_size=6)),
        levels=draw(st.frozensets(st.sampled_from(list(Level)), max_size=2)),
        replaces=replaces,
        weekdays=draw(st.frozensets(st.integers(0, 6), max_size=3)),
    )


def covered(place: Place) -> set[str]:
    if place.departement is not None:
        return {place.departement}
    if place.academie is not None:
        return set(ALL_ACADEMIES[place.academie].departements)
    return {d for a in ACADEMIES.values() if a.zone == place.zone for d in a.departements}


def inside(event: Event, place: Place, level: Level) -> bool:
    if level not in event.levels:
        return False
    deps = covered(place)
    if event.zones and not deps <= {d for a in ACADEMIES.values() if a.zone in event.zones for d in a.departements}:
        return False
    if event.academies and not deps <= {d for a in event.academies for d in ALL_ACADEMIES[a].departements}:
        return False
    return not (event.departements and not deps <= set(event.departements))


def window(event: Event) -> tuple[date, date]:
    return event.start - timedelta(days=10), event.end + timedelta(days=10)


@settings(max_examples=150, deadline=None)
@given(place=places, level=levels, start=days_in, length=st.integers(0, 120))
def test_exactly_one_state_per_day(place: Place, level: Level, start: date, length: int) -> None:
    end = start + timedelta(days=length)
    infos = SHIPPED.days(start, end, place, level)
    assert [i.date for i in infos] == [start + timedelta(days=k) for k in range(length + 1)]
    arrays = SHIPPED.day_arrays(start, end, place, level)
    assert [STATE_INDEX[i.state] for i in infos] == arrays.states.tolist()
    for info in infos:
        assert isinstance(info.state, DayState)
        assert info.because and all(info.because)
        assert (info.state is DayState.WEEKEND) == (info.date.weekday() >= 5)
        if not info.has_class:
            assert not info.rentree and not info.bascule
    probe = infos[len(infos) // 2]
    assert SHIPPED.day(probe.date, place, level) == probe


@settings(max_examples=200, deadline=None)
@given(event=events(), place=places, level=levels)
def test_an_overlay_never_leaks_outside_its_scope(event: Event, place: Place, level: Level) -> None:
    with_event = SchoolCalendar.from_events([*SHIPPED.events, event])
    first, last = window(event)
    before = SHIPPED.days(first, last, place, level)
    after = with_event.days(first, last, place, level)
    applies = inside(event, place, level)
    for b, a in zip(before, after, strict=True):
        hit = (
            applies
            and event.start <= b.date <= event.end
            and b.state in event.replaces
            and (not event.weekdays or b.date.weekday() in event.weekdays)
        )
        if hit:
            assert a.state is event.state
            assert a.because == (event.name,)
        else:
            assert (a.state, a.because) == (b.state, b.because), (b.date, place, level)


def hits(event: Event, d: date, place: Place, level: Level, state: DayState) -> bool:
    """Would `event` change day `d`, currently in `state`? (scope, dates, weekday, replaces)."""
    return (
        inside(event, place, level)
        and event.start <= d <= event.end
        and (not event.weekdays or d.weekday() in event.weekdays)
        and state in event.replaces
    )


@settings(max_examples=100, deadline=None)
@given(first=events("first"), second=events("second"), place=places, level=levels)
def test_events_stack_in_order_and_the_later_one_wins(first: Event, second: Event, place: Place, level: Level) -> None:
    bare = SchoolCalendar.from_events()
    cal = SchoolCalendar.from_events([first, second])
    start, end = min(first.start, second.start), max(first.end, second.end)
    for base, info in zip(bare.days(start, end, place, level), cal.days(start, end, place, level), strict=True):
        state, because = base.state, base.because
        for event in (first, second):
            if hits(event, base.date, place, level, state):
                state, because = event.state, (event.name,)
        assert (info.state, info.because) == (state, because), base.date


@settings(max_examples=25, deadline=None)
@given(first=events("overlap"), state_a=st.sampled_from(EVENT_STATES), state_b=st.sampled_from(EVENT_STATES))
def test_later_files_win(first: Event, state_a: DayState, state_b: DayState) -> None:
    """Same event in two files with `replaces: all`: whichever file comes last decides."""
    text = (
        "events:\n"
        '  - id: {id}\n    name: "{name}"\n    from: {start}\n    to: {end}\n    state: {state}\n'
        "    replaces: all\n    scope: {{levels: [lycee]}}\n"
    )
    place, level = Place(zone="B"), Level.LYCEE
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for tag, state in (("a", state_a), ("b", state_b)):
            path = Path(folder) / f"{tag}.yaml"
            path.write_text(
                text.format(id=f"ev-{tag}", name=tag, start=first.start, end=first.end, state=state.value),
                encoding="utf-8",
            )
            paths.append(path)
        for order, winner in ((paths, state_b), (paths[::-1], state_a)):
            cal = SchoolCalendar.load(order)
            assert {i.state for i in cal.days(first.start, first.end, place, level)} == {winner}


def previous_class_day(cal: SchoolCalendar, d: date, place: Place, level: Level) -> tuple[date, DayState]:
    probe = d - timedelta(days=1)
    while True:
        info = cal.day(probe, place, level)
        if info.has_class:
            return probe, info.state
        probe -= timedelta(days=1)


@settings(max_examples=150, deadline=None)
@given(event=events(), place=places, level=levels, offset=st.integers(-5, 70))
def test_rentree_and_bascule_follow_their_definitions(event: Event, place: Place, level: Level, offset: int) -> None:
    """rentree: two or more weekdays without class since the previous class day; bascule: state change."""
    cal = SchoolCalendar.from_events([*SHIPPED.events, event])
    d = event.start + timedelta(days=offset)
    info = cal.day(d, place, level)
    if not info.has_class:
        assert not info.rentree and not info.bascule
        return
    prev, prev_state = previous_class_day(cal, d, place, level)
    weekdays_off = sum(1 for k in range(1, (d - prev).days) if (prev + timedelta(days=k)).weekday() < 5)
    assert info.rentree == (weekdays_off >= 2)
    assert info.bascule == (prev_state is not info.state)
