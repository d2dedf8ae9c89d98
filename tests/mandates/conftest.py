"""Fixtures for the mandate tests: the shipped calendar, prior and policies, and a small test bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capacity.policy.bundle import Policies, load_policies

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
BUNDLE = CASES / "bundle"


@pytest.fixture(scope="session")
def shipped() -> Policies:
    return load_policies(REPO / "policies")


@pytest.fixture(scope="session")
def small() -> Policies:
    return load_policies(BUNDLE)


@pytest.fixture()
def bundle_copy(tmp_path: Path) -> Path:
    """A writable copy of the small test bundle, at tmp_path/bundle."""
    dest = tmp_path / "bundle"
    shutil.copytree(BUNDLE, dest)
    return dest
