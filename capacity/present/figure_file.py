"""Where plots go: the formats capctl writes, checked before any computation, and the atomic save.

A plot is checked up front (folder exists and is writable, suffix one of PLOT_SUFFIXES) so that a long
backtest never ends in a traceback, and saved through the one atomic writer so that a failure leaves the
previous image whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capacity.common.errors import InputError
from capacity.common.files import check_writable, write_atomic

#: Formats every matplotlib install writes (Agg, SVG and PDF back ends ship with it).
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: Path, option: str = "--plot") -> None:
    """Refuse, in one line, a plot path that could not be written: unknown suffix, missing or read-only folder."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"{option} {path}: unsupported image format; end the name with {', '.join(PLOT_SUFFIXES)}")
    check_writable(path, f"{option} image")


def save_figure(fig: Any, path: Path, dpi: int) -> None:
    """Render `fig` into `path` atomically (format from the suffix) and release it."""
    import matplotlib.pyplot as plt

    try:
        write_atomic(path, lambda out: fig.savefig(out, dpi=dpi, format=path.suffix.lower()[1:]), "plot")
    finally:
        plt.close(fig)
