"""Per-component capacity model from metrics: requests per connected user and capacity per replica.

  requests_per_user_s = median over busy instants of (requests per second) / (users connected);
  cpu_s_per_request   = robust slope of CPU cores against requests per second (binned, Theil-Sen), so
                        idle CPU and spikes do not bias it;
  rps_per_replica     = cpu_per_replica (topology) / cpu_s_per_request: what one replica sustains at
                        full CPU.
Only recent data is used (a release changes both), and a component without data keeps its configured
values, said in the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from capacity.common.arrays import FloatArray
from capacity.learning.robust import theil_sen
from capacity.policy.topology import Plaque

BUSY_SHARE = 0.2  # instants with at least this share of the window's peak users
BINS = 20
MIN_SAMPLES = 50


@dataclass(frozen=True)
class ComponentFit:
    """Fitted values (None: not measured, the topology's value stays)."""

    requests_per_user_s: float | None
    rps_per_replica: float | None
    cpu_s_per_request: float | None
    samples: int
    note: str = ""

    @property
    def fitted(self) -> bool:
        return self.requests_per_user_s is not None or self.rps_per_replica is not None


def fit_components(
    sessions: Mapping[str, FloatArray],
    requests: Mapping[tuple[str, str], FloatArray],
    cpu: Mapping[tuple[str, str], FloatArray],
    plaques: Sequence[Plaque],
    first: int = 0,
) -> dict[tuple[str, str], ComponentFit]:
    """Fit every component of every plaque from samples [first:] (all series on the same grid)."""
    out: dict[tuple[str, str], ComponentFit] = {}
    for plaque in plaques:
        users = _users(sessions.get(plaque.id), first)
        for comp in plaque.components:
            key = (plaque.id, comp.name)
            rps = requests.get(key)
            cores = cpu.get(key)
            out[key] = fit_component(
                users,
                None if rps is None else rps[first:],
                None if cores is None else cores[first:],
                comp.cpu_per_replica,
            )
    return out


def fit_component(
    users: FloatArray | None, rps: FloatArray | None, cores: FloatArray | None, cpu_per_replica: float
) -> ComponentFit:
    notes = []
    rpu = None
    samples = 0
    if users is not None and rps is not None:
        ok = np.isfinite(users) & np.isfinite(rps) & (users > 0)
        if ok.any():
            busy = ok & (users >= BUSY_SHARE * np.nanmax(np.where(ok, users, np.nan)))
            samples = int(busy.sum())
            if samples >= MIN_SAMPLES:
                rpu = float(np.median(rps[busy] / users[busy]))
    if rpu is None:
        notes.append("no requests and sessions together: requests per user kept")
    per_request = capacity = None
    if rps is not None and cores is not None:
        slope = _cpu_per_request(rps, cores)
        if slope is not None and slope > 0:
            per_request, capacity = slope, cpu_per_replica / slope
    if capacity is None:
        notes.append("no CPU against requests: capacity per replica kept")
    return ComponentFit(rpu, capacity, per_request, samples, "; ".join(notes))


def _users(rows: FloatArray | None, first: int) -> FloatArray | None:
    if rows is None:
        return None
    part = rows[:, first:]
    total = np.nansum(part, axis=0)
    return np.asarray(np.where(np.isfinite(part).all(axis=0), total, np.nan))


def _cpu_per_request(rps: FloatArray, cores: FloatArray) -> float | None:
    ok = np.isfinite(rps) & np.isfinite(cores)
    if ok.sum() < MIN_SAMPLES:
        return None
    x, y = rps[ok], cores[ok]
    edges = np.unique(np.quantile(x, np.linspace(0, 1, BINS + 1)))
    if edges.size < 3:
        return None
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    bx = np.array([np.median(x[which == b]) for b in range(edges.size - 1) if (which == b).any()])
    by = np.array([np.median(y[which == b]) for b in range(edges.size - 1) if (which == b).any()])
    slope, _ = theil_sen(bx, by)
    return slope if np.isfinite(slope) else None
