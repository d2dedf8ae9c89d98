"""A tiny local HTTP server that misbehaves on purpose (5xx, slow, HTML, auth), for the faults a real
Prometheus cannot be made to produce on demand. Records the requests it saw."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Behaviour:
    status: int = 200
    body: bytes = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
    content_type: str = "application/json"
    delay_s: float = 0.0
    seen: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def stub_server(behaviour: Behaviour, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve `behaviour` on 127.0.0.1 (HTTPS with (cert, key) if given); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            behaviour.seen.append({"path": self.path, "headers": dict(self.headers)})
            if behaviour.delay_s:
                time.sleep(behaviour.delay_s)
            try:
                self.send_response(behaviour.status)
                self.send_header("Content-Type", behaviour.content_type)
                self.send_header("Content-Length", str(len(behaviour.body)))
                self.end_headers()
                self.wfile.write(behaviour.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def prometheus_error(message: str, kind: str = "bad_data") -> bytes:
    return json.dumps({"status": "error", "errorType": kind, "error": message}).encode()
