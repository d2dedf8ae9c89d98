"""What the operator needs from live metrics: users connected now, per plaque, or None when unknown.

The operator never scales down blind: a plaque whose recent usage cannot be read keeps its current
replicas when they are higher than the plan. This module is the small interface the controller uses,
with a Prometheus implementation (instant query, bearer token or basic auth, custom CA) that fails
soft: any error makes every plaque "unknown" for this tick and is reported, never raised.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

log = logging.getLogger("capctl.usage")

#: Users connected per plaque: the ENT exports one gauge per plaque and profile; `max by` first so that a
#: series scraped twice (HA Prometheus pair, two jobs) is not counted twice (same metric as `capctl fit`).
DEFAULT_QUERY = "sum by (plaque) (max by (plaque, profile) (ent_active_sessions))"


class LiveUsage(Protocol):
    """Users connected on each plaque at `now`; None for a plaque whose metrics are missing."""

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]: ...

    @property
    def last_error(self) -> str | None: ...


@dataclass(frozen=True)
class PrometheusAuth:
    token_file: Path | None = None
    username_file: Path | None = None
    password_file: Path | None = None
    ca_file: Path | None = None


class PrometheusUsage:
    """Instant query against Prometheus' HTTP API; credentials are re-read each time (rotation)."""

    def __init__(
        self, url: str, auth: PrometheusAuth = PrometheusAuth(), *, query: str = DEFAULT_QUERY, timeout_s: float = 5.0
    ) -> None:
        self.url = url.rstrip("/")
        self.auth = auth
        self.query = query
        self.timeout_s = timeout_s
        self._error: str | None = None
        self._ctx = ssl.create_default_context(cafile=str(auth.ca_file)) if auth.ca_file else None

    @property
    def last_error(self) -> str | None:
        return self._error

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]:
        try:
            values = self._query(now)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # URLError and timeouts are OSErrors
            self._error = f"Prometheus {self.url} unavailable: {type(exc).__name__}: {exc}"
            log.warning("live usage unavailable", extra={"fields": {"error": self._error}})
            return dict.fromkeys(plaques)
        self._error = None
        return {p: values.get(p) for p in plaques}

    def _query(self, now: datetime) -> dict[str, float]:
        params = urllib.parse.urlencode({"query": self.query, "time": f"{now.timestamp():.3f}"})
        req = urllib.request.Request(f"{self.url}/api/v1/query?{params}", headers=self._headers())
        with urllib.request.urlopen(req, timeout=self.timeout_s, context=self._ctx) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise ValueError(body.get("error") or "query failed")
        out: dict[str, float] = {}
        for sample in body["data"]["result"]:
            plaque = sample["metric"].get("plaque")
            if plaque is not None:
                out[plaque] = float(sample["value"][1])
        return out

    def _headers(self) -> dict[str, str]:
        a = self.auth
        if a.token_file:
            return {"Authorization": "Bearer " + a.token_file.read_text().strip()}
        if a.username_file and a.password_file:
            pair = f"{a.username_file.read_text().strip()}:{a.password_file.read_text().strip()}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        return {}


__all__ = ["DEFAULT_QUERY", "LiveUsage", "PrometheusAuth", "PrometheusUsage"]
