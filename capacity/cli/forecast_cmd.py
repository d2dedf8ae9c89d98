"""`capctl forecast`: users connected per slot for one day, with the uncertainty band."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar
from capacity.cli.prom_opts import prometheus_options
from capacity.cli.ui import QuietOpt, progress
from capacity.common.errors import InputError

if TYPE_CHECKING:
    from capacity.learning.source import PrometheusOptions
    from capacity.planning.demand import DayForecast
    from capacity.policy.topology import Plaque


@app.command()
@prometheus_options()
def forecast(
    date: Annotated[str, typer.Option("--date", help="day to forecast, YYYY-MM-DD (Europe/Paris)")],
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    model: ModelOpt = None,
    history: Annotated[str, typer.Option("--history", help="with --prometheus-url: days to learn from")] = "365d",
    step: Annotated[str, typer.Option("--step", help="slot length: 15m or 1h (also 5m, 30m)")] = "1h",
    query_step: Annotated[str, typer.Option("--query-step", help="with --prometheus-url: query resolution")] = "5m",
    output: OutputOpt = Output.table,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    prometheus: PrometheusOptions | None = None,
    quiet: QuietOpt = False,
) -> None:
    """Forecast demand per slot from a model file, or learned on the spot from Prometheus.

    With neither, the shipped prior is used (as `capctl plan` does).
    """
    from datetime import datetime

    from capacity.calendar.types import check_supported
    from capacity.cli.fit_cmd import fit_from_source
    from capacity.common.timegrid import PARIS, parse_date, parse_step
    from capacity.learning.pipeline import forecast as forecast_days
    from capacity.learning.pipeline import history_window
    from capacity.learning.window import parse_days
    from capacity.policy.bundle import load_policies
    from capacity.present.tables import dump

    if model is not None and prometheus is not None:
        raise InputError("give --model or --prometheus-url, not both")
    day = parse_date(date)
    step_s = parse_step(step)
    pol = load_policies(policies)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    check_supported(calendar, day)
    notes: list[str] = []
    if prometheus is not None:
        first, last = history_window(day, parse_days(history))
        last = min(last, datetime.now(PARIS).date())  # the only clock read: data cannot come from the future
        first = max(first, calendar.supported_range[0])
        if last < first:
            raise InputError(f"no history before {day} to learn from: use --model, or a later --date")
        source = prometheus.source()
        with progress(quiet) as bar:
            fitted, _ = fit_from_source(
                source, prometheus.queries, calendar, plaques, first, last, parse_step(query_step), bar, False
            )
        notes = list(fitted.notes)
        rates = fitted.rates_by_plaque([p.id for p in plaques])
    elif model is not None:
        from capacity.learning.model_file import Model, read_model

        loaded = read_model(model)
        if isinstance(loaded, Model):
            notes = [f"{p}: {f.note}" for p, f in loaded.plaques.items() if f.note]
            rates = loaded.rates_by_plaque([p.id for p in plaques])
        else:
            rates = dict.fromkeys((p.id for p in plaques), loaded)
    else:
        from capacity.planning.demand import default_rates

        rates = dict.fromkeys((p.id for p in plaques), default_rates())
    days = forecast_days(rates, calendar, plaques, day, step_s)
    data = forecast_dict(day.isoformat(), step_s, plaques, days, next(iter(rates.values())).source, notes)
    typer.echo(forecast_table(data) if output is Output.table else dump(data, output.value))


def forecast_dict(
    day: str, step_s: int, plaques: list[Plaque], days: list[DayForecast], source: str, notes: list[str]
) -> dict[str, Any]:
    from capacity.present.tables import forecast_level_states

    out = []
    for plaque, f in zip(plaques, days, strict=True):
        slots = [
            {
                "start": start.isoformat(),
                "demand": round(float(f.users[i]), 1),
                "low": round(float(f.low[i]), 1),
                "high": round(float(f.high[i]), 1),
            }
            for i, start in enumerate(f.grid.starts)
        ]
        peak = int(f.users.argmax())
        out.append(
            {
                "plaque": plaque.id,
                "zone": plaque.zone,
                "levels": forecast_level_states(plaque, f),
                "peak": slots[peak],
                "slots": slots,
            }
        )
    return {"date": day, "step_s": step_s, "model": source, "plaques": out, "notes": notes}


def forecast_table(data: dict[str, Any]) -> str:
    """Slots as rows, plaques as columns (demand; the band is ±x % per plaque, in the header)."""
    plaques = data["plaques"]
    width = 13
    lines = [f"capctl forecast {data['date']}  (users connected; model: {data['model']})"]
    lines.append(f"{'slot':<6}" + "".join(f"{p['plaque'][: width - 1]:>{width}}" for p in plaques))
    bands = []
    for p in plaques:
        peak = p["peak"]
        rel = (peak["high"] - peak["demand"]) / peak["demand"] if peak["demand"] else 0.0
        bands.append(f"±{rel:.0%}")
    lines.append(f"{'band':<6}" + "".join(f"{b:>{width}}" for b in bands))
    for i, slot in enumerate(plaques[0]["slots"]):
        row = f"{slot['start'][11:16]:<6}"
        row += "".join(f"{round(p['slots'][i]['demand']):>{width},}".replace(",", " ") for p in plaques)
        lines.append(row)
    lines.append(f"{'peak':<6}" + "".join(f"{p['peak']['start'][11:16]:>{width}}" for p in plaques))
    lines.extend(f"note: {n}" for n in data["notes"])
    return "\n".join(lines)
