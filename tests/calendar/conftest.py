"""Shared calendars: building them is cheap, but the per-place arrays are worth keeping across tests."""

from __future__ import annotations

import pytest

from capacity.calendar import SchoolCalendar


@pytest.fixture(scope="session")
def cal(calendar: SchoolCalendar) -> SchoolCalendar:
    """The calendar as shipped (the suite-wide `calendar` fixture, under the name these tests use)."""
    return calendar


@pytest.fixture(scope="session")
def bare() -> SchoolCalendar:
    """The `holidays` base layer alone, no overlay."""
    return SchoolCalendar.from_events()
