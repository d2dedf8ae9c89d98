"""`FakeKube`: an in-process HTTP API server that the real `kubernetes` client talks to.

The operator under test gets a kubeconfig (or an `ApiClient`) pointing at `http://127.0.0.1:<port>` with a
bearer token, exactly as it would for a real cluster; the test arms faults, seeds objects and reads the store
and the request log directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from . import seeds, status
from .faults import Fault, FaultBook, LoggedRequest, RequestLog
from .handlers import Request, Response, Router
from .resources import find_by_kind
from .store import Obj, Store

DownMode = Literal["refused", "closed"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeKube

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections the fake kills on purpose (set_down, dropped requests) are not errors."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Go's net/http sets TCP_NODELAY; without it, headers and body go out in two segments and the client's
    # delayed ACK stalls every keep-alive request by ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        body: Any = None
        body_error = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body, body_error = raw.decode("utf-8", "replace"), str(exc)
        request = Request(self.command, split.path, query, self.headers.get("Content-Type"), body, body_error)
        response = self.server.fake._respond(request, self.headers.get("Authorization"))
        if response is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class FakeKube:
    """A fake API server. Use as a context manager (or `start()` / `stop()`); see the package docstring."""

    def __init__(self, *, token: str = "fake-token", clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.token = token
        self.store = Store(clock)
        self.router = Router(self.store, lambda: f"127.0.0.1:{self.port}")
        self.faults = FaultBook()
        self.log = RequestLog()
        self.port = 0
        self._mode: Literal["up", "refused", "closed"] = "up"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Condition()
        self._in_flight = 0
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeKube:
        self._stopping.clear()
        self._listen()
        return self

    def _listen(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name=f"fake-kube-{self.port}", daemon=True
        )
        self._thread.start()

    def _unlisten(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopping.set()
        self._unlisten()
        self._mode = "up"

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------ outages

    def set_down(self, mode: DownMode = "refused") -> None:
        """`refused`: stop listening (connection refused) and cut open connections.
        `closed`: keep accepting, but drop every request without an answer (the client sees a reset)."""
        if mode == "refused" and self._mode != "refused":
            self._unlisten()
        elif mode == "closed" and self._mode == "refused":
            self._listen()
        self._mode = mode

    def set_up(self) -> None:
        if self._mode == "refused":
            self._listen()
        self._mode = "up"

    # ------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 500,
        times: int = 1,
        message: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next `times` matching requests get `status` with a `Status` body; the store is not touched.

        `retry_after` adds a `Retry-After` header (the API server sends one with 429s). Beware: urllib3 then
        retries 413/429/503 by itself after sleeping that long, so the operator code never sees the error."""
        text = message or f"fake-kube injected failure ({status})"
        fault = Fault("fail", method.upper(), re.compile(path_regex), times, status, text, retry_after=retry_after)
        self.faults.arm(fault)

    def delay_next(self, method: str, path_regex: str, seconds: float, times: int = 1, apply: bool = True) -> None:
        """Hold the next `times` matching requests for `seconds` before answering.

        With `apply=True` the request is then served normally, as a slow real server would (a client that
        timed out may still have written!); with `apply=False` the connection is dropped unanswered."""
        fault = Fault("delay", method.upper(), re.compile(path_regex), times, seconds=seconds, apply=apply)
        self.faults.arm(fault)

    def conflict_next(self, method: str, path_regex: str, times: int = 1) -> None:
        """Make another client write the target (new resourceVersion) just before the next matching request,
        which then gets the real server's answer: 409 Conflict for a PUT, a scale PUT, a patch or a delete
        that carries the resourceVersion it read; success for unconditional writes (a patch without
        resourceVersion, a PUT without one), since the real server retries those internally and never
        answers 409. A create has no target: the request proceeds unchanged (seed with `put_object` to
        simulate a concurrent create)."""
        self.faults.arm(Fault("conflict", method.upper(), re.compile(path_regex), times))

    def clear_faults(self) -> None:
        self.faults.clear()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being served (e.g. a delayed write that the client gave up on)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout)

    # ------------------------------------------------------------ request log

    @property
    def requests(self) -> list[LoggedRequest]:
        return self.log.entries()

    def writes(self, path_regex: str | None = None) -> list[LoggedRequest]:
        """Non-GET requests, optionally only those whose path matches `path_regex`."""
        pattern = re.compile(path_regex) if path_regex else None
        return [r for r in self.log.entries() if r.method != "GET" and (pattern is None or pattern.search(r.path))]

    def clear_log(self) -> None:
        self.log.clear()

    # ------------------------------------------------------------ serving

    def _respond(self, request: Request, authorization: str | None) -> Response | None:
        """Answer one request; it is logged before it stops counting as in flight (see `wait_idle`)."""
        with self._lock:
            self._in_flight += 1
        try:
            try:
                response = self._answer(request, authorization)
            except Exception as exc:  # a bug in the fake must reach the test as a 500, not a hung client
                error = status.ApiError(500, "InternalError", f"fake-kube bug: {exc!r}", {})
                response = Response(500, error.body())
            code = None if response is None else response.status
            self.log.record(
                LoggedRequest(request.method, request.path, request.query, request.content_type, request.body, code)
            )
            return response
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()

    def _answer(self, request: Request, authorization: str | None) -> Response | None:
        if self._mode == "closed":
            return None
        if authorization != f"Bearer {self.token}":
            error = status.ApiError(401, "Unauthorized", "Unauthorized")
            return Response(401, error.body())
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.kind == "delay":
            self._stopping.wait(fault.seconds)
            if not fault.apply or self._stopping.is_set():
                return None
        elif fault is not None and fault.kind == "fail":
            error = status.for_code(fault.status, fault.message, fault.retry_after)
            return Response(error.code, error.body(), dict(error.headers))
        elif fault is not None and fault.kind == "conflict":
            target = self.router.parse_target(request.path)
            if target is not None and target.namespace is not None and target.name is not None:
                self.store.touch(target.rt, target.namespace, target.name)
        return self.router.handle(request)

    # ------------------------------------------------------------ direct store access

    def add_namespace(self, namespace: str) -> None:
        with self.store.lock:
            self.store.namespaces.add(namespace)

    def put_object(self, obj: Obj) -> Obj:
        """Store `obj` (needs apiVersion, kind, metadata.name/namespace) as a controller would write it:
        no validation, status kept, new resourceVersion. Creates its namespace if needed."""
        rt = find_by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        return self.store.put(rt, obj)

    def get_object(self, api_version: str, kind: str, namespace: str, name: str) -> Obj | None:
        return self.store.get(find_by_kind(api_version, kind), namespace, name)

    def list_objects(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
        return self.store.list(find_by_kind(api_version, kind), namespace)

    def delete_object(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        return self.store.remove(find_by_kind(api_version, kind), namespace, name)

    def set_status(self, api_version: str, kind: str, namespace: str, name: str, new_status: Obj) -> Obj:
        """Replace an object's status (what its controller would do); bumps resourceVersion."""
        rt = find_by_kind(api_version, kind)
        with self.store.lock:
            obj = self.store.require(rt, namespace, name)
            obj["status"] = new_status
            return self.store.put(rt, obj)

    def add_deployment(
        self,
        namespace: str,
        name: str,
        replicas: int = 1,
        hpa: bool = False,
        *,
        labels: dict[str, str] | None = None,
        hpa_min: int = 1,
        hpa_max: int = 10,
    ) -> Obj:
        """A converged Deployment; with `hpa=True` also an HPA of the same name targeting it."""
        deployment = self.put_object(seeds.workload("Deployment", namespace, name, replicas, labels))
        if hpa:
            self.add_hpa(namespace, name, "Deployment", name, hpa_min, hpa_max, current_replicas=replicas)
        return deployment

    def add_statefulset(
        self, namespace: str, name: str, replicas: int = 1, *, labels: dict[str, str] | None = None
    ) -> Obj:
        return self.put_object(seeds.workload("StatefulSet", namespace, name, replicas, labels))

    def add_hpa(
        self,
        namespace: str,
        name: str,
        target_kind: str,
        target_name: str,
        min_replicas: int,
        max_replicas: int,
        *,
        current_replicas: int | None = None,
    ) -> Obj:
        manifest = seeds.hpa(namespace, name, target_kind, target_name, min_replicas, max_replicas, current_replicas)
        return self.put_object(manifest)

    # ------------------------------------------------------------ client configuration

    def kubeconfig_dict(self, namespace: str = "default") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake-kube", "cluster": {"server": self.url}}],
            "users": [{"name": "fake-kube", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "fake-kube",
                    "context": {"cluster": "fake-kube", "user": "fake-kube", "namespace": namespace},
                }
            ],
            "current-context": "fake-kube",
        }

    def kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        """Write a kubeconfig for `kubernetes.config.load_kube_config(config_file=path)`."""
        target = Path(path)
        target.write_text(yaml.safe_dump(self.kubeconfig_dict(namespace), sort_keys=False), encoding="utf-8")
        return target

    def api_client(self) -> k8s_client.ApiClient:
        """A fresh ApiClient configured through the real kubeconfig loader (proxies from the environment
        are ignored: the fake is on loopback)."""
        configuration = k8s_client.Configuration()
        k8s_config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
            self.kubeconfig_dict(), client_configuration=configuration
        )
        configuration.proxy = None
        return k8s_client.ApiClient(configuration)
