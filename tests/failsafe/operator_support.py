"""Helpers for the operator's fault-injection tests (tests/failsafe/test_operator_*.py).

They drive the operator the way `capctl run` wires it (tests/kube/conftest.py) against the in-process
fake API server, with the faults scripted there (409, 5xx, objects changed behind its back) or in the
inputs (policy files, live usage, clocks).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from capacity.common.timegrid import PARIS
from capacity.operator.report import ComponentReport, TickReport
from tests.kube.conftest import POLICIES, seed, seeded
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.fixtures import fake_kube

FIXTURES = (fake_kube, seeded)  # test modules import these two fixtures from here

RENTREE = datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)  # the rush is being prepared: floors go up
HOLIDAY = datetime(2021, 4, 19, 6, 30, tzinfo=PARIS)  # nobody at school: floors may go down


def copy_policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


def seed_policies(fake: FakeKube, tmp_path: Path, policies: Path | None = None) -> Path:
    """A copy of the shipped policies (or `policies`), and the fake seeded with its workloads."""
    root = policies or copy_policies(tmp_path)
    seed(fake, root)
    fake.clear_log()
    return root


def component(report: TickReport, plaque: str, name: str) -> ComponentReport:
    return next(c for c in report.components if c.target.key == (plaque, name))


def events(fake: FakeKube, reason: str) -> list[dict[str, Any]]:
    return [w.body for w in fake.writes(r"/events$") if w.body["reason"] == reason]


class StubUsage:
    """A LiveUsage answering fixed values per plaque (None: missing), no error."""

    def __init__(self, users: Mapping[str, float | None]) -> None:
        self.users = dict(users)

    @property
    def last_error(self) -> str | None:
        return None

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]:
        return {p: self.users.get(p) for p in plaques}


class Instant(threading.Event):
    """A stop event whose waits return at once (the runner's pauses, with a fake clock)."""

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()


class Clock:
    """A monotonic clock the test moves by hand (or that moves `step` at each reading)."""

    def __init__(self, step: float = 0.0) -> None:
        self.t, self.step = 1000.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t
