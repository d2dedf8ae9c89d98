"""What the operator needs from live metrics: users connected now, per plaque, or None when unknown.

The operator never scales down blind: a plaque whose recent usage cannot be read keeps its current
replicas when they are higher than the plan. This module is the small interface the controller uses;
its Prometheus implementation is an instant query through `capacity.learning.source.PrometheusSource`
(the same HTTP client, auth, TLS and error wording as `capctl fit`), with two operator-specific rules:
credentials are re-read from their files at every query (secret rotation), and it fails soft — any
error makes every plaque "unknown" for this tick and is reported, never raised.

A reading is believed only when it is plausible (`plausible`); otherwise the plaque is *unknown* for the
tick, exactly as if Prometheus were down (decide's `fallback`: no scale-down):
  * two series for one plaque (a query or relabelling that splits it): which one is right is unknown;
  * NaN, ±Inf or a negative count: an exporter or recording-rule bug, never users;
  * zero: what an ENT at night or in the holidays shows, and also what a broken exporter, a renamed
    metric or an empty scrape shows. Zero is believed only when the forecast for the slot is below
    `ZERO_PLAUSIBLE_BELOW` users; a zero while the forecast expects more is unknown.
"""

from __future__ import annotations

import logging
import math
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

#: Forecast users below which a live reading of 0 is believed (night, holidays). A plaque forecast at
#: this many users or more that reads 0 is taken as a metrics fault, not an empty ENT.
ZERO_PLAUSIBLE_BELOW = 50.0


def plausible(value: float | None, forecast: float) -> tuple[float | None, str | None]:
    """The live reading to act on, or (None, why) when it cannot be believed (see the module doc)."""
    if value is None:
        return None, None
    if math.isnan(value):
        return None, "live usage is not a number (NaN, or two series for the plaque)"
    if math.isinf(value):
        return None, f"live usage is {value} (not a number of users)"
    if value < 0:
        return None, f"live usage is negative ({value:g})"
    if value == 0 and forecast >= ZERO_PLAUSIBLE_BELOW:
        return None, f"live usage is 0 while the forecast expects {forecast:.0f} users"
    return value, None


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
        out: dict[str, float] = {}
        for s in samples:
            plaque = s.labels.get("plaque")
            if plaque is None:
                continue
            if plaque in out:  # a second series: neither is trusted (NaN makes the plaque unknown)
                log.warning("duplicate live-usage series", extra={"fields": {"plaque": plaque, "query": self.query}})
                out[plaque] = math.nan
                continue
            out[plaque] = s.value
        return out


__all__ = ["DEFAULT_QUERY", "ZERO_PLAUSIBLE_BELOW", "LiveUsage", "PrometheusAuth", "PrometheusUsage", "plausible"]
