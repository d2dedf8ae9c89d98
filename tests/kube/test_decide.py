"""The pure decision: what the operator sets for one component at one tick, and why."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from capacity.common.timegrid import PARIS
from capacity.operator.decide import DecideSettings, History, Mode, Planned, decide, effective_mode, replay

T0 = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)
S = DecideSettings(stabilisation_window_s=1800, max_step_down=0.25)


def planned(n: int, ceiling: int = 40, reasons: tuple[str, ...] = ("forecast",)) -> Planned:
    return Planned(replicas=n, wish=n, floor=2, ceiling=ceiling, reasons=reasons, funders=("region-grand-est",))


def test_scale_up_is_immediate_and_keeps_planner_reasons() -> None:
    d = decide(planned(12, reasons=("prewarm", "floor:region-grand-est")), 2, History(), now=T0, metrics_ok=True)
    assert d.replicas == 12
    assert d.direction == "up"
    assert d.reasons == ("prewarm", "floor:region-grand-est")


def test_missing_metrics_keep_current_when_higher_and_say_so() -> None:
    d = decide(planned(4), 10, History(), now=T0, metrics_ok=False)
    assert d.replicas == 10
    assert "fallback" in d.reasons
    up = decide(planned(14), 10, History(), now=T0, metrics_ok=False)
    assert up.replicas == 14  # blind or not, raising is always allowed
    assert "fallback" not in up.reasons


def test_scale_down_waits_for_the_stabilisation_window_then_steps() -> None:
    history = decide(planned(20), 20, History(), now=T0, metrics_ok=True).history
    for minutes in (1, 10, 29):
        d = decide(planned(4), 20, history, now=T0 + timedelta(minutes=minutes), metrics_ok=True)
        assert d.replicas == 20
        assert "stabilisation" in d.reasons
        history = d.history
    d = decide(planned(4), 20, history, now=T0 + timedelta(minutes=31), metrics_ok=True)
    assert d.replicas == 15  # 20 - 25 %
    assert "max-step" in d.reasons
    assert "stabilisation" not in d.reasons


def test_the_stabilisation_state_is_all_a_new_instance_needs() -> None:
    """A restart that reads the history back decides as the old instance would have."""
    first = decide(planned(20), 20, History(), now=T0, metrics_ok=True)
    restored = History(points=tuple((float(t), int(v)) for t, v in first.history.points))
    later = T0 + timedelta(minutes=5)
    assert decide(planned(4), 20, restored, now=later, metrics_ok=True).replicas == 20
    assert decide(planned(4), 20, History(), now=later, metrics_ok=True).replicas == 15


def test_observed_users_above_forecast_hold_the_floor_within_the_ceiling() -> None:
    d = decide(planned(4, ceiling=9), 10, History(), now=T0, metrics_ok=True, observed_need=12)
    assert d.replicas == 9
    assert "observed" in d.reasons
    assert "ceiling:region-grand-est" in d.reasons


def test_ceiling_is_a_hard_cap_even_when_blind() -> None:
    d = decide(planned(4, ceiling=8), 12, History(), now=T0, metrics_ok=False)
    assert d.replicas == 8
    assert d.reasons[-1] == "ceiling:region-grand-est"


def test_history_from_the_future_counts_as_now_for_one_window() -> None:
    # a point from a later timeline (clock gone back, replay with --now) holds like a point made now...
    future = History(points=(((T0 + timedelta(days=400)).timestamp(), 30),))
    d = decide(planned(4), 8, future, now=T0, metrics_ok=True)
    assert d.replicas == 8 and "stabilisation" in d.reasons
    # ...and expires one window later, like any other
    later = decide(planned(4), 8, d.history, now=T0 + timedelta(minutes=31), metrics_ok=True)
    assert later.replicas == 6


def test_effective_mode_never_fights_an_hpa() -> None:
    assert effective_mode(Mode.DIRECT, has_hpa=True) is Mode.FLOOR
    assert effective_mode(Mode.DIRECT, has_hpa=False) is Mode.DIRECT
    assert effective_mode(Mode.FLOOR, has_hpa=False) is Mode.RECOMMEND
    assert effective_mode(Mode.RECOMMEND, has_hpa=True) is Mode.RECOMMEND


@given(
    plan=st.integers(1, 60),
    current=st.integers(1, 60),
    ceiling=st.integers(1, 60),
    ok=st.booleans(),
    past=st.lists(st.tuples(st.integers(0, 3600), st.integers(1, 60)), max_size=8),
)
def test_invariants(plan: int, current: int, ceiling: int, ok: bool, past: list[tuple[int, int]]) -> None:
    plan = min(plan, ceiling)  # the planner never exceeds the ceiling
    history = History()
    for ago, v in sorted(past, reverse=True):
        history = history.record((T0 - timedelta(seconds=ago)).timestamp(), v, S.stabilisation_window_s)
    d = decide(planned(plan, ceiling=ceiling), current, history, now=T0, metrics_ok=ok, settings=S)
    assert d.replicas <= ceiling
    assert d.replicas >= plan  # never below the plan
    if plan >= current:
        assert d.replicas == plan  # going up is immediate
    else:
        assert d.replicas <= current  # a scale-down never overshoots upwards
        if current <= ceiling:
            assert d.replicas >= current - max(1, int(current * S.max_step_down))  # at most one step per tick
            if not ok:
                assert d.replicas == current
    assert (d.replicas != plan) == any(r in d.reasons for r in ("stabilisation", "fallback", "max-step")) or (
        d.replicas == ceiling
    )
    assert d.history.points[-1] == (T0.timestamp(), plan)


def test_replay_follows_a_morning_and_steps_down_in_the_evening() -> None:
    times = [T0 + timedelta(minutes=m) for m in range(0, 240)]
    plan = np.array([24 if m < 120 else 4 for m in range(240)], dtype=np.int64)
    out = replay(times, plan, np.full(240, 30, dtype=np.int64), initial=2, settings=S)
    assert out[0] == 24  # raised at once
    assert (out[:149] == 24).all()  # held through the rush and the 30-minute window after it
    drops = -np.diff(out[148:])
    assert drops.max() <= 6  # 25 % of 24
    assert out[-1] == 4  # and back to the plan
    blind = replay(times, plan, np.full(240, 30, dtype=np.int64), initial=2, metrics_ok=np.zeros(240, bool))
    assert (blind[1:] == 24).all()  # without metrics, never down
