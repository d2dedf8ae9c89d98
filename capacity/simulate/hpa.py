"""A faithful Kubernetes HorizontalPodAutoscaler (autoscaling/v2), vectorised over many workloads.

Follows the controller's replica calculator and default behaviour:
  - usage ratio = measured utilisation / target, over READY pods only; a pod's utilisation cannot exceed
    its CPU limit, so an overloaded HPA sees at most limit_ratio/target (limit_ratio = CPU limit / request,
    1 when the request is the saturation point);
  - metrics lag: metrics-server's window makes the HPA act on the load of about a minute ago;
  - within `tolerance` (0.1) of 1: no change; else desired = ceil(ratio × ready pods);
  - when pods are still starting and the ratio says "up", they count as 0 % and the ratio is recomputed
    over all pods; no change if that lands within tolerance or flips direction (no double scale-up);
  - scale-up: no stabilisation, at most max(+100 %, +4 pods) per 15 s sync;
  - scale-down: the highest recommendation of the last 300 s (stabilisation), no rate limit (100 %/15 s);
  - clamped to [minReplicas, maxReplicas]; minReplicas wins over the rate limit.
One simulation step holds several syncs at constant demand; syncs stop early once nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HpaSettings:
    """Kubernetes defaults (kube-controller-manager flags and the v2 default behaviour)."""

    tolerance: float = 0.1
    sync_s: int = 15
    scale_up_percent: float = 100.0
    scale_up_pods: int = 4
    scale_down_window_s: int = 300
    metrics_lag_s: int = 60  # metrics-server scrapes every 60 s: the HPA sees the load of a minute ago
    limit_ratio: float = 1.0  # CPU limit / request: > 1 lets an overloaded pod report more than 100 %


def lagged(load: FloatArray, lag_steps: int) -> FloatArray:
    """The load as the HPA sees it: `lag_steps` steps late (the first steps repeat the first load)."""
    if lag_steps <= 0:
        return load
    out = np.empty_like(load)
    out[:lag_steps] = load[:1]
    out[lag_steps:] = load[:-lag_steps]
    return out


def recommend(
    load: FloatArray, ready: IntArray, current: IntArray, ratio_cap: FloatArray, tolerance: float
) -> IntArray:
    """The replica calculator: recommendation from `load` (pods' worth of work at the target), per workload.

    `ready` pods report metrics, `current - ready` are starting (unready). `ratio_cap` is 1/target:
    the highest ratio a saturated pod can report.
    """
    ready_f = np.maximum(ready, 1).astype(np.float64)
    ratio = np.minimum(load / ready_f, ratio_cap)
    simple = np.where(np.abs(1.0 - ratio) <= tolerance, current, np.ceil(np.round(ratio * ready_f, 9)))
    unready = current - ready
    new_ratio = ratio * ready_f / np.maximum(current, 1)
    hold = (np.abs(1.0 - new_ratio) <= tolerance) | (new_ratio < 1.0)
    with_unready = np.where(hold, current, np.maximum(np.ceil(np.round(new_ratio * current, 9)), current))
    rec: IntArray = np.where((unready > 0) & (ratio > 1.0), with_unready, simple).astype(np.int64)
    return rec


def scale_up_limit(current: IntArray, settings: HpaSettings) -> IntArray:
    """Default scale-up policies (Max of 100 % and 4 pods per 15 s)."""
    by_percent = np.ceil(current * (1 + settings.scale_up_percent / 100.0)).astype(np.int64)
    limit: IntArray = np.maximum(by_percent, current + settings.scale_up_pods)
    return limit


def simulate(
    load: FloatArray,
    min_replicas: IntArray,
    max_replicas: IntArray,
    ratio_cap: FloatArray,
    initial: IntArray,
    delay_steps: int,
    step_s: int,
    settings: HpaSettings = HpaSettings(),
) -> IntArray:
    """Desired replicas (the scale's spec) per step and workload.

    `load[step, w]` is the demand in pods at the target utilisation; `min_replicas[step, w]` may change
    over time (cron schedule, capctl's floor); a pod ordered at step k serves from step k + delay_steps.
    """
    n, width = load.shape
    syncs = max(1, step_s // settings.sync_s)
    window_steps = settings.scale_down_window_s // step_s
    history = np.empty((n + delay_steps, width), dtype=np.int64)
    history[:delay_steps] = initial[None, :]
    desired = history[delay_steps:]  # a view: history[k : k + delay_steps] are the orders before step k
    recmax = np.zeros((window_steps + 1, width), dtype=np.int64)  # per-step highest recommendation, ring
    current = initial.astype(np.int64).copy()
    for k in range(n):
        if delay_steps:
            ordered_long_ago = history[k : k + delay_steps].min(axis=0)
        lo, hi, ld = min_replicas[k], max_replicas[k], load[k]
        slot = k % (window_steps + 1)
        recmax[slot] = 0
        for _ in range(syncs):
            ready = np.minimum(ordered_long_ago, current) if delay_steps else current
            rec = recommend(ld, ready, current, ratio_cap, settings.tolerance)
            np.maximum(recmax[slot], rec, out=recmax[slot])
            down = recmax.max(axis=0)
            new = np.where(rec > current, rec, np.minimum(current, down))
            new = np.minimum(new, np.minimum(hi, scale_up_limit(current, settings)))
            new = np.maximum(new, lo)
            new = np.where(current > hi, hi, new)
            if np.array_equal(new, current):
                break
            current = new
        desired[k] = current
    return desired


def ratio_cap_for(target_utilisation: float, limit_ratio: float = 1.0) -> float:
    """The highest usage ratio a pod can report: its CPU limit (as a share of its request) over target."""
    if not 0 < target_utilisation <= 1:
        raise ValueError("target utilisation must be in (0, 1]")
    if limit_ratio < 1:
        raise ValueError("a CPU limit below the request is not allowed by Kubernetes")
    return limit_ratio / target_utilisation
