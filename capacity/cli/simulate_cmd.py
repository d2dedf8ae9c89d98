"""`capctl simulate`: replay a period's actual demand through capctl and the alternatives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar, load_rates
from capacity.cli.prom_opts import (
    CaFileOpt,
    InsecureOpt,
    PasswordFileOpt,
    QueriesOpt,
    TimeoutOpt,
    TokenFileOpt,
    UrlOpt,
    UserFileOpt,
    make_source,
    progress,
)
from capacity.errors import InputError


@app.command()
def simulate(
    date_from: Annotated[str, typer.Option("--from", help="first local day, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last local day (included)")],
    synth: Annotated[bool, typer.Option("--synth", help="replay the synthetic history (capctl synth)")] = False,
    prometheus_url: UrlOpt = None,
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    startup: Annotated[str, typer.Option("--startup", help="decision → serving replica, e.g. 10m")] = "10m",
    resolution: Annotated[str, typer.Option("--resolution", help="simulation step: 1m (default) or 5m")] = "1m",
    sweep: Annotated[
        str, typer.Option("--sweep", help="start-up delays to compare, comma list ('' for none)")
    ] = "2m,5m,10m,20m",
    seed: Annotated[int, typer.Option("--seed", help="with --synth: same seed, same history")] = 20200316,
    generator: Annotated[
        str, typer.Option("--generator", help="with --synth: default or independent (capctl synth --generator)")
    ] = "default",
    eur_per_vcpu_h: Annotated[float, typer.Option("--eur-per-vcpu-h", help="price of a requested vCPU-hour")] = 0.04,
    eur_per_gib_h: Annotated[float, typer.Option("--eur-per-gib-h", help="price of a requested GiB-hour")] = 0.005,
    output: OutputOpt = Output.table,
    plot: Annotated[Path | None, typer.Option("--plot", dir_okay=False, help="write a PNG")] = None,
    model: ModelOpt = None,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    queries: QueriesOpt = None,
    prometheus_token_file: TokenFileOpt = None,
    prometheus_username_file: UserFileOpt = None,
    prometheus_password_file: PasswordFileOpt = None,
    prometheus_ca_file: CaFileOpt = None,
    prometheus_insecure: InsecureOpt = False,
    prometheus_timeout: TimeoutOpt = "30s",
) -> None:
    """Replay demand through hpa, cron, static, capctl and oracle with the same capacity model and delay."""
    from capacity.metrics.window import days_between, parse_duration_s
    from capacity.policies import load_policies
    from capacity.render import dump
    from capacity.simulate.delay import delay_steps
    from capacity.simulate.metrics import Prices
    from capacity.simulate.report import report_dict, report_table
    from capacity.simulate.run import FOCUS_DAYS, replay
    from capacity.simulate.run import sweep as run_sweep
    from capacity.simulate.scenario import Scenario, build
    from capacity.simulate.trace import DemandTrace, history_trace, synth_trace
    from capacity.timegrid import parse_date

    if synth == (prometheus_url is not None):
        raise InputError("give exactly one demand source: --synth or --prometheus-url URL")
    first, last = parse_date(date_from), parse_date(date_to)
    days_between(first, last)
    step_s = parse_duration_s(resolution)
    if step_s not in (60, 300):
        raise InputError(f"--resolution must be 1m or 5m, got {resolution!r}")
    startup_s = parse_duration_s(startup) if startup.strip() not in ("0", "0s", "0m") else 0
    delay_steps(startup_s, step_s)
    delays = [parse_duration_s(d) for d in sweep.split(",") if d.strip()]
    pol = load_policies(policies)
    rates, pol = load_rates(pol, model)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    for d in (first, last):
        calendar.check_supported(d)
    prices = Prices(eur_per_vcpu_h=eur_per_vcpu_h, eur_per_gib_h=eur_per_gib_h)
    with progress() as bar:
        trace: DemandTrace
        if synth:
            bar.update("demand", 0, 1)
            trace = synth_trace(calendar, plaques, first, last, step_s, seed, generator)
            bar.update("demand", 1, 1)
        else:
            from capacity.metrics.history import fetch_history
            from capacity.metrics.queries import load_queries

            assert prometheus_url is not None
            source = make_source(
                prometheus_url,
                prometheus_token_file,
                prometheus_username_file,
                prometheus_password_file,
                prometheus_ca_file,
                prometheus_insecure,
                prometheus_timeout,
            )
            hist = fetch_history(
                source,
                load_queries(queries),
                plaques,
                first,
                last,
                300,
                with_components=False,
                on_progress=bar.callback("fetching"),
            )
            trace = history_trace(hist, plaques, first, last, step_s)
        scenario = build(
            trace, first, last, pol, calendar, rates, on_progress=bar.callback("operator"), startup_s=startup_s
        )
        bar.update("replay", 0, 1 + len(delays))
        results, desired = replay(scenario, startup_s, prices=prices, focus_days=FOCUS_DAYS)
        bar.update("replay", 1, 1 + len(delays))
        fits = [d for d in delays if d % step_s == 0]

        def rebuild(delay_s: int) -> Scenario:
            if delay_s == startup_s:
                return scenario
            return build(trace, first, last, pol, calendar, rates, startup_s=delay_s)

        points = run_sweep(rebuild, fits, prices=prices) if fits else ()
        bar.update("replay", 1 + len(delays), 1 + len(delays))
    skipped = [d for d in delays if d % step_s]
    meta: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "source": trace.source,
        "startup_s": startup_s,
        "step_s": step_s,
        "plaques": list(trace.plaques),
        "prices": {"eur_per_vcpu_h": eur_per_vcpu_h, "eur_per_gib_h": eur_per_gib_h},
        "notes": [f"sweep skips {d // 60} min: not a whole number of steps, use --resolution 1m" for d in skipped],
    }
    if output is Output.table:
        typer.echo(report_table(meta, results, points))
        for note in meta["notes"]:
            typer.echo(f"note: {note}")
    else:
        typer.echo(dump(report_dict(meta, results, points), output.value))
    if plot is not None:
        from capacity.simulate.plot import plot_replay

        title = f"capctl simulate {first} to {last}, start-up {startup_s // 60} min"
        plot_replay(plot, scenario, results, desired, startup_s // step_s, FOCUS_DAYS, title)
