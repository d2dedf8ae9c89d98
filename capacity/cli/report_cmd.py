"""`capctl report`: one collectivité's month as a self-contained French HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity.cli import app, version
from capacity.cli.common import EventsOpt, ModelOpt, PoliciesOpt, load_calendar, load_rates


@app.command()
def report(
    collectivite: Annotated[str, typer.Option("--collectivite", help="mandate id, e.g. departement-76")],
    month: Annotated[str, typer.Option("--month", help="calendar month, YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="HTML file to write")],
    step: Annotated[str, typer.Option("--step", help="slot length: 1h (default), 30m, 15m or 5m")] = "1h",
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    model: ModelOpt = None,
) -> None:
    """Monthly report for a collectivité (French, one HTML file): guarantees, cost, shortfalls, coming weeks."""
    from datetime import date, datetime

    from capacity.calendar.types import check_supported
    from capacity.common.errors import InputError, french
    from capacity.common.files import write_atomic
    from capacity.common.timegrid import PARIS, parse_step
    from capacity.planning.budget import plan_month
    from capacity.planning.monthly import month_bounds, monthly_dict, outlook_window, plan_outlook
    from capacity.policy.bundle import load_policies
    from capacity.policy.mandates.words import month_text
    from capacity.present.monthly_html import monthly_html

    try:
        first = date.fromisoformat(f"{month.strip()}-01")
    except ValueError:
        raise InputError(f"invalid --month {month!r}: expected YYYY-MM, e.g. 2021-04") from None
    step_s = parse_step(step)
    pol = load_policies(policies)
    last = month_bounds(first)[1]
    pol.mandate(collectivite)  # an unknown id: an error naming the known ones
    in_force = [m for m in pol.mandates if m.id == collectivite and m.validity.start <= last]
    in_force = [m for m in in_force if m.validity.end is None or m.validity.end >= first]
    if not in_force:
        raise french(InputError(f"aucun mandat de {collectivite} n'est en vigueur en {month_text(month.strip())}"))
    mandate = in_force[-1]
    calendar = load_calendar(events)
    check_supported(calendar, first, last)
    rates, pol = load_rates(pol, model)
    planned = plan_month(first, step_s, pol, calendar, rates)
    window = outlook_window(first, calendar.supported_range[1], datetime.now(PARIS).date())
    ahead = plan_outlook(window, step_s, pol, calendar, rates) if window else []
    page = monthly_html(monthly_dict(mandate, planned, ahead, pol.files), version())
    write_atomic(out, page, "report")  # the previous report stays whole if the write fails
    typer.echo(f"rapport écrit dans {out}", err=True)
