"""`capctl`: the only place that prints or exits.

Every `CapctlError` becomes one line on stderr and exit code 2, never a traceback. Command modules
register themselves on `app`; heavy imports stay inside the commands so `capctl plan` starts fast.
"""

from __future__ import annotations

import sys

import typer

from capacity.common.errors import CapctlError

app = typer.Typer(
    name="capctl",
    help="Calendar-aware capacity planning and autoscaling for ENT plaques.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command modules (each adds its commands to `app`).
from capacity.cli import (  # noqa: E402,F401
    backtest_cmd,
    calendar_cmd,
    fit_cmd,
    forecast_cmd,
    plan_cmd,
    policy_cmd,
    run_cmd,
    simulate_cmd,
    synth_cmd,
)


def main() -> None:
    """Console entry point: usage errors exit 2 (typer), and so does any CapctlError, in one line."""
    try:
        app()
    except CapctlError as exc:
        typer.echo(f"capctl: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
