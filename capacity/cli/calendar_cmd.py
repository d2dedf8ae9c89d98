"""`capctl calendar`: what a day is, per place and school level, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, Output, OutputOpt, load_calendar
from capacity.cli.ui import lang


@app.command()
def calendar(
    date: Annotated[str, typer.Option("--date", help="day, YYYY-MM-DD")],
    zone: Annotated[str | None, typer.Option("--zone", help="A, B or C")] = None,
    academie: Annotated[str | None, typer.Option("--academie", help="académie, e.g. nancy-metz")] = None,
    departement: Annotated[str | None, typer.Option("--departement", help="département number, e.g. 57")] = None,
    output: OutputOpt = Output.table,
    events: EventsOpt = None,
) -> None:
    """Day state (presentiel, hybride, distanciel, vacances, ferie, weekend) per level, with reasons."""
    from capacity.calendar import Level, Place, resolve_place
    from capacity.common.errors import InputError
    from capacity.common.timegrid import parse_date
    from capacity.present.tables import calendar_dict, calendar_table, dump

    day = parse_date(date)
    given = [x for x in (zone, academie, departement) if x is not None]
    if len(given) > 1:
        raise InputError("give at most one of --zone, --academie, --departement")
    cal = load_calendar(events)
    if given:
        queries = [resolve_place(Place(zone=zone, academie=academie, departement=departement))]
        shown = [
            {
                "zone": q.zone,
                "academie": q.academie if academie or departement else None,
                "departement": q.departement,
            }
            for q in queries
        ]
    else:
        queries = [Place(zone=z) for z in ("A", "B", "C")]
        shown = [{"zone": q.zone, "academie": None, "departement": None} for q in queries]
    places = [(s, {lv: cal.day(day, q, lv) for lv in Level}) for s, q in zip(shown, queries, strict=True)]
    data = calendar_dict(day.isoformat(), places)
    typer.echo(calendar_table(data, lang()) if output is Output.table else dump(data, output.value))
