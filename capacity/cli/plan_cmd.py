"""`capctl plan`: the capacity plan of one day, from the calendar, the demand model and the mandates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar, load_rates
from capacity.cli.ui import lang


@app.command()
def plan(
    date: Annotated[str, typer.Option("--date", help="day to plan, YYYY-MM-DD (Europe/Paris)")],
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    step: Annotated[str, typer.Option("--step", help="slot length: 15m or 1h (also 5m, 30m)")] = "1h",
    output: OutputOpt = Output.table,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="draw the day per plaque into this image (.png, .svg, .pdf)")
    ] = None,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    model: ModelOpt = None,
) -> None:
    """Plan replicas per component and slot for one day, with the reason for every number."""
    from capacity.common.timegrid import parse_date, parse_step
    from capacity.planning.plans import plan_day
    from capacity.policy.bundle import load_policies
    from capacity.present.figure_file import check_plot_path
    from capacity.present.tables import dump, plan_dict, plan_table

    day = parse_date(date)
    step_s = parse_step(step)
    if plot is not None:
        check_plot_path(plot)
    pol = load_policies(policies)
    calendar = load_calendar(events)
    if plaque:
        for p in plaque:
            pol.topology.plaque(p)  # unknown plaque → InputError listing the known ones
    rates, pol = load_rates(pol, model)
    result = plan_day(day, step_s, pol, calendar, rates, plaque)
    if plot is not None:
        from capacity.present.plan_plot import plot_plan

        plot_plan(result, plot)
    if output is Output.table:
        typer.echo(plan_table(result, lang()))
    else:
        typer.echo(dump(plan_dict(result), output.value))
    if plot is not None:
        typer.echo(f"plot written to {plot}", err=True)
