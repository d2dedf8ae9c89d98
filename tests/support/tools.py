"""Locate the real external binaries the tests drive (helm, kubectl, prometheus, promtool).

`scripts/fetch-tools` installs helm and kubectl into `.tools/bin` of the repository; Prometheus comes from
Debian's package. Under CI (`CI` set) a missing tool fails the test instead of skipping it: a green run must
mean the real component was exercised.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS_DIRS = [Path(os.environ.get("CAPCTL_TOOLS_DIR", REPO / ".tools" / "bin")), REPO / ".tools" / "bin"]


def tool_path(name: str) -> Path:
    """Return the path of tool `name`, or skip (fail under CI) when it is not installed."""
    for directory in TOOLS_DIRS:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    message = f"{name} not found: run scripts/test (or scripts/fetch-tools) to install it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
