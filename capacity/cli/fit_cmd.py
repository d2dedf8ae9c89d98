"""`capctl fit`: learn usage rates and component capacity from Prometheus into a model file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, Output, OutputOpt, PoliciesOpt, load_calendar
from capacity.cli.prom_opts import StepOpt, prometheus_options
from capacity.cli.ui import QuietOpt, progress
from capacity.common.errors import InputError

if TYPE_CHECKING:
    from datetime import date

    from capacity.calendar import SchoolCalendar
    from capacity.cli.ui import Progress
    from capacity.learning.history import History
    from capacity.learning.model_file import Model
    from capacity.learning.queries import QueryConfig
    from capacity.learning.source import MetricsSource, PrometheusOptions
    from capacity.policy.topology import Plaque


@app.command()
@prometheus_options()
def fit(
    date_from: Annotated[str, typer.Option("--from", help="first local day of history, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last local day (included)")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="model file to write (JSON)")],
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    step: StepOpt = "5m",
    output: OutputOpt = Output.table,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    prometheus: PrometheusOptions | None = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit usage rates (shared by all plaques), plaque levels and component capacity; write the model."""
    from capacity.calendar.types import check_supported
    from capacity.common.files import check_writable
    from capacity.common.timegrid import parse_date, parse_step
    from capacity.learning.model_file import save_model
    from capacity.policy.bundle import load_policies
    from capacity.present.tables import dump

    if prometheus is None:
        raise InputError("--prometheus-url is required: the Prometheus that holds your ENT metrics")
    first, last = parse_date(date_from), parse_date(date_to)
    step_s = parse_step(step)
    check_writable(out, "--out model file")  # before minutes of fetching and fitting
    pol = load_policies(policies)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    for d in (first, last):
        check_supported(calendar, d)
    config = prometheus.queries
    source = prometheus.source()
    with progress(quiet) as bar:
        model, report = fit_from_source(source, config, calendar, plaques, first, last, step_s, bar)
        bar.update("writing", 0, 1)
        save_model(model, out)  # atomic: on any failure the previous model stays whole
        bar.update("writing", 1, 1)
    if output is Output.table:
        typer.echo(fit_table(report))
    else:
        typer.echo(dump(report, output.value))
    typer.echo(f"model written to {out}", err=True)


def fit_from_source(
    source: MetricsSource,
    config: QueryConfig,
    calendar: SchoolCalendar,
    plaques: list[Plaque],
    first: date,
    last: date,
    step_s: int,
    bar: Progress,
    with_components: bool = True,
) -> tuple[Model, dict[str, Any]]:
    """Fetch, prepare and fit (shared with `forecast --prometheus-url`)."""
    from capacity.learning.pipeline import fetch_for_fit, fit_model, fit_report, prepare
    from capacity.planning.demand import default_rates

    history: History = fetch_for_fit(
        source,
        config,
        plaques,
        first,
        last,
        step_s,
        with_components=with_components,
        on_progress=bar.callback("fetching"),
    )
    bar.update("fitting", 0, 2)
    prepared = prepare(calendar, plaques, history, first, last)
    bar.update("fitting", 1, 2)
    meta = {"prometheus": source.name, "queries": config.source, "step_s": step_s}
    model, result = fit_model(prepared, history, plaques, default_rates(), meta)
    bar.update("fitting", 2, 2)
    return model, fit_report(model, result, history)


def fit_table(report: dict[str, Any]) -> str:
    """Compact text summary of a fit (fits 100 columns)."""
    w = report["fit_window"]
    rel = report["relative_error"]
    lines = [
        f"capctl fit {w['from']} to {w['to']} from {report['source'].get('prometheus')} "
        f"({report['samples']:,} session samples)",
        f"{'plaque':<24} {'fitted':<6} {'level él/ens/par':<18} {'factor prés/hyb/dist':<21} components",
    ]
    for pid, p in report["plaques"].items():
        level = " ".join(f"{v:.2f}" for v in p["level"].values())
        factors = " ".join(f"{v:.2f}" for v in p["state_factors"].values())
        comps = ",".join(p["components_fitted"]) or "-"
        lines.append(f"{pid:<24} {'yes' if p['fitted'] else 'NO':<6} {level:<18} {factors:<21} {comps}")
    lines.extend(_level_years(report))
    bends = [
        f"{pid} {max(p['own_shape'].values()):.0%} ({max(p['own_shape'], key=p['own_shape'].get)})"
        for pid, p in report["plaques"].items()
        if p.get("own_shape")
    ]
    if bends:
        lines.append("own day shape, largest bend from the shared curve: " + ", ".join(bends))
    lines.extend(_recent_corrections(report))
    lines.append("")
    lines.append(f"{'state':<12} {'fitted':>6} {'pooled':>6} {'prior':>6}  curves (profile x weekday)")
    for state, s in report["states"].items():
        lines.append(f"{state:<12} {s['fitted_curves']:>6} {s['pooled_curves']:>6} {s['prior_curves']:>6}")
    surges = ", ".join(f"{k} ({n} days)" for k, n in report["surges_fitted"].items()) or "none (prior kept)"
    lines.append(f"surges fitted: {surges}")
    lines.append(f"forecast error (daily peak): ordinary ±{rel['ordinary']:.1%}, event days ±{rel['event']:.1%}")
    lines.extend(f"note: {n}" for n in report["notes"])
    return "\n".join(lines)


def _recent_corrections(report: dict[str, Any]) -> list[str]:
    """The recent correction inside each fitted plaque's factors: by how much, on which days."""
    said = [
        f"{pid} {c['factor'] - 1:+.0%} ({c['days']} {c['state']} days)"
        for pid, p in report["plaques"].items()
        if (c := p.get("recent_correction")) and c["days"]
    ]
    if not said:
        return []
    return ["recent correction in the factors, last week's class days in the usual state: " + ", ".join(said)]


def _level_years(report: dict[str, Any]) -> list[str]:
    """Which school year each fitted level was read on, and a warning when it is not the fit's last one."""
    from capacity.planning.demand import NEW_YEAR_ERROR, school_year  # numpy: only when a fit is shown

    years: dict[str, list[str]] = {}
    for pid, p in report["plaques"].items():
        if p.get("level_school_year"):
            years.setdefault(p["level_school_year"], []).append(pid)
    if not years:
        return []
    if len(years) == 1:
        read = f"levels read on school year {next(iter(years))} (every fitted plaque)"
    else:
        read = "levels read on school year " + "; ".join(f"{y}: {', '.join(pids)}" for y, pids in sorted(years.items()))
    last = school_year(date.fromisoformat(report["fit_window"]["to"]))
    old = sorted(y for y in years if int(y[:4]) < last)
    if not old:
        return [read]
    return [
        read,
        f"warning: the fit ends in school year {last}-{last + 1}; levels of {', '.join(old)} are the old year's:",
        f"  bands of later days are ±{NEW_YEAR_ERROR:.0%} wider until a refit reads the new year's weekends",
    ]
