"""What the operator needs from live metrics: users connected now, per plaque, or None when unknown.

The operator never scales down blind: a plaque whose recent usage cannot be read keeps its current
replicas when they are higher than the plan. This module is the small interface the controller uses;
its Prometheus implementation is an instant query through `capacity.learning.source.PrometheusSource`
(the same HTTP client, deadline, auth, TLS and error wording as `capctl fit`; credentials are re-read
from their files at every query, for secret rotation), and its query is built from the same queries
configuration as `capctl fit` (`--queries`). It fails soft: any error makes every plaque "unknown"
for this tick and is reported, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from capacity.common.errors import CapctlError
from capacity.learning.prom_http import PrometheusAuth
from capacity.learning.queries import QueryConfig

log = logging.getLogger("capctl.usage")

#: Users connected per plaque: `sum by (plaque)` over the `sessions` query of `capctl fit`, whose `max by`
#: keeps a series scraped twice (HA Prometheus pair, two jobs) from being counted twice.
DEFAULT_QUERY = QueryConfig().live_promql()


class LiveUsage(Protocol):
    """Users connected on each plaque at `now`; None for a plaque whose metrics are missing."""

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]: ...

    @property
    def last_error(self) -> str | None: ...


class PrometheusUsage:
    """Instant query against Prometheus' HTTP API, one per tick, no retries (the next tick is one)."""

    def __init__(
        self,
        url: str,
        auth: PrometheusAuth | None = None,
        *,
        query: str = DEFAULT_QUERY,
        plaque_label: str = "plaque",
        timeout_s: float = 5.0,
        max_mib: int = 64,
    ) -> None:
        self.url = url.rstrip("/")
        self.auth = auth or PrometheusAuth()
        self.query = query
        self.plaque_label = plaque_label
        self.timeout_s = timeout_s
        self.max_mib = max_mib
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
        from capacity.learning.source import PrometheusSource

        source = PrometheusSource(
            self.url, self.auth, timeout_s=self.timeout_s, max_bytes=self.max_mib * 2**20, retries=0
        )
        samples = source.query(self.query, int(now.timestamp()))
        return {s.labels[self.plaque_label]: s.value for s in samples if self.plaque_label in s.labels}


__all__ = ["DEFAULT_QUERY", "LiveUsage", "PrometheusAuth", "PrometheusUsage"]
