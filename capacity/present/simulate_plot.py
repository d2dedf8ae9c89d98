"""Cost against under-provisioning per strategy, and the mornings where demand went most unserved.

Each strategy keeps its colour in every panel (capacity/present/palette.py); one legend, outside the
data, names them; axes start at 0; the demand nobody served is shaded; the focus days are the ones with
the largest shortfall in the replay, not fixed dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from capacity.policy.sizing import users_served
from capacity.present import palette
from capacity.present.figure_file import save_figure
from capacity.simulate.delay import ready_replicas
from capacity.simulate.metrics import StrategyResult
from capacity.simulate.scenario import Scenario

IntArray = npt.NDArray[np.int64]
MORNING = (5, 12)  # hours shown on the focus panels
FOCUS = 2  # focus days drawn


def focus_days(scenario: Scenario, served: Mapping[str, npt.NDArray[np.float64]], n: int = FOCUS) -> list[date]:
    """The `n` days with the largest shortfall: user-steps of demand unserved, summed over the strategies."""
    demand = scenario.trace.users.sum(axis=0)
    unserved = sum((np.maximum(demand - s, 0.0) for s in served.values()), np.zeros_like(demand))
    day_of_step = np.asarray(scenario.local_day, dtype=object)[scenario.slot_of_step]
    totals: dict[date, float] = {}
    for day, value in zip(day_of_step, unserved, strict=True):
        totals[day] = totals.get(day, 0.0) + float(value)
    ranked = sorted((d for d, v in totals.items() if v > 0), key=lambda d: -totals[d])
    return sorted(ranked[:n])


def served_by_strategy(
    scenario: Scenario, desired: Mapping[str, IntArray], delay_steps: int
) -> dict[str, npt.NDArray[np.float64]]:
    """Users each strategy's ready replicas serve per step (replicas come up `delay_steps` after asked)."""
    return {k: _served(scenario, ready_replicas(v, v[0], delay_steps)) for k, v in desired.items()}


def plot_replay(
    path: Path,
    scenario: Scenario,
    results: Sequence[StrategyResult],
    desired: Mapping[str, IntArray],
    delay_steps: int,
    title: str,
    days: Sequence[date] | None = None,
) -> None:
    """Scatter (cost €, share under-provisioned) + for each focus day (default: the worst), demand vs served 5-12 h."""
    save_figure(replay_figure(scenario, results, desired, delay_steps, title, days), path, dpi=90)


def replay_figure(
    scenario: Scenario,
    results: Sequence[StrategyResult],
    desired: Mapping[str, IntArray],
    delay_steps: int,
    title: str,
    days: Sequence[date] | None = None,
) -> Any:
    """The matplotlib figure of `plot_replay` (headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    thousands = FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", " "))

    served = served_by_strategy(scenario, desired, delay_steps)
    days = focus_days(scenario, served) if days is None else days
    present = [d for d in days if d in set(scenario.local_day)]
    fig, axes = plt.subplots(
        1, 1 + len(present), figsize=(5.5 + 6 * len(present), 5), squeeze=False, layout="constrained"
    )
    ax = axes[0][0]
    for r in results:
        ax.scatter(
            r.cost_eur, r.underprovisioned_share * 100, s=70, color=palette.strategy_colour(r.strategy),
            edgecolor="white", zorder=3,
        )  # fmt: skip
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_xlabel("cost (€)")
    ax.set_ylabel("under-provisioned user-minutes (% of demand)")
    ax.set_title("cost vs under-provisioning", fontsize=10)
    for ax, day in zip(axes[0][1:], present, strict=True):
        slots = np.array([d == day for d in scenario.local_day])
        on = slots[scenario.slot_of_step] & (scenario.local_hour >= MORNING[0]) & (scenario.local_hour < MORNING[1])
        hours = scenario.local_hour[on]
        demand = scenario.trace.users.sum(axis=0)[on]
        lowest = np.min(np.stack([s[on] for s in served.values()]), axis=0)
        ax.fill_between(hours, np.minimum(lowest, demand), demand, color=palette.SERIES["shortfall"], alpha=0.25, lw=0)
        for r in results:
            ax.plot(hours, served[r.strategy][on], color=palette.strategy_colour(r.strategy), lw=1.5)
        ax.plot(hours, demand, color=palette.SERIES["demand"], lw=2.5)
        ax.set_ylim(0, 1.25 * float(demand.max()))
        ax.set_xlim(*MORNING)
        ax.grid(alpha=0.3)
        ax.set_title(f"{day} morning, all plaques (largest shortfall)", fontsize=10)
        ax.set_xlabel("hour (Europe/Paris)")
        ax.set_ylabel("users connected / ready capacity")
    handles: list[Any] = [
        Line2D([], [], color=palette.strategy_colour(r.strategy), marker="o", lw=1.5, label=r.strategy) for r in results
    ]
    handles.append(Line2D([], [], color=palette.SERIES["demand"], lw=2.5, label="demand"))
    handles.append(
        Rectangle((0, 0), 1, 1, color=palette.SERIES["shortfall"], alpha=0.25, label="demand some strategy missed")
    )
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    fig.suptitle(title)
    for ax in axes[0]:
        ax.yaxis.set_major_formatter(thousands)
    axes[0][0].xaxis.set_major_locator(MaxNLocator(5))
    axes[0][0].xaxis.set_major_formatter(thousands)
    return fig


def _served(scenario: Scenario, ready: IntArray) -> npt.NDArray[np.float64]:
    """Users the ready replicas can serve per step, summed over plaques (scarcest component per plaque)."""
    per_plaque = np.full(scenario.trace.users.shape, np.inf)
    for i, u in enumerate(scenario.units):
        np.minimum(per_plaque[u.row], users_served(ready[:, i], u.component), out=per_plaque[u.row])
    return np.asarray(per_plaque.sum(axis=0), dtype=np.float64)
