"""Write OpenMetrics text that `promtool tsdb create-blocks-from openmetrics` accepts.

Tests describe history as a few `Series` and get back the exact text to backfill into a real Prometheus,
so no test hand-writes exposition lines (escaping, `_total` suffixes, `# EOF`, family grouping).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["gauge", "counter"]
Numbers = Sequence[float] | npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Series:
    """One time series: `name` is the stored sample name (a counter's ends with `_total`)."""

    name: str
    kind: Kind
    labels: Mapping[str, str]
    timestamps_s: Numbers
    values: Numbers
    help_text: str = field(default="")

    def __post_init__(self) -> None:
        if len(self.timestamps_s) != len(self.values):
            raise ValueError(f"{self.name}: {len(self.timestamps_s)} timestamps but {len(self.values)} values")
        if self.kind == "counter" and not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name!r} must end with _total (OpenMetrics sample name)")

    @property
    def family(self) -> str:
        return self.name.removesuffix("_total") if self.kind == "counter" else self.name


def render_openmetrics(series: Iterable[Series]) -> str:
    """The whole exposition as one string (fine up to a few million samples)."""
    return "".join(_lines(series))


def write_openmetrics(series: Iterable[Series], path: Path) -> Path:
    """Stream the exposition to `path` (for large backfills), returning `path`."""
    with path.open("w", encoding="utf-8") as out:
        out.writelines(_lines(series))
    return path


def _lines(series: Iterable[Series]) -> Iterator[str]:
    # OpenMetrics forbids interleaving families: group series by family, keeping first-seen order.
    families: dict[str, list[Series]] = {}
    for one in series:
        families.setdefault(one.family, []).append(one)
    for family, members in families.items():
        kinds = {m.kind for m in members}
        if len(kinds) != 1:
            raise ValueError(f"family {family!r} mixes kinds {sorted(kinds)}")
        help_text = next((m.help_text for m in members if m.help_text), "")
        if help_text:
            yield f"# HELP {family} {_escape(help_text)}\n"
        yield f"# TYPE {family} {members[0].kind}\n"
        for member in members:
            prefix = member.name + _labels(member.labels) + " "
            for ts, value in zip(member.timestamps_s, member.values, strict=True):
                yield f"{prefix}{_number(float(value))} {_number(float(ts))}\n"
    yield "# EOF\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items())) + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
