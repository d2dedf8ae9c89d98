"""`capctl backtest`: forecast past days as capctl would have, and measure the error on daily peaks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar
from capacity.cli.prom_opts import StepOpt, prometheus_options
from capacity.cli.ui import QuietOpt, lang, progress
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
    quiet: QuietOpt = False,
) -> None:
    """Rolling-origin backtest: day D is forecast from data strictly older than D - horizon.

    Reports daily-peak MAPE on ordinary school days and on event days (rentrées, first days of a new
    state), how often the actual peak fell inside the 90 % band (each class apart), the error at the
    peak hour and the share of under-forecast days.
    """
    from datetime import timedelta

    from capacity.calendar.types import check_supported
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
    with progress(quiet) as bar:
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
    typer.echo(backtest_table(data, lang()) if output is Output.table else dump(data, output.value))
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


_WORDS = {
    "en": {
        "title": "capctl backtest {first} to {last}  (horizon {h} d, refit every {r} d, {model})",
        "groups": ("ordinary school days", "event days", "under"),
        "heads": ("plaque", "days", "MAPE", "bias", "band", "share"),
        "all": "all plaques",
        "band": "band: share of days whose actual daily peak fell inside the forecast's 90 % band (aim: 0.84-0.96)",
        "summary": "peak-hour error {err}, median peak-time shift {shift}, {scored} plaque-days scored "
        "({missing} without enough data)",
        "worst": "worst school days: ",
        "sep": "; ",
        "note": "note: ",
    },
    "fr": {
        "title": "capctl backtest du {first} au {last}  (horizon {h} j, réapprentissage tous les {r} j, {model})",
        "groups": ("jours de classe ordinaires", "jours d'événement", "sous"),
        "heads": ("plaque", "jours", "MAPE", "biais", "bande", "part"),
        "all": "toutes les plaques",
        "band": "bande : part des jours où la pointe réelle tombe dans la bande à 90 % (visée : 0,84-0,96)",
        "summary": "erreur à l'heure de pointe {err}, décalage médian de la pointe {shift}, {scored} jours-plaques "
        "évalués ({missing} sans assez de données)",
        "worst": "pires jours de classe : ",
        "sep": " ; ",
        "note": "note : ",
    },
}


def _pct(value: float | None, lang: str = "en", signed: bool = False) -> str:
    """4.2% (en) / 4,2 % (fr); '-' when there is no value."""
    if value is None:
        return "-"
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{text.replace('.', ',')} %" if lang == "fr" else f"{text}%"


def _share(value: float | None, lang: str = "en") -> str:
    if value is None:
        return f"{'-':>5}"
    text = f"{value:>5.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def _cell(stats: dict[str, Any], lang: str = "en") -> str:
    if not stats["days"]:
        return f"{0:>5} {'-':>7} {'-':>7}"
    return f"{stats['days']:>5} {_pct(stats['daily_peak_mape_pct'], lang):>7} {_pct(stats['bias_pct'], lang, True):>7}"


def _shift(hours: float | None, lang: str = "en") -> str:
    from capacity.common.numbers import duration_h

    return "-" if hours is None else duration_h(hours, lang)


def backtest_table(data: dict[str, Any], lang: str = "en") -> str:
    """The backtest in one language (`lang`: en or fr)."""
    w = _WORDS[lang]
    s = data["summary"]
    g, h = w["groups"], w["heads"]
    lines = [
        str(w["title"]).format(first=s["from"], last=s["to"], h=s["horizon_days"], r=s["refit_days"], model=s["model"]),
        f"{'':<24} {g[0]:<27} {g[1]:<27} {g[2]:>5}",
        f"{h[0]:<24} {h[1]:>5} {h[2]:>7} {h[3]:>7} {h[4]:>5} {h[1]:>5} {h[2]:>7} {h[3]:>7} {h[4]:>5} {h[5]:>5}",
    ]
    rows = [*s["plaques"].items(), (w["all"], s)]
    for name, p in rows:
        under = _share(p["under_forecast_share"], lang).strip()
        ordinary = f"{_cell(p['ordinary_school_days'], lang)} {_share(p['band_coverage_ordinary'], lang)}"
        event = f"{_cell(p['event_days'], lang)} {_share(p['band_coverage_event'], lang)}"
        lines.append(f"{name:<24} {ordinary} {event} {under:>5}")
    lines.append(str(w["band"]))
    lines.append(
        str(w["summary"]).format(
            err=_pct(s["peak_hour_mape_pct"], lang),
            shift=_shift(s["peak_time_shift_h_median"], lang),
            scored=s["days_scored"],
            missing=s["days_without_data"],
        )
    )
    scored = [d for d in data["days"] if d["error_pct"] is not None and (d["school_day"] or d["event_day"])]
    worst = sorted(scored, key=lambda d: -abs(d["error_pct"]))[:5]
    if worst:
        cells = [f"{d['date']} {d['plaque']} {_pct(d['error_pct'], lang, True)}" for d in worst]
        lines.append(str(w["worst"]) + str(w["sep"]).join(cells))
    lines.extend(f"{w['note']}{n}" for n in s["notes"])
    return "\n".join(lines)
