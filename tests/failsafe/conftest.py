"""Fixtures for the fault-injection suite: a writable copy of the small test bundle, and a validator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.cli import app
from tests.mandates.conftest import BUNDLE

#: A day inside the test bundle's mandates (2020-09-01 to 2022-08-31).
TODAY = "2021-04-26"


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    """A writable copy of tests/mandates/cases/bundle (plaque lorraine, three funders, min_replicas 2)."""
    dest = tmp_path / "bundle"
    shutil.copytree(BUNDLE, dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def validate(*args: str) -> tuple[int, str]:
    """`capctl policy validate ARGS` in process; (exit code, output)."""
    result = CliRunner().invoke(app, ["policy", "validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output
