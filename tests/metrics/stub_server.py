"""A tiny local HTTP server that misbehaves on purpose (5xx, slow, HTML, auth), for the faults a real
Prometheus cannot be made to produce on demand. Records the requests it saw.

One fixed answer for every request: a one-reply `tests.support.fault_server` script."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fault_server import Reply, Script, fault_server


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
    b = behaviour
    reply = Reply(status=b.status, body=b.body, content_type=b.content_type, delay_s=b.delay_s)
    with fault_server(Script([reply], seen=b.seen), tls) as url:
        yield url


def prometheus_error(message: str, kind: str = "bad_data") -> bytes:
    return json.dumps({"status": "error", "errorType": kind, "error": message}).encode()
