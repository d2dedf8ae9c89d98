"""The one outbound HTTP path to Prometheus-compatible APIs (Prometheus, Thanos, Mimir, VictoriaMetrics).

Why `requests` directly, streaming, and not prometheus-api-client: that client reads every body whole
(no size cap: an endless body ends in MemoryError), reports HTTP statuses only inside exception text,
and knows only per-socket-operation timeouts (a server sending 1 byte/s, or `Retry-After: 120`, holds
it for ever). capctl needs a bound a user can rely on, so each request gets ONE monotonic deadline,
`--prometheus-timeout` from its start, shared by everything it does:
  * connect: the connect timeout is the time left;
  * headers and body: a watchdog shuts the socket down at the deadline, which wakes any blocked read
    (a per-read timeout alone never fires on a trickle);
  * retries and `Retry-After`: a wait that would end past the deadline is not waited, it is reported.
DNS resolution is the one step no timeout reaches (getaddrinfo is not interruptible); use an IP or a
healthy resolver. Bodies are streamed and refused past `max_bytes` (decoded bytes: a gzip bomb counts
as what it inflates to). Every failure is one `DataSourceError` line naming the URL and, for data
problems, the query; statuses come from the response object.

Credentials are read from their files at every request, so a rotated Secret is used at the next one.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capacity.common.errors import DataSourceError, InputError

if TYPE_CHECKING:  # imported when a request is made: `capctl plan` never loads the HTTP stack
    import requests
    import requests.adapters

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_MIB = 64
#: Statuses worth another attempt: rate limited, or a gateway in front of a restarting server.
RETRY_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_S = 0.2
_CHUNK = 64 * 1024


class PrometheusResponseError(DataSourceError):
    """The server answered, but not with data capctl can use (malformed, wrong shape, too large)."""


@dataclass(frozen=True)
class PrometheusAuth:
    """How to reach the server: a bearer token (literal, e.g. from the environment, or a file) or
    basic auth (files), and how to check its certificate. Files are read at every request."""

    token: str | None = None
    token_file: Path | None = None
    username_file: Path | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if (self.token or self.token_file) and (self.username_file or self.password_file):
            raise InputError("give either a bearer token or a user and password, not both")
        if (self.username_file is None) != (self.password_file is None):
            raise InputError("basic auth needs both --prometheus-username-file and --prometheus-password-file")

    def check(self) -> None:
        """Read every file once now, so a wrong path is reported at start-up, not at the first query."""
        self.credentials()
        if self.ca_file is not None and not self.ca_file.is_file():
            raise InputError(f"CA file {self.ca_file} not found")

    def credentials(self) -> tuple[dict[str, str], tuple[str, str] | None]:
        """Extra headers and basic-auth pair, from the files as they are now."""
        headers: dict[str, str] = {}
        token = _read(self.token_file) if self.token_file else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.username_file and self.password_file:
            return headers, (_read(self.username_file), _read(self.password_file))
        return headers, None

    @property
    def verify(self) -> bool | str:
        if not self.verify_tls:
            return False
        return str(self.ca_file) if self.ca_file else True


class PrometheusHttp:
    """GET on a Prometheus-compatible API: returns the `data` of a `status: success` answer, or raises."""

    def __init__(
        self,
        url: str,
        auth: PrometheusAuth | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_MIB * 2**20,
        retries: int = 2,
    ) -> None:
        check_url(url)
        if timeout_s <= 0:
            raise InputError(f"--prometheus-timeout must be more than zero, got {timeout_s:g} s")
        if max_bytes <= 0:
            raise InputError("--prometheus-max-mib must be more than zero")
        self.url = url.rstrip("/")
        self.auth = auth or PrometheusAuth()
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.retries = retries
        if not self.auth.verify_tls:  # asked for explicitly: do not repeat urllib3's warning on every request
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def get(self, path: str, params: Mapping[str, str | int], what: str) -> Any:
        """One API call under one deadline; `what` (the query) is named in data errors."""
        deadline = time.monotonic() + self.timeout_s
        attempt = 0
        while True:
            try:
                status, retry_after, body = self._attempt(path, params, deadline)
            except _Refused as exc:
                if attempt >= self.retries or time.monotonic() + BACKOFF_S * 2**attempt >= deadline:
                    raise exc.error from None
                time.sleep(BACKOFF_S * 2**attempt)
                attempt += 1
                continue
            if status in RETRY_STATUS and attempt < self.retries:
                wait = retry_after if retry_after is not None else BACKOFF_S * 2**attempt
                if time.monotonic() + wait < deadline:
                    time.sleep(wait)
                    attempt += 1
                    continue
                if retry_after is not None:
                    raise DataSourceError(
                        f"Prometheus at {self.url} answered HTTP {status} and asked to retry after {wait:g} s, "
                        f"past the {self.timeout_s:g} s --prometheus-timeout: the server is overloaded; retry later"
                    )
            return self._decode(status, body, what)

    def malformed(self, what: str, problem: str) -> PrometheusResponseError:
        return PrometheusResponseError(
            f"Prometheus at {self.url} sent malformed data for {_flat(what, 200)!r}: {problem}; "
            "is --prometheus-url a Prometheus-compatible API?"
        )

    def _attempt(self, path: str, params: Mapping[str, str | int], deadline: float) -> tuple[int, float | None, bytes]:
        import requests

        headers, basic = self.auth.credentials()
        # Uncompressed: a range answer is megabytes of JSON that Prometheus gzips slower than a LAN carries it.
        headers["Accept-Encoding"] = "identity"
        left = max(deadline - time.monotonic(), 0.001)
        with _watched(deadline) as guard, requests.Session() as session:
            adapter = _adapter_type()(max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            try:
                with session.get(
                    f"{self.url}{path}",
                    params=dict(params),
                    headers=headers,
                    auth=basic,
                    verify=self.auth.verify,
                    timeout=(left, left),
                    stream=True,
                ) as resp:
                    answer = resp.status_code, _retry_after_s(resp.headers.get("Retry-After")), self._read(resp)
            except requests.exceptions.RequestException as exc:
                if guard.fired:
                    raise self._timeout() from None
                raise self._failure(exc) from None
            if guard.fired:  # the body may just have ended early when the watchdog shut the socket
                raise self._timeout()
            return answer

    def _read(self, resp: requests.Response) -> bytes:
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise self._too_large()
        body = bytearray()
        for chunk in resp.iter_content(_CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large()
        return bytes(body)

    def _decode(self, status: int, body: bytes, what: str) -> Any:
        problem = ""
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            doc, problem = None, _flat(str(exc), 80)
        if status >= 300 or (isinstance(doc, dict) and doc.get("status") == "error"):
            detail = doc["error"] if isinstance(doc, dict) and isinstance(doc.get("error"), str) else None
            text = detail or body[:2048].decode("utf-8", "replace")
            raise self._http_error(status, _flat(text, 160) or "empty body", what)
        if doc is None and body.lstrip()[:1] not in (b"<", b""):
            raise self.malformed(what, f"the answer is not valid JSON ({problem}; cut short?)")
        if doc is None:
            raise PrometheusResponseError(
                f"{self.url} did not answer like the Prometheus API (is it the server root, e.g. "
                "http://prometheus:9090, and not a proxy or UI page?)"
            )
        if not isinstance(doc, dict) or doc.get("status") != "success" or "data" not in doc:
            raise self.malformed(what, "the answer has no `status: success` and `data`")
        return doc["data"]

    def _http_error(self, status: int, detail: str, what: str) -> DataSourceError:
        if status in (401, 403):
            return DataSourceError(
                f"Prometheus at {self.url} refused access (HTTP {status}): check --prometheus-token-file or "
                "--prometheus-username-file/--prometheus-password-file"
            )
        if status in (400, 422):
            return DataSourceError(f"Prometheus at {self.url} rejected the query {_flat(what, 200)!r}: {detail}")
        if status >= 500:
            return DataSourceError(
                f"Prometheus at {self.url} failed with HTTP {status} ({detail}): the server is in trouble; "
                "retry later or check its logs"
            )
        return DataSourceError(f"Prometheus at {self.url} answered HTTP {status}: {detail}")

    def _timeout(self) -> DataSourceError:
        return DataSourceError(
            f"Prometheus at {self.url} did not answer within {self.timeout_s:g} s: the server is slow or "
            "overloaded; raise --prometheus-timeout or shorten the window"
        )

    def _too_large(self) -> PrometheusResponseError:
        mib = self.max_bytes / 2**20
        return PrometheusResponseError(
            f"Prometheus at {self.url} sent more than {mib:g} MiB for one request: narrow the query "
            "(fewer series, a coarser --step) or raise --prometheus-max-mib"
        )

    def _failure(self, exc: requests.exceptions.RequestException) -> Exception:
        import ssl

        import requests
        import urllib3

        if isinstance(exc, requests.exceptions.Timeout):
            return self._timeout()
        if isinstance(exc, requests.exceptions.SSLError):
            if _find(exc, ssl.SSLCertVerificationError) is not None:
                return DataSourceError(
                    f"TLS check failed for Prometheus at {self.url} (certificate not trusted): give the server's "
                    "CA with --prometheus-ca-file (or, unsafe, --prometheus-insecure)"
                )
            return DataSourceError(
                f"TLS handshake with Prometheus at {self.url} failed ({_flat(str(_find(exc, ssl.SSLError)), 120)}): "
                "does the server speak https on that port? (http:// for a plain port)"
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            if _find(exc, ConnectionRefusedError) is not None:
                return _Refused(self._unreachable("connection refused"))
            if _find(exc, urllib3.exceptions.NameResolutionError) is not None:
                return self._unreachable("unknown host")
            if _find(exc, urllib3.exceptions.NewConnectionError) is not None:
                return self._unreachable(_flat(str(_find(exc, OSError)), 120))
        return DataSourceError(f"request to Prometheus at {self.url} failed: {_flat(str(exc), 160)}")

    def _unreachable(self, reason: str) -> DataSourceError:
        return DataSourceError(
            f"cannot reach Prometheus at {self.url} ({reason}): is it running, and is --prometheus-url right?"
        )


def check_url(url: str) -> None:
    if not re.match(r"^https?://[^/\s]+", url):
        raise InputError(f"invalid Prometheus URL {url!r}: expected http(s)://host:port")


class _Refused(Exception):
    """Connection refused: worth another attempt within the deadline (a restarting server)."""

    def __init__(self, error: DataSourceError) -> None:
        super().__init__(str(error))
        self.error = error


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds (delta or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first `kind` among an exception, its causes and the urllib3 reasons it wraps."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return e
        todo.extend(x for x in (e.__cause__, e.__context__, getattr(e, "reason", None)) if isinstance(x, BaseException))
        todo.extend(a for a in e.args if isinstance(a, BaseException))
    return None


def _flat(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


# --- the watchdog: one per request, shuts down every socket the request opened when the deadline passes ---

_current = threading.local()


class _Guard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.fired = False

    def watch(self, sock: socket.socket) -> None:
        dup = sock.dup()  # TLS wrapping detaches `sock`; the duplicate still reaches the connection
        with self._lock:
            self._socks.append(dup)
            if self.fired:
                _shut(dup)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            for s in self._socks:
                _shut(s)

    def close(self) -> None:
        with self._lock:
            for s in self._socks:
                s.close()
            self._socks.clear()


@contextmanager
def _watched(deadline: float) -> Iterator[_Guard]:
    guard = _Guard()
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), guard.fire)
    timer.daemon = True
    _current.guard = guard
    timer.start()
    try:
        yield guard
    finally:
        timer.cancel()
        _current.guard = None
        guard.close()


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket) -> None:
    guard: _Guard | None = getattr(_current, "guard", None)
    if guard is not None:
        guard.watch(sock)


@functools.cache
def _adapter_type() -> type[requests.adapters.HTTPAdapter]:
    """requests' adapter whose connections register their socket with the current request's watchdog
    (built on first use, to keep the HTTP stack out of commands that never call Prometheus)."""
    import requests.adapters
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class WatchedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            _watch(sock)
            return sock

    class WatchedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            _watch(sock)
            return sock

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    pools = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}

    class WatchedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
            super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            manager.pool_classes_by_scheme = pools
            return manager

    return WatchedAdapter
