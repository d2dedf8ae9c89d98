"""Fault rules the tests arm on the fake, and the request log they assert on."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["fail", "delay", "conflict"]


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server received it. `body` is the parsed JSON (raw text if it did not parse).

    `status` is the HTTP status answered, or None when the fake dropped the connection instead.
    """

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    status: int | None

    def as_tuple(self) -> tuple[str, str, dict[str, str], str | None, Any]:
        return (self.method, self.path, self.query, self.content_type, self.body)


@dataclass
class Fault:
    kind: FaultKind
    method: str  # upper case, or "*" for any
    pattern: re.Pattern[str]
    remaining: int
    status: int = 500
    message: str = ""
    seconds: float = 0.0
    apply: bool = True
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and self.pattern.search(path) is not None


@dataclass
class FaultBook:
    """Armed faults, consumed first-registered-first; at most one fault fires per request."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
            return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.remaining > 0]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass
class RequestLog:
    _entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
