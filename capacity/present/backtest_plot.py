"""PNG of a backtest: per plaque, the forecast daily peak and its band against the actual peak, with the
calendar's event days shaded (and days without class greyed), so misses on rentrées stand out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from capacity.learning.backtest import DayResult
from capacity.present import palette
from capacity.present.figure_file import save_figure

HALF_DAY = timedelta(hours=12)


def _noon(day: date) -> datetime:
    """Each day's values sit in the middle of its shaded span."""
    return datetime.combine(day, time(12))


def plot_backtest(days: Sequence[DayResult], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plaques = list(dict.fromkeys(r.plaque for r in days))
    fig, axes = plt.subplots(
        len(plaques), 1, figsize=(14, 2.8 * len(plaques)), squeeze=False, sharex=True, layout="constrained"
    )
    for ax, pid in zip(axes[:, 0], plaques, strict=True):
        mine = [r for r in days if r.plaque == pid]
        x = [_noon(r.day) for r in mine]
        band = ([r.low for r in mine], [r.high for r in mine])
        ax.fill_between(x, *band, color=palette.SERIES["forecast"], alpha=0.3, label="band")
        ax.plot(x, [r.forecast_peak for r in mine], color=palette.SERIES["forecast"], lw=1.5, label="forecast peak")
        seen = [r for r in mine if r.actual_peak is not None]
        ax.plot(
            [_noon(r.day) for r in seen],
            [r.actual_peak for r in seen],
            ".",
            color=palette.SERIES["demand"],
            ms=3,
            label="actual peak",
        )
        for r in mine:
            if r.event_day:
                ax.axvspan(_noon(r.day) - HALF_DAY, _noon(r.day) + HALF_DAY, color=palette.ORANGE, alpha=0.3, lw=0)
            elif not r.class_day:
                ax.axvspan(_noon(r.day) - HALF_DAY, _noon(r.day) + HALF_DAY, color="grey", alpha=0.08, lw=0)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("users")
        ax.set_title(pid, fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.suptitle(f"{title}  (orange: rentrée / first day of a new state; grey: no class)", fontsize=10)
    save_figure(fig, path, dpi=90)
