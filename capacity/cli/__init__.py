"""`capctl`: the only place that prints or exits.

Every failure is one line on stderr, never a traceback nor a boxed panel: exit 2 for bad input (usage
errors, `InputError`, `ConfigError`), exit 1 for a failure at run time (`DataSourceError`: a service
unreachable or answering nonsense; or a bug, named as such; CAPCTL_DEBUG=1 shows its traceback).
Command modules register themselves on `app`; heavy imports stay inside the commands so `capctl plan`
starts fast.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from capacity.cli.help import Group, tidy
from capacity.cli.ui import SETTINGS
from capacity.common.errors import CapctlError, DataSourceError

app = typer.Typer(
    name="capctl",
    help="Calendar-aware capacity planning and autoscaling for ENT plaques.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,
    cls=Group,
)


class Lang(StrEnum):
    fr = "fr"
    en = "en"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("capctl")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"capctl {version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_show_version, help="print the version and exit")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars (they only show on a terminal)")] = (
        False
    ),
    lang: Annotated[
        Lang | None, typer.Option("--lang", help="fr or en (default: French if LANG/LC_ALL is fr_*, else English)")
    ] = None,
) -> None:
    """Calendar-aware capacity planning and autoscaling for ENT plaques."""
    SETTINGS.quiet = quiet
    SETTINGS.lang = lang.value if lang is not None else None


# Command modules (each adds its commands to `app`).
from capacity.cli import (  # noqa: E402,F401
    backtest_cmd,
    calendar_cmd,
    fit_cmd,
    forecast_cmd,
    plan_cmd,
    policy_cmd,
    report_cmd,
    run_cmd,
    simulate_cmd,
    synth_cmd,
)


def main() -> None:
    """Console entry point: run the command; turn every failure into one line and an exit code."""
    sys.exit(run(sys.argv[1:]))


def run(args: list[str]) -> int:
    """Run capctl with `args`; returns the exit code (the one place that maps failures to codes)."""
    try:
        command = tidy(typer.main.get_command(app))  # readable help: see help.py
        code = command.main(args=args, prog_name="capctl", standalone_mode=False)
    except typer.Abort:
        _fail("aborted")
        return 1
    except Exception as exc:
        if not _is_click_error(exc):
            return _capctl_error(exc)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `capctl policy`: the help, as click shows it
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        ctx = getattr(exc, "ctx", None)  # usage errors: no such option, bad or missing value
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(f"{exc.format_message()}{hint}")  # type: ignore[attr-defined]
        return int(exc.exit_code)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0


def _is_click_error(exc: BaseException) -> bool:
    """Click's errors (typer vendors its own click, so by shape rather than by class)."""
    return hasattr(exc, "format_message") and hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int)


def _capctl_error(exc: Exception) -> int:
    """Exit 1 for run-time failures (a source down) and bugs, 2 for bad input; one line each."""
    if isinstance(exc, CapctlError):
        _fail(str(exc), "capctl : erreur : " if exc.lang == "fr" else "capctl: error: ")  # one language per line
        return 1 if isinstance(exc, DataSourceError) else 2
    if os.environ.get("CAPCTL_DEBUG"):
        raise exc
    _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with CAPCTL_DEBUG=1 for the traceback", "capctl: ")
    return 1


def _fail(message: str, prefix: str = "capctl: error: ") -> None:
    text = " ".join(str(message).split())  # one line, whatever the message holds
    typer.echo(f"{prefix}{text}", err=True)
