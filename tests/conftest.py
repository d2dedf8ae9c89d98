"""Suite-wide test settings: Hypothesis profiles, the shared Prometheus fixtures, and the shipped
calendar, policies and prior usage rates (loaded once per run).

Areas add their own fixtures in their own conftest.py; keep this one small.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from capacity.calendar import SchoolCalendar
from capacity.planning.demand import UsageRates, default_rates
from capacity.policy.bundle import Policies, load_policies

pytest_plugins = ["tests.support.prometheus", "tests.support.victoria_metrics"]

# No deadlines: a loaded CI machine must not turn a slow example into a failure. CI explores more.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def calendar() -> SchoolCalendar:
    """The calendar as shipped: `holidays` base layer + capacity/calendar/events/*.yaml."""
    return SchoolCalendar.load()


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies()


@pytest.fixture(scope="session")
def rates() -> UsageRates:
    return default_rates()
