"""What the operator needs from live metrics: users connected now, per plaque, or None when unknown.

The operator never scales down blind: a plaque whose recent usage cannot be read keeps its current
replicas when they are higher than the plan. This module is the small interface the controller uses;
its Prometheus implementation is an instant query through `capacity.learning.source.PrometheusSource`
(the same HTTP client, auth, TLS and error wording as `capctl fit`), with two operator-specific rules:
credentials are re-read from their files at every query (secret rotation), and it fails soft — any
error makes every plaque "unknown" for this tick and is reported, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from capacity.common.errors import CapctlError

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
    """Where the credentials live (files mounted from a Secret, re-read at every query)."""

    token_file: Path | None = None
    username_file: Path | None = None
    password_file: Path | None = None
    ca_file: Path | None = None


class PrometheusUsage:
    """Instant query against Prometheus' HTTP API, one per tick, no retries (the next tick is one)."""

    def __init__(
        self, url: str, auth: PrometheusAuth = PrometheusAuth(), *, query: str = DEFAULT_QUERY, timeout_s: float = 5.0
    ) -> None:
        self.url = url.rstrip("/")
        self.auth = auth
        self.query = query
        self.timeout_s = timeout_s
        self._error: str | None = None

    @property
    def last_error(self) -> str | None:
        return self._error

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]:
        try:
            values = self._query(now)
        except (CapctlError, OSError) as exc:  # DataSourceError from the source; unreadable credential files
            self._error = f"Prometheus {self.url} unavailable: {exc}"
            log.warning("live usage unavailable", extra={"fields": {"error": self._error}})
            return dict.fromkeys(plaques)
        self._error = None
        return {p: values.get(p) for p in plaques}

    def _query(self, now: datetime) -> dict[str, float]:
        from capacity.learning.source import PrometheusAuth as Credentials
        from capacity.learning.source import PrometheusSource

        a = self.auth
        credentials = Credentials(
            token=a.token_file.read_text().strip() if a.token_file else None,
            username=a.username_file.read_text().strip() if a.username_file else None,
            password=a.password_file.read_text().strip() if a.password_file else None,
            ca_file=str(a.ca_file) if a.ca_file else None,
        )
        source = PrometheusSource(self.url, credentials, timeout_s=self.timeout_s, retries=0)
        samples = source.query(self.query, int(now.timestamp()))
        return {s.labels["plaque"]: s.value for s in samples if "plaque" in s.labels}


__all__ = ["DEFAULT_QUERY", "LiveUsage", "PrometheusAuth", "PrometheusUsage"]
