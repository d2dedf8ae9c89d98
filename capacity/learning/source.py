"""Where metrics come from: a small `MetricsSource` protocol and its Prometheus HTTP implementation.

Only `query`, `query_range` and `series` are used, so any Prometheus-compatible backend works
(Prometheus, Thanos, Mimir, VictoriaMetrics). Long ranges are cut into chunks under the server's
point limit (Prometheus refuses more than 11,000 points per series). HTTP, deadlines, size cap and
error wording live in prom_http; here the answers' shapes are checked, so a malformed payload is one
`PrometheusResponseError` line naming the URL and the query, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from capacity.common.errors import InputError
from capacity.learning.prom_http import (
    DEFAULT_MAX_MIB,
    DEFAULT_TIMEOUT_S,
    PrometheusAuth,
    PrometheusHttp,
    check_url,
)
from capacity.learning.queries import QueryConfig

#: Prometheus rejects a range query when (end - start) / step > 11,000.
MAX_POINTS = 11_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ChunkCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and samples (UTC seconds; NaN kept as NaN)."""

    labels: Mapping[str, str]
    timestamps_s: IntArray
    values: FloatArray


@dataclass(frozen=True)
class InstantSample:
    labels: Mapping[str, str]
    timestamp_s: float
    value: float


class MetricsSource(Protocol):
    """What capctl needs from a metrics backend."""

    @property
    def name(self) -> str: ...

    def query(self, promql: str, at_s: int) -> list[InstantSample]: ...

    def query_range(
        self, promql: str, start_s: int, end_s: int, step_s: int, on_chunk: ChunkCallback | None = None
    ) -> list[RangeSeries]: ...

    def series(self, match: str, start_s: int, end_s: int) -> list[dict[str, str]]: ...

    def chunks(self, start_s: int, end_s: int, step_s: int) -> list[tuple[int, int]]: ...


def chunk_ranges(start_s: int, end_s: int, step_s: int, max_points: int = MAX_POINTS) -> list[tuple[int, int]]:
    """Split [start, end] (both sampled) into consecutive ranges of at most `max_points` points each.

    Chunks do not overlap: the next one starts one step after the previous one ends, so no sample is
    fetched twice and none is skipped.
    """
    if step_s <= 0:
        raise InputError(f"query step must be positive, got {step_s}")
    if max_points < 2:
        raise InputError(f"max points per query must be at least 2, got {max_points}")
    out: list[tuple[int, int]] = []
    span = (max_points - 1) * step_s
    t0 = start_s
    while t0 <= end_s:
        t1 = min(t0 + span, end_s)
        out.append((t0, t1))
        t0 = t1 + step_s
    return out


@dataclass(frozen=True)
class PrometheusOptions:
    """Everything about reaching Prometheus, as given on the command line (fit, forecast, backtest,
    simulate and run share it): the server, credentials, the per-request bound, and the queries."""

    url: str
    auth: PrometheusAuth = field(default_factory=PrometheusAuth)
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_mib: int = DEFAULT_MAX_MIB
    queries: QueryConfig = field(default_factory=QueryConfig)

    def __post_init__(self) -> None:
        check_url(self.url)

    def source(self, *, retries: int = 2) -> PrometheusSource:
        return PrometheusSource(
            self.url, self.auth, timeout_s=self.timeout_s, max_bytes=self.max_mib * 2**20, retries=retries
        )


class PrometheusSource:
    """`MetricsSource` over the Prometheus HTTP API (through the one client in prom_http)."""

    def __init__(
        self,
        url: str,
        auth: PrometheusAuth | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_points: int = MAX_POINTS,
        max_bytes: int = DEFAULT_MAX_MIB * 2**20,
        retries: int = 2,
        parallel: int = 3,
    ) -> None:
        self.http = PrometheusHttp(url, auth, timeout_s=timeout_s, max_bytes=max_bytes, retries=retries)
        self.url = self.http.url
        self.max_points = max_points
        self.parallel = parallel

    @property
    def name(self) -> str:
        return self.url

    def chunks(self, start_s: int, end_s: int, step_s: int) -> list[tuple[int, int]]:
        return chunk_ranges(start_s, end_s, step_s, self.max_points)

    def query(self, promql: str, at_s: int) -> list[InstantSample]:
        data = self.http.get("/api/v1/query", {"query": promql, "time": at_s}, promql)
        out = []
        for labels, pair in _results(self.http, data, "vector", "value", promql):
            ts, vs = _samples(self.http, [pair], promql)
            out.append(InstantSample(labels=labels, timestamp_s=float(ts[0]), value=float(vs[0])))
        return out

    def query_range(
        self, promql: str, start_s: int, end_s: int, step_s: int, on_chunk: ChunkCallback | None = None
    ) -> list[RangeSeries]:
        """All samples of `promql` from start to end (inclusive) every `step_s`, fetched chunk by chunk.

        Up to `parallel` chunks are in flight at once: evaluating a long range is the server's work, and
        Prometheus uses several cores for concurrent queries. Each chunk is one request under its own
        deadline; the first failure cancels the chunks not yet started.
        """
        chunks = self.chunks(start_s, end_s, step_s)

        def fetch(chunk: tuple[int, int]) -> list[tuple[dict[str, str], IntArray, FloatArray]]:
            params: dict[str, str | int] = {"query": promql, "start": chunk[0], "end": chunk[1], "step": step_s}
            data = self.http.get("/api/v1/query_range", params, promql)
            return [
                (labels, *_samples(self.http, values, promql))
                for labels, values in _results(self.http, data, "matrix", "values", promql)
            ]

        parts: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[IntArray], list[FloatArray]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.parallel, len(chunks)))) as pool:
            futures = [pool.submit(fetch, c) for c in chunks]
            try:
                for i, future in enumerate(futures):  # in order, so samples stay sorted
                    for labels, ts, vs in future.result():
                        entry = parts.setdefault(tuple(sorted(labels.items())), (labels, [], []))
                        entry[1].append(ts)
                        entry[2].append(vs)
                    if on_chunk is not None:
                        on_chunk(i + 1, len(chunks))
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        return [
            RangeSeries(labels=labels, timestamps_s=np.concatenate(ts), values=np.concatenate(vs))
            for labels, ts, vs in parts.values()
        ]

    def series(self, match: str, start_s: int, end_s: int) -> list[dict[str, str]]:
        data = self.http.get("/api/v1/series", {"match[]": match, "start": start_s, "end": end_s}, match)
        if not isinstance(data, list) or not all(_is_labels(item) for item in data):
            raise self.http.malformed(match, "`data` of a series answer is not a list of label sets")
        return [dict(item) for item in data]


def _is_labels(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _results(http: PrometheusHttp, data: Any, kind: str, key: str, what: str) -> list[tuple[dict[str, str], Any]]:
    """(labels, value or values) of each result of a `kind` answer, its shape checked."""
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise http.malformed(what, "`data.result` is missing or not a list")
    if data.get("resultType") != kind:
        raise http.malformed(what, f"expected a {kind} answer, got resultType {data.get('resultType')!r}")
    out = []
    for i, item in enumerate(data["result"]):
        if not isinstance(item, dict) or key not in item:
            raise http.malformed(what, f"result[{i}] has no `{key}`")
        labels = item.get("metric", {})
        if not _is_labels(labels):
            raise http.malformed(what, f"result[{i}].metric is not a set of text labels")
        out.append((dict(labels), item[key]))
    return out


def _samples(http: PrometheusHttp, values: Any, what: str) -> tuple[IntArray, FloatArray]:
    """[[time, "value"], ...] as arrays. Prometheus' own "NaN", "+Inf", "-Inf" are kept as floats
    (deciding what they mean is the caller's job); anything that is not a number is refused."""
    if not isinstance(values, list):
        raise http.malformed(what, f"sample list is a {type(values).__name__}, expected a list of [time, value]")
    if not values:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    try:  # the fast path: a year of 5-minute samples is 100,000 pairs per series
        if not all(type(v) is list and len(v) == 2 for v in values):
            raise ValueError
        ts = np.fromiter((v[0] for v in values), dtype=np.float64, count=len(values))
        vs = np.array([v[1] for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in values if not _sample_ok(v)), values[0])
        raise http.malformed(what, f"sample {_flat(repr(bad))} is not a [time, number] pair") from None
    if not np.isfinite(ts).all():
        raise http.malformed(what, "a sample time is not a finite number")
    return np.rint(ts).astype(np.int64), vs


def _number(value: Any) -> float:
    """A sample value: a number, or a string holding one (Prometheus sends strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(value)
    return float(value)


def _sample_ok(v: Any) -> bool:
    if not (isinstance(v, list) and len(v) == 2):
        return False
    try:
        _number(v[0]), _number(v[1])
    except (TypeError, ValueError):
        return False
    return True


def _flat(text: str) -> str:
    return " ".join(text.split())[:80]
