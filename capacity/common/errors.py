"""One exception hierarchy: every error says what is wrong and how to fix it.

The CLI turns any `CapctlError` into one line on stderr and exit code 2; nothing else is shown.
"""

from __future__ import annotations

from typing import TypeVar


class CapctlError(Exception):
    """Base of every error capctl reports to a person."""

    lang = "en"  # the language the message is worded in ("fr" for the collectivités' mandate checks)


E = TypeVar("E", bound=CapctlError)


def french(error: E) -> E:
    """Mark `error` as worded in French (for the collectivités), so the CLI prefixes it in French too."""
    error.lang = "fr"
    return error


class InputError(CapctlError):
    """A command-line value is wrong (malformed date, unknown plaque, date out of range...)."""


class ConfigError(CapctlError):
    """A configuration or policy file is broken. Carries the file and, when known, the line and column.

    `code` names the kind of problem for callers that word it themselves (e.g. `capctl policy validate`
    in French or English); `message` stays the plain text shown by every other command.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        code: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.code = code
        self.message = message
        where = ""
        if path is not None:
            where = f"{path}: "
            if line is not None:
                where = f"{path}:{line}:{column}: " if column is not None else f"{path}:{line}: "
        super().__init__(f"{where}{message}")


class DataSourceError(CapctlError):
    """An external source (Prometheus, Kubernetes) failed or returned unusable data."""
