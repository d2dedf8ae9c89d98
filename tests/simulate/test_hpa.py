"""The HPA against hand-computed cases of the Kubernetes v2 algorithm."""

from __future__ import annotations

import numpy as np

from capacity.simulate.delay import ready_replicas
from capacity.simulate.hpa import HpaSettings, recommend, simulate

CAP = np.array([100.0])


def rec(load: float, ready: int, current: int, cap: float = 100.0) -> int:
    return int(recommend(np.array([load]), np.array([ready]), np.array([current]), np.array([cap]), 0.1)[0])


def run(
    load: list[float], lo: list[int] | int, initial: int, delay: int = 0, step_s: int = 15, hi: int = 1000
) -> list[int]:
    n = len(load)
    mins = np.array(lo if isinstance(lo, list) else [lo] * n, dtype=np.int64)[:, None]
    out = simulate(
        np.array(load)[:, None], mins, np.full((n, 1), hi, dtype=np.int64), CAP, np.array([initial]), delay, step_s
    )
    return [int(v) for v in out[:, 0]]


def test_within_tolerance_no_change() -> None:
    assert rec(10.9, 10, 10) == 10  # ratio 1.09
    assert rec(9.1, 10, 10) == 10  # ratio 0.91


def test_outside_tolerance_ceil_of_ratio_times_ready() -> None:
    assert rec(11.5, 10, 10) == 12  # ratio 1.15 → ceil(11.5)
    assert rec(5.0, 10, 10) == 5


def test_saturated_pods_report_at_most_one_over_target() -> None:
    assert rec(30.0, 10, 10, cap=1 / 0.7) == 15  # ratio capped at 1.4286 → ceil(14.29)


def test_unready_pods_count_as_idle_when_scaling_up() -> None:
    assert rec(15.0, 10, 20) == 20  # over all 20 pods: 0.75 < 1 → hold, no double scale-up
    assert rec(30.0, 10, 20) == 30  # 300 % on ready, 1.5 over all → ceil(1.5 × 20)


def test_scale_up_limited_to_double_or_four_pods_per_sync() -> None:
    assert run([100.0], 1, 3) == [7]  # max(2 × 3, 3 + 4)
    assert run([100.0] * 4, 1, 10) == [20, 40, 80, 100]
    assert run([100.0], 1, 3, step_s=60) == [56]  # four syncs in a minute: 7, 14, 28, 56


def test_scale_down_waits_for_the_stabilisation_window() -> None:
    out = run([10.0] + [5.0] * 8, 1, 10, step_s=60)
    assert out[:5] == [10] * 5  # the 10-pod recommendation is less than 300 s old
    assert out[-1] == 5


def test_min_replicas_wins_over_the_rate_limit_and_max_caps() -> None:
    assert run([1.0, 1.0], [2, 50], 2) == [2, 50]
    assert run([100.0] * 3, 1, 10, hi=25) == [20, 25, 25]


def test_started_pods_serve_after_the_delay() -> None:
    desired = np.array([[2], [6], [6], [6], [3], [5], [5]], dtype=np.int64)
    ready = ready_replicas(desired, np.array([2]), 2)
    assert ready[:, 0].tolist() == [2, 2, 2, 6, 3, 3, 3]  # removed at once; re-added pods start over


def test_hpa_with_delay_sees_only_ready_pods() -> None:
    # demand doubles; with 2 steps of start-up the HPA orders once and waits (unready pods count as idle)
    out = run([20.0] * 4, 1, 10, delay=2, step_s=15)
    assert out == [20, 20, 20, 20]


def test_default_settings_are_kubernetes_defaults() -> None:
    s = HpaSettings()
    assert (s.tolerance, s.sync_s, s.scale_up_percent, s.scale_up_pods, s.scale_down_window_s) == (0.1, 15, 100, 4, 300)
