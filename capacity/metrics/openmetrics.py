"""Stream series to an OpenMetrics file that `promtool tsdb create-blocks-from openmetrics` accepts.

Written for volume (millions of samples for two school years): one formatted string per sample, series
of a family kept together (OpenMetrics forbids interleaving families), `# EOF` at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import numpy.typing as npt

Kind = Literal["gauge", "counter"]


@dataclass(frozen=True)
class SampleSeries:
    """One series to write: samples at `timestamps_s` (UTC seconds); NaN values are written as NaN."""

    name: str  # sample name; a counter's ends with `_total`
    kind: Kind
    labels: Mapping[str, str]
    timestamps_s: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    decimals: int = 0
    help_text: str = ""

    @property
    def family(self) -> str:
        return self.name.removesuffix("_total") if self.kind == "counter" else self.name


def write_openmetrics(series: Iterable[SampleSeries], path: Path) -> int:
    """Write every series to `path`; returns the number of samples written."""
    families: dict[str, list[SampleSeries]] = {}
    for s in series:
        families.setdefault(s.family, []).append(s)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for family, members in families.items():
            help_text = next((m.help_text for m in members if m.help_text), "")
            if help_text:
                out.write(f"# HELP {family} {_escape(help_text)}\n")
            out.write(f"# TYPE {family} {members[0].kind}\n")
            for m in members:
                count += _write_series(out, m)
        out.write("# EOF\n")
    return count


def _write_series(out: TextIO, s: SampleSeries) -> int:
    prefix = s.name + _labels(s.labels) + " "
    fmt = f"{{:.{s.decimals}f}}"
    lines = []
    for t, v in zip(s.timestamps_s.tolist(), s.values.tolist(), strict=True):
        text = "NaN" if math.isnan(v) else (str(round(v)) if s.decimals == 0 else fmt.format(v))
        lines.append(f"{prefix}{text} {t}\n")
    out.write("".join(lines))
    return len(lines)


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
