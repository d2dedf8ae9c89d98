"""Shared fixtures for the pure core: the shipped calendar, policies and prior, loaded once."""

from __future__ import annotations

import pytest

from capacity.calendar import SchoolCalendar
from capacity.demand import UsageRates, default_rates
from capacity.policies import Policies, load_policies


@pytest.fixture(scope="session")
def calendar() -> SchoolCalendar:
    return SchoolCalendar.load()


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies()


@pytest.fixture(scope="session")
def rates() -> UsageRates:
    return default_rates()
