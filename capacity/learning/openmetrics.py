"""Stream series to an OpenMetrics file that `promtool tsdb create-blocks-from openmetrics` accepts.

Written for volume (millions of samples for two school years): one formatted string per sample, series
of a family kept together (OpenMetrics forbids interleaving families), `# EOF` at the end. Values are
written with fixed `decimals` (fast, for synthetic history) or, with `decimals=None`, exactly (NaN and
±Inf included), which is what the tests that backfill a real Prometheus need.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import numpy.typing as npt

from capacity.common.files import write_atomic

Kind = Literal["gauge", "counter"]


@dataclass(frozen=True)
class SampleSeries:
    """One series to write: samples at `timestamps_s` (UTC seconds); NaN values are written as NaN."""

    name: str  # sample name; a counter's ends with `_total`
    kind: Kind
    labels: Mapping[str, str]
    timestamps_s: npt.ArrayLike
    values: npt.ArrayLike
    decimals: int | None = 0  # None: exact values
    help_text: str = ""

    def __post_init__(self) -> None:
        n_t, n_v = len(np.atleast_1d(self.timestamps_s)), len(np.atleast_1d(self.values))
        if n_t != n_v:
            raise ValueError(f"{self.name}: {n_t} timestamps but {n_v} values")
        if self.kind == "counter" and not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name!r} must end with _total (OpenMetrics sample name)")

    @property
    def family(self) -> str:
        return self.name.removesuffix("_total") if self.kind == "counter" else self.name


def write_openmetrics(
    series: Iterable[SampleSeries], path: Path, on_progress: Callable[[int, int], None] | None = None
) -> int:
    """Write every series to `path` (atomically: all or the previous file); returns the number of samples.

    `on_progress(done, total)` is called as series are written.
    """
    members = list(series)
    count = done = 0

    def write(out: BinaryIO) -> None:
        nonlocal count, done
        for text, samples in _chunks(members):
            out.write(text.encode("utf-8"))
            count += samples
            if samples and on_progress is not None:
                done += 1
                on_progress(done, len(members))

    write_atomic(path, write, "OpenMetrics file")
    return count


def render_openmetrics(series: Iterable[SampleSeries]) -> str:
    """The whole exposition as one string (fine up to a few million samples)."""
    return "".join(text for text, _ in _chunks(series))


def _chunks(series: Iterable[SampleSeries]) -> Iterator[tuple[str, int]]:
    """(text, samples in it): headers per family, then each member series as one string; `# EOF` last."""
    families: dict[str, list[SampleSeries]] = {}
    for s in series:
        families.setdefault(s.family, []).append(s)
    for family, members in families.items():
        kinds = {m.kind for m in members}
        if len(kinds) != 1:
            raise ValueError(f"family {family!r} mixes kinds {sorted(kinds)}")
        help_text = next((m.help_text for m in members if m.help_text), "")
        if help_text:
            yield f"# HELP {family} {_escape(help_text)}\n", 0
        yield f"# TYPE {family} {members[0].kind}\n", 0
        for m in members:
            yield _series_text(m)
    yield "# EOF\n", 0


def _series_text(s: SampleSeries) -> tuple[str, int]:
    prefix = s.name + _labels(s.labels) + " "
    times = np.atleast_1d(np.asarray(s.timestamps_s))
    if np.issubdtype(times.dtype, np.integer):
        stamps = [str(t) for t in times.tolist()]
    else:
        stamps = [_number(float(t)) for t in times.tolist()]
    raw = np.atleast_1d(s.values).astype(np.float64).tolist()
    if s.decimals is None:
        values = [_number(v) for v in raw]
    else:
        fmt = f"{{:.{s.decimals}f}}"
        values = ["NaN" if math.isnan(v) else (str(round(v)) if s.decimals == 0 else fmt.format(v)) for v in raw]
    return "".join(f"{prefix}{v} {t}\n" for v, t in zip(values, stamps, strict=True)), len(values)


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
