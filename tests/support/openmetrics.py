"""Exact-valued series for the package's OpenMetrics writer (`capacity.learning.openmetrics`).

Tests describe history as a few `Series` and get back the exact text to backfill into a real Prometheus,
so no test hand-writes exposition lines (escaping, `_total` suffixes, `# EOF`, family grouping).
"""

from __future__ import annotations

from functools import partial

from capacity.learning.openmetrics import SampleSeries, render_openmetrics, write_openmetrics

#: A series whose values are written exactly (no rounding), NaN and ±Inf included.
Series = partial(SampleSeries, decimals=None)

__all__ = ["SampleSeries", "Series", "render_openmetrics", "write_openmetrics"]
