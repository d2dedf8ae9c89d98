"""A local HTTP server whose answers are scripted faults: statuses, `Retry-After`, bodies that trickle,
never end or are huge, delays. For the failures a real Prometheus cannot be made to produce on demand.

Threads on 127.0.0.1 only; every loop is bounded (`max_s`) and watches a stop flag, and leaving the
context stops the server and its handlers, so a test that fails cannot leave anything running.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: No handler runs longer than this, whatever the script says.
MAX_S = 30.0


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `trickle_s` sends the body one byte at a time with that pause; `endless`
    repeats the body until the client goes away (no Content-Length); `length` overrides the declared
    Content-Length (e.g. a huge one)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay_s: float = 0.0
    trickle_s: float = 0.0
    endless: bool = False
    length: int | None = None


@dataclass
class Script:
    """The replies in order (the last one repeats) and the requests seen (path and headers)."""

    replies: Sequence[Reply]
    seen: list[dict[str, Any]] = field(default_factory=list)

    def reply(self) -> Reply:
        return self.replies[min(len(self.seen) - 1, len(self.replies) - 1)]


@contextmanager
def fault_server(script: Script) -> Iterator[str]:
    """Serve `script` on 127.0.0.1 over plain HTTP; yields the base URL."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.seen.append({"path": self.path, "headers": dict(self.headers)})
            r = script.reply()
            started = time.monotonic()

            def go_on() -> bool:
                return not stop.is_set() and time.monotonic() - started < MAX_S

            try:
                if r.delay_s:
                    stop.wait(min(r.delay_s, MAX_S))
                self.send_response(r.status)
                self.send_header("Content-Type", r.content_type)
                for k, v in r.headers.items():
                    self.send_header(k, v)
                if not r.endless:
                    self.send_header("Content-Length", str(r.length if r.length is not None else len(r.body)))
                self.end_headers()
                if r.endless:
                    while go_on():
                        self.wfile.write(r.body or b" ")
                elif r.trickle_s:
                    for i in range(len(r.body)):
                        if not go_on():
                            break
                        self.wfile.write(r.body[i : i + 1])
                        self.wfile.flush()
                        stop.wait(r.trickle_s)
                elif r.length is not None and r.length > len(r.body):  # a huge body: send it until told to stop
                    sent, block = 0, (r.body or b"0") * (65536 // max(1, len(r.body)))
                    while sent < r.length and go_on():
                        self.wfile.write(block)
                        sent += len(block)
                else:
                    self.wfile.write(r.body)
            except OSError:
                pass  # the client gave up: what the test wants

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def success(data: Any) -> bytes:
    return json.dumps({"status": "success", "data": data}).encode()


def matrix(series: Sequence[tuple[Mapping[str, str], Sequence[tuple[int, Any]]]]) -> bytes:
    """A range-query answer: [(labels, [(time, value)...])...]; values are sent as given (str or not)."""
    result = [{"metric": dict(labels), "values": [[t, v] for t, v in points]} for labels, points in series]
    return success({"resultType": "matrix", "result": result})


def vector(samples: Sequence[tuple[Mapping[str, str], Any]], at: float = 0.0) -> bytes:
    result = [{"metric": dict(labels), "value": [at, v]} for labels, v in samples]
    return success({"resultType": "vector", "result": result})
