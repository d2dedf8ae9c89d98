"""Cost against under-provisioning per strategy, and the focus mornings strategy by strategy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from capacity.policy.sizing import users_served
from capacity.present.figure_file import save_figure
from capacity.simulate.delay import ready_replicas
from capacity.simulate.metrics import StrategyResult
from capacity.simulate.scenario import Scenario

IntArray = npt.NDArray[np.int64]


def plot_replay(
    path: Path,
    scenario: Scenario,
    results: Sequence[StrategyResult],
    desired: Mapping[str, IntArray],
    delay_steps: int,
    days: Sequence[date],
    title: str,
) -> None:
    """Scatter (cost €, share under-provisioned) + for each focus day, demand vs users served 5-12 h."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = [d for d in days if d in set(scenario.local_day)]
    fig, axes = plt.subplots(1, 1 + len(present), figsize=(6 + 6 * len(present), 5), squeeze=False)
    ax = axes[0][0]
    for r in results:
        ax.scatter(r.cost_eur, r.underprovisioned_share * 100)
        ax.annotate(r.strategy, (r.cost_eur, r.underprovisioned_share * 100))
    ax.set_xlabel("cost (€)")
    ax.set_ylabel("under-provisioned user-minutes (% of demand)")
    ax.set_title("cost vs under-provisioning")
    served = {k: _served(scenario, ready_replicas(v, v[0], delay_steps)) for k, v in desired.items()}
    for ax, day in zip(axes[0][1:], present, strict=True):
        slots = np.array([d == day for d in scenario.local_day])
        on = slots[scenario.slot_of_step] & (scenario.local_hour >= 5) & (scenario.local_hour < 12)
        hours = scenario.local_hour[on]
        demand = scenario.trace.users.sum(axis=0)[on]
        ax.plot(hours, demand, color="black", linewidth=2, label="demand")
        ax.set_ylim(0, 1.6 * float(demand.max()))
        for k, s in served.items():
            ax.plot(hours, s[on], label=k)
        ax.set_title(f"{day} morning, all plaques")
        ax.set_xlabel("hour (Europe/Paris)")
        ax.set_ylabel("users connected / ready capacity")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def _served(scenario: Scenario, ready: IntArray) -> npt.NDArray[np.float64]:
    """Users the ready replicas can serve per step, summed over plaques (scarcest component per plaque)."""
    per_plaque = np.full(scenario.trace.users.shape, np.inf)
    for i, u in enumerate(scenario.units):
        np.minimum(per_plaque[u.row], users_served(ready[:, i], u.component), out=per_plaque[u.row])
    return np.asarray(per_plaque.sum(axis=0), dtype=np.float64)
