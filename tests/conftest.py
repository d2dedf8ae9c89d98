"""Suite-wide test settings: Hypothesis profiles and the shared Prometheus fixtures.

Areas add their own fixtures in their own conftest.py; keep this one small.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["tests.support.prometheus"]

# No deadlines: a loaded CI machine must not turn a slow example into a failure. CI explores more.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
