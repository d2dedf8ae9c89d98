"""Fixtures for the metrics tests: shipped calendar and policies, and the `capctl` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from capacity.calendar import SchoolCalendar
from capacity.policies import Policies, load_policies

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def calendar() -> SchoolCalendar:
    return SchoolCalendar.load()


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies()


def capctl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real entry point (`python -m capacity`), as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "capacity", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


def assert_one_line_error(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2, a single `capctl: error:` line on stderr, no traceback; returns the line."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("capctl: error: "), lines[0]
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
