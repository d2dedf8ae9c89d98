"""PNG of a day plan per plaque: users (forecast, capacity, kept out) above, replicas per component below.

Read without a legend hunt: one colour per series (capacity/present/palette.py), both axes from 0, the
users kept out drawn in their own colour, the legends outside the data, and the day's states in the title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from capacity.common.timegrid import local_hours
from capacity.planning.kernel import Plan, PlaquePlan
from capacity.policy.sizing import users_served
from capacity.present import palette
from capacity.present.figure_file import save_figure
from capacity.present.tables import level_states


def capacity_users(pp: PlaquePlan) -> np.ndarray:
    """Users the planned replicas serve per slot: the scarcest component decides."""
    served = [users_served(cp.replicas, cp.component) for cp in pp.components]
    return np.min(np.stack(served), axis=0) if served else np.zeros(len(pp.forecast.users))


def kept_out(pp: PlaquePlan) -> np.ndarray:
    """Users the plan keeps out per slot (every funder and profile)."""
    if pp.shortfall is None:
        return np.zeros(len(pp.forecast.users))
    return np.asarray(pp.shortfall.kept_out.sum(axis=(0, 1)), dtype=np.float64)


def plot_plan(plan: Plan, path: Path) -> None:
    """Draw two panels per plaque into `path` (PNG)."""
    save_figure(plan_figure(plan), path, dpi=100)


def plan_figure(plan: Plan) -> Any:
    """The matplotlib figure of `plot_plan` (headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    n = len(plan.plaques)
    fig, axes = plt.subplots(
        2 * n, 1, figsize=(12, 5.2 * n), squeeze=False, layout="constrained", height_ratios=[3, 2] * n
    )
    for k, pp in enumerate(plan.plaques):
        users_ax, rep_ax = axes[2 * k, 0], axes[2 * k + 1, 0]
        starts = pp.forecast.grid.starts
        x = np.arange(len(starts) + 1)

        def stairs(values: np.ndarray) -> np.ndarray:
            return np.append(values, values[-1])  # one value per slot, drawn across the whole slot

        users_ax.fill_between(
            x, stairs(pp.forecast.low), stairs(pp.forecast.high), step="post",
            color=palette.SERIES["forecast"], alpha=0.25, lw=0, label="forecast band",
        )  # fmt: skip
        users_ax.step(x, stairs(pp.forecast.users), where="post", color=palette.SERIES["forecast"], lw=2,
                      label="forecast users")  # fmt: skip
        users_ax.step(x, stairs(capacity_users(pp)), where="post", color=palette.SERIES["capacity"], lw=1.5,
                      label="users the plan serves")  # fmt: skip
        out = kept_out(pp)
        if out.any():
            users_ax.bar(np.arange(len(out)), out, width=1.0, align="edge", color=palette.SERIES["shortfall"],
                         alpha=0.85, label="users kept out")  # fmt: skip
        users_ax.set_ylim(bottom=0)
        users_ax.set_ylabel("users connected")
        states = ", ".join(
            f"{lv}: {e['state']}{' (rentrée)' if e['rentree'] else ''}" for lv, e in level_states(pp).items()
        )
        users_ax.set_title(f"{pp.plaque.id} (zone {pp.plaque.zone}) {plan.day.isoformat()} — {states}", fontsize=10)
        for i, cp in enumerate(pp.components):
            colour = palette.component_colour(cp.component.name, i)
            rep_ax.step(x, stairs(cp.replicas), where="post", color=colour, lw=2, label=cp.component.name)
            rep_ax.step(x, stairs(cp.ceiling), where="post", color=colour, lw=1, ls="--", alpha=0.7)
            rep_ax.step(x, stairs(cp.floor), where="post", color=colour, lw=1, ls=":", alpha=0.7)
        rep_ax.plot([], [], color=palette.GREY, ls="--", label="ceiling (dashed)")
        rep_ax.plot([], [], color=palette.GREY, ls=":", label="floor (dotted)")
        rep_ax.set_ylim(bottom=0)
        rep_ax.set_ylabel("replicas")
        hours = local_hours(starts)
        ticks = [i for i, h in enumerate(hours) if h == int(h) and int(h) % 3 == 0]
        for ax in (users_ax, rep_ax):
            ax.set_xlim(0, len(starts))
            ax.set_xticks(ticks, [f"{int(hours[i]):02d}h" for i in ticks])
            ax.grid(axis="y", alpha=0.3)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", " ")))
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig
