"""Settings that would disable a safety, clocks that go back, and state entries that make no sense."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.common.errors import ConfigError
from capacity.operator.decide import DecideSettings, History, Mode, Planned, decide
from capacity.operator.kube.state import CONFIGMAP_NAME, decode
from capacity.operator.reload import OperatorSettings, load_settings
from tests.failsafe.operator_support import RENTREE, fake_kube, seeded  # noqa: F401 - fixtures
from tests.kube.conftest import HOME, make_instance
from tests.support.fake_kube import FakeKube

T = RENTREE + timedelta(hours=3)  # 09:30, after the rush


def plan(replicas: int) -> Planned:
    return Planned(replicas=replicas, wish=replicas, floor=2, ceiling=100, funders=("region-grand-est",))


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("stabilisation_window_s: .nan", "stabilisation_window_s"),
        ("stabilisation_window_s: -1", "stabilisation_window_s"),
        ("stabilisation_window_s: 1e9", "stabilisation_window_s"),
        ("anticipation_s: .inf", "anticipation_s"),
        ("anticipation_s: .nan", "anticipation_s"),
        ("max_step_down: .nan", "max_step_down"),
        ("max_step_down: 0", "max_step_down"),
        ("unready_after_failed_ticks: 0", "unready_after_failed_ticks"),
        ("unready_after_failed_ticks: 2.5", "unready_after_failed_ticks"),
        ("unready_after_failed_ticks: .inf", "unready_after_failed_ticks"),
        ("nowcast_most: 0.8", "nowcast_most"),
        ("nowcast_most: .nan", "nowcast_most"),
        ("nowcast_most: 5", "nowcast_most"),
    ],
)
def test_a_setting_that_is_not_finite_or_out_of_range_is_one_clear_error(
    tmp_path: Path, text: str, setting: str
) -> None:
    path = tmp_path / "operator.yaml"
    valid = "anticipation_s: 600" if setting != "anticipation_s" else "max_step_down: 0.5"
    path.write_text(f"{valid}\n{text}\n")  # line 2 is the bad one
    with pytest.raises(ConfigError, match=rf"operator\.yaml:2(:\d+)?: {setting}: ") as err:
        load_settings(path)
    assert "\n" not in str(err.value)


def test_the_settings_objects_refuse_nan_too() -> None:
    with pytest.raises(ValueError, match="stabilisation_window_s"):
        DecideSettings(stabilisation_window_s=float("nan"))
    with pytest.raises(ValueError, match="anticipation_s"):
        OperatorSettings(anticipation_s=float("inf"))


def test_a_clock_that_goes_back_eight_hours_does_not_let_the_floor_fall() -> None:
    peak = decide(plan(53), 53, History(), now=T, metrics_ok=True)
    history, current = peak.history, 53
    for minute in range(5):  # the node's clock jumped back 8 h; the plan for "then" is low
        d = decide(plan(12), current, history, now=T - timedelta(hours=8, minutes=-minute), metrics_ok=True)
        history, current = d.history, d.replicas
        assert current == 53 and "stabilisation" in d.reasons
    # the window still ends: a full window later on the new clock, the floor steps down
    later = decide(plan(12), current, history, now=T - timedelta(hours=8) + timedelta(minutes=35), metrics_ok=True)
    assert later.replicas < 53


@given(st.lists(st.floats(min_value=0, max_value=48 * 3600), min_size=1, max_size=30), st.integers(2, 60))
def test_ticks_on_a_clock_that_never_moves_forward_never_lower_the_floor(backs: list[float], low: int) -> None:
    d = decide(plan(80), 80, History(), now=T, metrics_ok=True)
    now = T
    for back in backs:
        now -= timedelta(seconds=back)
        d = decide(plan(low), d.replicas, d.history, now=now, metrics_ok=True)
        assert d.replicas == 80


def test_invalid_state_points_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    raw = [[1e999, 3], ["x", 3], [-5, 3], [100, 1e999], [100, -2], [100, 2.5], [100, True], [5, 7], [1, 2, 3]]
    text = json.dumps({"api": {"history": raw}}).replace("Infinity", "1e999")
    with caplog.at_level(logging.WARNING, logger="capctl.state"):
        state = decode({"grand-est": text, "format": "1"})
    assert state == {("grand-est", "api"): History(points=((5.0, 7),))}
    assert any("dropping invalid state points" in r.getMessage() for r in caplog.records)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_no_state_content_makes_reading_it_raise(data: dict[str, object]) -> None:
    state = decode({k: json.dumps(v) for k, v in data.items()})
    for history in state.values():
        assert all(t >= 0 and v >= 0 for t, v in history.points)


def test_a_tick_over_a_corrupt_state_goes_on(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    corrupt = '{"api":{"history":[[1,1e999]]},"web":{"history":[["soon",4]]}}'
    seeded.put_object(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CONFIGMAP_NAME, "namespace": HOME},
         "data": {"format": "1", "grand-est": corrupt, "intent": "{not json"}}
    )  # fmt: skip
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert report.ok, report.errors
    cm = seeded.get_object("v1", "ConfigMap", HOME, CONFIGMAP_NAME)
    assert cm is not None and "1e999" not in cm["data"]["grand-est"]
