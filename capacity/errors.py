"""One exception hierarchy: every error says what is wrong and how to fix it.

The CLI turns any `CapctlError` into one line on stderr and exit code 2; nothing else is shown.
"""

from __future__ import annotations


class CapctlError(Exception):
    """Base of every error capctl reports to a person."""


class InputError(CapctlError):
    """A command-line value is wrong (malformed date, unknown plaque, date out of range...)."""


class ConfigError(CapctlError):
    """A configuration or policy file is broken. Carries the file and, when known, the line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class DataSourceError(CapctlError):
    """An external source (Prometheus, Kubernetes) failed or returned unusable data."""
