"""`capctl`: the only place that prints or exits.

Every `CapctlError` becomes one line on stderr and exit code 2, never a traceback. Command modules
register themselves on `app`; heavy imports stay inside the commands so `capctl plan` starts fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from capacity.cli.help import Group, tidy
from capacity.cli.ui import SETTINGS
from capacity.common.errors import CapctlError

app = typer.Typer(
    name="capctl",
    help="Calendar-aware capacity planning and autoscaling for ENT plaques.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
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
    """Console entry point: usage errors exit 2 (typer), and so does any CapctlError, in one line."""
    try:
        tidy(typer.main.get_command(app))(prog_name="capctl")
    except CapctlError as exc:
        prefix = "capctl : erreur :" if exc.lang == "fr" else "capctl: error:"
        typer.echo(f"{prefix} {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
