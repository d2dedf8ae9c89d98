"""PNG of a day plan per plaque: forecast demand, replicas, floors and ceilings, day states written on it."""

from __future__ import annotations

from pathlib import Path

from capacity.planning.kernel import Plan
from capacity.present.figure_file import save_figure
from capacity.present.tables import level_states


def plot_plan(plan: Plan, path: Path) -> None:
    """Draw one panel per plaque into `path` (matplotlib, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(plan.plaques)
    fig, axes = plt.subplots(n, 1, figsize=(11, 3.2 * n), squeeze=False, constrained_layout=True)
    for ax, pp in zip(axes[:, 0], plan.plaques, strict=True):
        hours = [s.hour + s.minute / 60 for s in pp.forecast.grid.starts]
        x = list(range(len(hours)))
        ax.fill_between(x, pp.forecast.low, pp.forecast.high, color="tab:blue", alpha=0.15, step="post")
        ax.step(x, pp.forecast.users, where="post", color="tab:blue", label="forecast users")
        ax.set_ylabel("users connected")
        ax2 = ax.twinx()
        for cp in pp.components:
            line = ax2.step(x, cp.replicas, where="post", label=f"{cp.component.name} replicas")[0]
            ax2.step(x, cp.ceiling, where="post", linestyle="--", color=line.get_color(), alpha=0.6)
            ax2.step(x, cp.floor, where="post", linestyle=":", color=line.get_color(), alpha=0.6)
        ax2.set_ylabel("replicas (-- ceiling, : floor)")
        ticks = [i for i, h in enumerate(hours) if h == int(h) and int(h) % 3 == 0]
        ax.set_xticks(ticks, [f"{int(hours[i]):02d}h" for i in ticks])
        states = ", ".join(
            f"{lv}: {e['state']}{' (rentrée)' if e['rentree'] else ''}" for lv, e in level_states(pp).items()
        )
        ax.set_title(f"{pp.plaque.id} (zone {pp.plaque.zone}) {plan.day.isoformat()} — {states}", fontsize=10)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", fontsize=7, ncol=3)
    save_figure(fig, path, dpi=100)
