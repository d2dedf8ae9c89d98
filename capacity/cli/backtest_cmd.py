"""`capctl backtest`: forecast past days as capctl would have, and measure the error on daily peaks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capacity.calendar.types import check_supported
from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar
from capacity.cli.prom_opts import StepOpt, progress, prometheus_options
from capacity.common.errors import InputError

if TYPE_CHECKING:
    from capacity.learning.backtest import Backtest
    from capacity.learning.source import PrometheusOptions


@app.command()
@prometheus_options()
def backtest(
    date_from: Annotated[str, typer.Option("--from", help="first day to forecast, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day to forecast (included)")],
    horizon: Annotated[str, typer.Option("--horizon", help="forecast this far ahead (whole days)")] = "7d",
    refit: Annotated[str, typer.Option("--refit", help="refit the rates this often")] = "7d",
    history: Annotated[str, typer.Option("--history", help="history before the first cutoff")] = "365d",
    model: ModelOpt = None,
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    step: StepOpt = "5m",
    output: OutputOpt = Output.table,
    plot: Annotated[Path | None, typer.Option("--plot", dir_okay=False, help="draw forecast vs actual (PNG)")] = None,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    prometheus: PrometheusOptions | None = None,
) -> None:
    """Rolling-origin backtest: day D is forecast from data strictly older than D - horizon.

    Reports daily-peak MAPE on ordinary school days and on event days (rentrées, first days of a new
    state), how often the actual peak fell inside the 90 % band (each class apart), the error at the
    peak hour and the share of under-forecast days.
    """
    from datetime import timedelta

    from capacity.common.timegrid import parse_date, parse_step
    from capacity.learning.backtest import BacktestOptions, run_backtest
    from capacity.learning.history import fetch_history
    from capacity.learning.pipeline import prepare
    from capacity.learning.window import parse_days
    from capacity.planning.demand import default_rates
    from capacity.policy.bundle import load_policies
    from capacity.present.figure_file import check_plot_path
    from capacity.present.tables import dump

    if prometheus is None:
        raise InputError("--prometheus-url is required: actual peaks come from your Prometheus")
    first, last = parse_date(date_from), parse_date(date_to)
    if last < first:
        raise InputError(f"--to {last} is before --from {first}")
    options = BacktestOptions(horizon_days=parse_days(horizon), refit_days=parse_days(refit))
    if plot is not None:
        check_plot_path(plot)
    pol = load_policies(policies)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    for d in (first, last):
        check_supported(calendar, d)
    fixed = None
    if model is not None:
        from capacity.learning.model_file import Model, read_model

        loaded = read_model(model)
        first_cutoff = first - timedelta(days=options.horizon_days)
        if not isinstance(loaded, Model):  # usage rates in the prior's spec: fitted on nothing, no lookahead
            fixed = dict.fromkeys((p.id for p in plaques), loaded)
        elif loaded.fit_window[1] >= first_cutoff:
            raise InputError(
                f"{model} was fitted on data up to {loaded.fit_window[1]}, but the first forecast (for {first}, "
                f"horizon {options.horizon_days} d) may only see data before {first_cutoff}: the backtest would "
                f"see the future. Fit on data before {first_cutoff}, or start the backtest later."
            )
        else:
            fixed = loaded.rates_by_plaque([p.id for p in plaques])
    supported_from = calendar.supported_range[0]
    fetch_first = max(supported_from, first - timedelta(days=options.horizon_days + parse_days(history)))
    source = prometheus.source()
    with progress() as bar:
        hist = fetch_history(
            source,
            prometheus.queries,
            plaques,
            fetch_first,
            last,
            parse_step(step),
            with_components=False,
            on_progress=bar.callback("fetching"),
        )
        bar.update("forecasting", 0, 1)
        prepared = prepare(calendar, plaques, hist, fetch_first, last)
        result = run_backtest(prepared.frame, prepared.curves, default_rates(), first, last, options, fixed)
        bar.update("forecasting", 1, 1)
    data = backtest_dict(result, first.isoformat(), last.isoformat(), list(hist.notes))
    if plot is not None:
        from capacity.present.backtest_plot import plot_backtest

        plot_backtest(result.days, plot, f"capctl backtest {first} to {last}, horizon {options.horizon_days} d")
    typer.echo(backtest_table(data) if output is Output.table else dump(data, output.value))
    if plot is not None:
        typer.echo(f"plot written to {plot}", err=True)


def backtest_dict(result: Backtest, first: str, last: str, notes: list[str]) -> dict[str, Any]:
    from capacity.learning.backtest import per_plaque, summarize

    summary = {
        "from": first,
        "to": last,
        "horizon_days": result.horizon_days,
        "refit_days": result.refit_days,
        "model": result.model,
        **summarize(result.days),
        "plaques": per_plaque(result.days),
        "notes": notes,
    }
    days = [
        {
            "date": r.day.isoformat(),
            "plaque": r.plaque,
            "forecast_peak": round(r.forecast_peak, 1),
            "actual_peak": None if r.actual_peak is None else round(r.actual_peak, 1),
            "event_day": r.event_day,
            "school_day": r.class_day,
            "state": r.state,
            "forecast_low": round(r.low, 1),
            "forecast_high": round(r.high, 1),
            "error_pct": None if r.error is None else round(r.error * 100, 2),
            "data_cutoff": r.cutoff.isoformat(),
        }
        for r in result.days
    ]
    return {"summary": summary, "days": days}


def _cell(stats: dict[str, Any]) -> str:
    if not stats["days"]:
        return f"{0:>5} {'-':>7} {'-':>7}"
    return f"{stats['days']:>5} {stats['daily_peak_mape_pct']:>6.1f}% {stats['bias_pct']:>+6.1f}%"


def _share(value: float | None) -> str:
    return f"{'-':>5}" if value is None else f"{value:>5.2f}"


def backtest_table(data: dict[str, Any]) -> str:
    s = data["summary"]
    lines = [
        f"capctl backtest {s['from']} to {s['to']}  (horizon {s['horizon_days']} d, refit every "
        f"{s['refit_days']} d, {s['model']})",
        f"{'':<24} {'ordinary school days':<27} {'event days':<27} {'under':>5}",
        f"{'plaque':<24} {'days':>5} {'MAPE':>7} {'bias':>7} {'band':>5} {'days':>5} {'MAPE':>7} {'bias':>7} "
        f"{'band':>5} {'share':>5}",
    ]
    rows = [*s["plaques"].items(), ("all plaques", s)]
    for name, p in rows:
        under = "-" if p["under_forecast_share"] is None else f"{p['under_forecast_share']:.2f}"
        ordinary = f"{_cell(p['ordinary_school_days'])} {_share(p['band_coverage_ordinary'])}"
        event = f"{_cell(p['event_days'])} {_share(p['band_coverage_event'])}"
        lines.append(f"{name:<24} {ordinary} {event} {under:>5}")
    lines.append("band: share of days whose actual daily peak fell inside the forecast's 90 % band (aim: 0.84-0.96)")
    lines.append(
        f"peak-hour error {s['peak_hour_mape_pct']}%, median peak-time shift {s['peak_time_shift_h_median']} h, "
        f"{s['days_scored']} plaque-days scored ({s['days_without_data']} without enough data)"
    )
    scored = [d for d in data["days"] if d["error_pct"] is not None and (d["school_day"] or d["event_day"])]
    worst = sorted(scored, key=lambda d: -abs(d["error_pct"]))[:5]
    if worst:
        lines.append(
            "worst school days: " + "; ".join(f"{d['date']} {d['plaque']} {d['error_pct']:+.0f}%" for d in worst)
        )
    lines.extend(f"note: {n}" for n in s["notes"])
    return "\n".join(lines)
