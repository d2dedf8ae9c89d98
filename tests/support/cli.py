"""Run the real `capctl` entry point as a user does, and check the one-line error contract."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def capctl(*args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m capacity ARGS` from the repository root; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "capacity", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=None if env is None else dict(env),
        timeout=timeout,
    )


def assert_one_line_error(res: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    """Exit `code` (2: bad input; 1: a service failed at run time), a single `capctl: error:` line on stderr,
    no traceback; returns the line."""
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(("capctl: error: ", "capctl : erreur : ")), lines[0]
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
