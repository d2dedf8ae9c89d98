"""Where metrics come from: a small `MetricsSource` protocol and its Prometheus HTTP implementation.

Only `query`, `query_range` and `series` are used, so any Prometheus-compatible backend works
(Prometheus, Thanos, Mimir, VictoriaMetrics). Long ranges are cut into chunks under the server's
point limit (Prometheus refuses more than 11,000 points per series). Every failure becomes one
`DataSourceError` line that says what happened and what to check; TLS verification is on by default.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from capacity.common.errors import DataSourceError, InputError

#: Prometheus rejects a range query when (end - start) / step > 11,000.
MAX_POINTS = 11_000
DEFAULT_TIMEOUT_S = 30.0

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
class PrometheusAuth:
    """How to reach the server: bearer token or basic auth, and how to check its certificate."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if self.token and (self.username or self.password):
            raise InputError("give either a bearer token or a user and password, not both")
        if bool(self.username) != bool(self.password):
            raise InputError("basic auth needs both a user and a password")


class PrometheusSource:
    """`MetricsSource` over the Prometheus HTTP API (prometheus-api-client)."""

    def __init__(
        self,
        url: str,
        auth: PrometheusAuth | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_points: int = MAX_POINTS,
        retries: int = 2,
        parallel: int = 3,
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", url):
            raise InputError(f"invalid Prometheus URL {url!r}: expected http(s)://host:port")
        self.url = url.rstrip("/")
        self.auth = auth or PrometheusAuth()
        self.timeout_s = timeout_s
        self.max_points = max_points
        self.retries = retries
        self.parallel = parallel
        self._local = threading.local()
        self._client = _connect(self.url, self.auth, timeout_s, retries)

    @property
    def name(self) -> str:
        return self.url

    def chunks(self, start_s: int, end_s: int, step_s: int) -> list[tuple[int, int]]:
        return chunk_ranges(start_s, end_s, step_s, self.max_points)

    def query(self, promql: str, at_s: int) -> list[InstantSample]:
        result = self._call(lambda: self._client.custom_query(promql, params={"time": at_s}), promql)
        out = []
        for item in result:
            ts, value = item["value"]
            out.append(InstantSample(labels=dict(item.get("metric", {})), timestamp_s=float(ts), value=float(value)))
        return out

    def query_range(
        self, promql: str, start_s: int, end_s: int, step_s: int, on_chunk: ChunkCallback | None = None
    ) -> list[RangeSeries]:
        """All samples of `promql` from start to end (inclusive) every `step_s`, fetched chunk by chunk.

        Up to `parallel` chunks are in flight at once (each on its own HTTP session): evaluating a long
        range is the server's work, and Prometheus uses several cores for concurrent queries.
        """
        chunks = self.chunks(start_s, end_s, step_s)

        def fetch(chunk: tuple[int, int]) -> Any:
            client = self._thread_client()
            return self._call(
                lambda: client.custom_query_range(
                    promql, start_time=_dt(chunk[0]), end_time=_dt(chunk[1]), step=str(step_s)
                ),
                promql,
            )

        parts: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[IntArray], list[FloatArray]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.parallel, len(chunks)))) as pool:
            for i, result in enumerate(pool.map(fetch, chunks)):  # in order, so samples stay sorted
                for item in result:
                    labels = dict(item.get("metric", {}))
                    ts, vs = _samples(item.get("values", []))
                    entry = parts.setdefault(tuple(sorted(labels.items())), (labels, [], []))
                    entry[1].append(ts)
                    entry[2].append(vs)
                if on_chunk is not None:
                    on_chunk(i + 1, len(chunks))
        return [
            RangeSeries(labels=labels, timestamps_s=np.concatenate(ts), values=np.concatenate(vs))
            for labels, ts, vs in parts.values()
        ]

    def _thread_client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = _connect(self.url, self.auth, self.timeout_s, self.retries)
        return client

    def series(self, match: str, start_s: int, end_s: int) -> list[dict[str, str]]:
        result = self._call(lambda: self._client.get_series(_dt(start_s), _dt(end_s), params={"match[]": match}), match)
        return [dict(item) for item in result]

    def _call(self, fn: Callable[[], Any], what: str) -> Any:
        """Run one HTTP call; turn every failure into one clear DataSourceError line."""
        import requests
        from prometheus_api_client.exceptions import PrometheusApiClientException
        from urllib3.exceptions import ReadTimeoutError

        not_api = DataSourceError(
            f"{self.url} did not answer like the Prometheus API (is it the server root, e.g. "
            "http://prometheus:9090, and not a proxy or UI page?)"
        )
        try:
            return fn()
        except requests.exceptions.JSONDecodeError:
            raise not_api from None
        except requests.exceptions.SSLError as exc:
            raise DataSourceError(
                f"TLS check failed for Prometheus at {self.url} ({_short(exc)}): give the server's CA with "
                "--prometheus-ca-file (or, unsafe, --prometheus-insecure)"
            ) from None
        except requests.exceptions.Timeout:
            raise self._timeout() from None
        except requests.exceptions.RetryError as exc:
            raise DataSourceError(f"Prometheus at {self.url} kept failing ({_short(exc)}); is it healthy?") from None
        except requests.exceptions.ConnectionError as exc:
            if isinstance(getattr(exc.args[0] if exc.args else None, "reason", None), ReadTimeoutError):
                raise self._timeout() from None  # urllib3 wraps a read timeout once retries are spent
            raise DataSourceError(
                f"cannot reach Prometheus at {self.url} ({_reason(exc)}): is it running, and is --prometheus-url right?"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise DataSourceError(f"request to Prometheus at {self.url} failed: {_short(exc)}") from None
        except PrometheusApiClientException as exc:
            raise self._http_error(str(exc), what) from None
        except (ValueError, KeyError, TypeError):
            raise not_api from None

    def _timeout(self) -> DataSourceError:
        return DataSourceError(
            f"Prometheus at {self.url} did not answer within {self.timeout_s:g} s: the server is slow or "
            "overloaded; raise --prometheus-timeout or shorten the window"
        )

    def _http_error(self, message: str, what: str) -> DataSourceError:
        match = re.match(r"HTTP Status Code (\d+) \((.*)\)$", message, re.S)
        status = int(match.group(1)) if match else 0
        detail = _server_detail(match.group(2) if match else message)
        if status in (401, 403):
            return DataSourceError(
                f"Prometheus at {self.url} refused access (HTTP {status}): check --prometheus-token-file or "
                "--prometheus-username-file/--prometheus-password-file"
            )
        if status in (400, 422):
            return DataSourceError(f"Prometheus at {self.url} rejected the query {what!r}: {detail}")
        if status >= 500:
            return DataSourceError(
                f"Prometheus at {self.url} failed with HTTP {status} ({detail}): the server is in trouble; "
                "retry later or check its logs"
            )
        return DataSourceError(f"Prometheus at {self.url} answered HTTP {status or '?'}: {detail}")


def _connect(url: str, auth: PrometheusAuth, timeout_s: float, retries: int) -> Any:
    import requests
    from prometheus_api_client.prometheus_connect import PrometheusConnect
    from urllib3.util.retry import Retry

    session = requests.Session()
    if not auth.verify_tls:  # asked for explicitly: do not repeat urllib3's warning on every request
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session.verify = auth.ca_file if (auth.ca_file and auth.verify_tls) else auth.verify_tls
    # Uncompressed: a range answer is megabytes of JSON that Prometheus gzips slower than a LAN carries it.
    headers = {"Accept-Encoding": "identity"}
    if auth.token:
        headers["Authorization"] = f"Bearer {auth.token}"
    basic = (auth.username, auth.password) if auth.username else None
    # Retry gateway hiccups briefly, never a read timeout (a slow query would only get slower).
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        backoff_factor=0.2,
        status_forcelist=(502, 503, 504),
        raise_on_status=False,
    )
    connect: Any = PrometheusConnect  # its annotations say int/dict where requests takes float/None
    return connect(url=url, headers=headers, auth=basic, session=session, retry=retry, timeout=timeout_s)


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _samples(values: list[list[Any]]) -> tuple[IntArray, FloatArray]:
    if not values:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    ts = np.fromiter((v[0] for v in values), dtype=np.float64, count=len(values))
    vs = np.array([v[1] for v in values], dtype=np.float64)
    return np.rint(ts).astype(np.int64), vs


def _server_detail(body: str) -> str:
    """Prometheus' own error text when the body is its JSON error, else the start of the body."""
    text = body
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    try:
        return str(json.loads(text.encode().decode("unicode_escape"))["error"])
    except (ValueError, KeyError, TypeError):
        flat = " ".join(text.split())
        return flat[:160] or "empty body"


def _reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("No route to host", "no route to host"),
        ("timed out", "connection timed out"),
    ):
        if needle in text:
            return reason
    return _short(exc)


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]
