"""What the operator needs from live metrics: users connected now, per plaque, or None when unknown.

The operator never scales down blind: a plaque whose recent usage cannot be read keeps its current
replicas when they are higher than the plan. This module is the small interface the controller uses;
its Prometheus implementation is an instant query through `capacity.learning.source.PrometheusSource`
(the same HTTP client, deadline, auth, TLS and error wording as `capctl fit`), with its query built from the
same queries configuration as `capctl fit` (`--queries`), and two operator-specific rules: credentials are
re-read from their files at every query (secret rotation), and it fails soft — any error makes every plaque
"unknown" for this tick and is reported, never raised.

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
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from capacity.common.errors import CapctlError
from capacity.learning.prom_http import PrometheusAuth
from capacity.learning.queries import QueryConfig

if TYPE_CHECKING:
    from capacity.learning.source import PrometheusOptions

log = logging.getLogger("capctl.usage")

#: Users connected per plaque: `sum by (plaque)` over the `sessions` query of `capctl fit`, whose `max by`
#: keeps a series scraped twice (HA Prometheus pair, two jobs) from being counted twice.
DEFAULT_QUERY = QueryConfig().live_promql()

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

    def _server(self) -> PrometheusOptions:
        """The same reach (URL, credentials, deadline, size cap) as `capctl fit` builds its source from."""
        from capacity.learning.source import PrometheusOptions

        return PrometheusOptions(self.url, self.auth, timeout_s=self.timeout_s, max_mib=self.max_mib)

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
        samples = self._server().source(retries=0).query(self.query, int(now.timestamp()))
        out: dict[str, float] = {}
        for s in samples:
            plaque = s.labels.get(self.plaque_label)
            if plaque is None:
                continue
            if plaque in out:  # a second series: neither is trusted (NaN makes the plaque unknown)
                log.warning("duplicate live-usage series", extra={"fields": {"plaque": plaque, "query": self.query}})
                out[plaque] = math.nan
                continue
            out[plaque] = s.value
        return out


__all__ = ["DEFAULT_QUERY", "ZERO_PLAUSIBLE_BELOW", "LiveUsage", "PrometheusAuth", "PrometheusUsage", "plausible"]
