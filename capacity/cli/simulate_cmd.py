"""`capctl simulate`: replay a period's actual demand through capctl and the alternatives."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar, load_rates
from capacity.cli.prom_opts import prometheus_options
from capacity.cli.ui import QuietOpt, progress
from capacity.common.errors import InputError

if TYPE_CHECKING:
    from capacity.learning.source import PrometheusOptions
    from capacity.operator.reload import OperatorSettings


@app.command()
@prometheus_options()
def simulate(
    date_from: Annotated[str, typer.Option("--from", help="first local day, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last local day (included)")],
    synth: Annotated[bool, typer.Option("--synth", help="replay the synthetic history (capctl synth)")] = False,
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
    surprise: Annotated[
        list[Path] | None,
        typer.Option(
            "--surprise",
            help="with --synth: event file the demand follows and the plan's calendar does not (a day the "
            "calendar gets wrong; repeatable)",
        ),
    ] = None,
    eur_per_vcpu_h: Annotated[float, typer.Option("--eur-per-vcpu-h", help="price of a requested vCPU-hour")] = 0.04,
    eur_per_gib_h: Annotated[float, typer.Option("--eur-per-gib-h", help="price of a requested GiB-hour")] = 0.005,
    refit: Annotated[
        str, typer.Option("--refit", help="weekly: replay the operator's weekly refit (validated, as `run` does)")
    ] = "never",
    slo_utilisation: Annotated[
        float, typer.Option("--slo-utilisation", help="share of saturation where latency leaves the SLO")
    ] = 0.9,
    hpa_limit_ratio: Annotated[
        float, typer.Option("--hpa-limit-ratio", help="CPU limit / request of the HPA's pods (1: capped at 100 %)")
    ] = 1.0,
    hpa_metrics_lag: Annotated[str, typer.Option("--hpa-metrics-lag", help="age of the HPA's metrics")] = "1m",
    nowcast_most: Annotated[
        float | None,
        typer.Option("--nowcast-most", help="the operator's nowcast_most (default: operator.yaml's; 1: no nowcast)"),
    ] = None,
    output: OutputOpt = Output.table,
    plot: Annotated[Path | None, typer.Option("--plot", dir_okay=False, help="write a PNG")] = None,
    model: ModelOpt = None,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    prometheus: PrometheusOptions | None = None,
    quiet: QuietOpt = False,
) -> None:
    """Replay demand through hpa, cron, static, capctl and oracle with the same capacity model and delay."""
    from capacity.calendar.types import check_supported
    from capacity.common.timegrid import parse_date
    from capacity.learning.refit import REFIT_CHOICES
    from capacity.learning.window import days_between, parse_duration_s
    from capacity.policy.bundle import load_policies
    from capacity.policy.prices import Prices
    from capacity.present.figure_file import check_plot_path
    from capacity.present.tables import dump
    from capacity.simulate.delay import delay_steps
    from capacity.simulate.hpa import HpaSettings
    from capacity.simulate.report import report_dict, report_table
    from capacity.simulate.run import FOCUS_DAYS, replay
    from capacity.simulate.run import sweep as run_sweep
    from capacity.simulate.scenario import Scenario, build
    from capacity.simulate.trace import DemandTrace, history_trace, synth_trace

    if synth == (prometheus is not None):
        raise InputError("give exactly one demand source: --synth or --prometheus-url URL")
    if surprise and not synth:
        raise InputError("--surprise draws a synthetic demand that the plan did not expect: give --synth too")
    first, last = parse_date(date_from), parse_date(date_to)
    days_between(first, last)
    step_s = parse_duration_s(resolution)
    if step_s not in (60, 300):
        raise InputError(f"--resolution must be 1m or 5m, got {resolution!r}")
    startup_s = parse_duration_s(startup) if startup.strip() not in ("0", "0s", "0m") else 0
    delay_steps(startup_s, step_s)
    delays = [parse_duration_s(d) for d in sweep.split(",") if d.strip()]
    if refit not in REFIT_CHOICES:
        raise InputError(f"--refit must be one of {', '.join(REFIT_CHOICES)}, got {refit!r}")
    if not 0 < slo_utilisation <= 1:
        raise InputError(f"--slo-utilisation must be in (0, 1], got {slo_utilisation}")
    if hpa_limit_ratio < 1:
        raise InputError(
            f"--hpa-limit-ratio must be >= 1 (a CPU limit is never below the request), got {hpa_limit_ratio}"
        )
    lag_s = parse_duration_s(hpa_metrics_lag) if hpa_metrics_lag.strip() not in ("0", "0s", "0m") else 0
    hpa_settings = HpaSettings(metrics_lag_s=lag_s, limit_ratio=hpa_limit_ratio)
    if plot is not None:
        check_plot_path(plot)
    pol = load_policies(policies)
    settings = _operator_settings(pol.root, nowcast_most)
    rates, pol = load_rates(pol, model)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    demand_calendar = load_calendar([*(events or []), *surprise]) if surprise else calendar
    for d in (first, last):
        check_supported(calendar, d)
    prices = Prices(eur_per_vcpu_hour=eur_per_vcpu_h, eur_per_gib_hour=eur_per_gib_h)
    replayed = None
    with progress(quiet) as bar:
        trace: DemandTrace
        if synth:
            bar.update("demand", 0, 1)
            trace = synth_trace(demand_calendar, plaques, first, last, step_s, seed, generator)
            bar.update("demand", 1, 1)
            if refit == "weekly":
                from capacity.simulate.refit import history_first
                from capacity.simulate.trace import synth_history

                h_first = max(history_first(first), calendar.supported_range[0])
                refit_history = synth_history(demand_calendar, plaques, h_first, last, seed, generator)
        else:
            from capacity.learning.history import fetch_history

            assert prometheus is not None
            source = prometheus.source()
            if refit == "weekly":
                from capacity.simulate.refit import history_first

                h_first = max(history_first(first), calendar.supported_range[0])
            else:
                h_first = first
            refit_history = fetch_history(
                source,
                prometheus.queries,
                plaques,
                h_first,
                last,
                300,
                with_components=False,
                on_progress=bar.callback("fetching"),
            )
            trace = history_trace(refit_history, plaques, first, last, step_s)
        plan_rates: Any = rates
        if refit == "weekly":
            from capacity.simulate.refit import replay_refits

            replayed = replay_refits(
                refit_history, calendar, plaques, rates, first, last, on_progress=bar.callback("refits")
            )
            plan_rates = replayed.rates_for
        scenario = build(
            trace,
            first,
            last,
            pol,
            calendar,
            plan_rates,
            settings=settings,
            on_progress=bar.callback("operator"),
            startup_s=startup_s,
        )
        bar.update("replay", 0, 1 + len(delays))
        results, desired = replay(
            scenario,
            startup_s,
            prices=prices,
            focus_days=FOCUS_DAYS,
            settings=hpa_settings,
            slo_utilisation=slo_utilisation,
        )
        if plot is None:
            del desired  # a season of every strategy's replicas: hundreds of MB
        bar.update("replay", 1, 1 + len(delays))
        fits = [d for d in delays if d % step_s == 0]

        def rebuild(delay_s: int) -> Scenario:
            bar.update("replay", 1 + fits.index(delay_s), 1 + len(delays))
            if delay_s == startup_s:
                return scenario
            return build(trace, first, last, pol, calendar, plan_rates, settings=settings, startup_s=delay_s)

        points = (
            run_sweep(rebuild, fits, prices=prices, settings=hpa_settings, slo_utilisation=slo_utilisation)
            if fits
            else ()
        )
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
        "slo_utilisation": slo_utilisation,
        "hpa": {"target": "averageUtilization = target_utilisation", "metrics_lag_s": lag_s,
                "limit_ratio": hpa_limit_ratio},
        "hpa_notes": [
            f"hpa: averageUtilization = each component's target_utilisation (no forecast headroom), metrics "
            f"{lag_s} s old (metrics-server){_lag_note(lag_s, step_s)}, a pod reports at most "
            f"{hpa_limit_ratio:g} × its request (--hpa-limit-ratio)"
        ],
        "refit": replayed.summary() if replayed is not None else {"refits": 0, "mode": refit},
        "nowcast_most": settings.nowcast_most,
        "surprise": [str(p) for p in surprise or ()],
    }  # fmt: skip
    if output is Output.table:
        typer.echo(report_table(meta, results, points))
        for note in meta["notes"]:
            typer.echo(f"note: {note}")
    else:
        typer.echo(dump(report_dict(meta, results, points), output.value))
    if plot is not None:
        from capacity.present.figure_file import save_figure
        from capacity.present.simulate_plot import replay_figure

        title = f"capctl simulate {first} to {last}, start-up {startup_s // 60} min"
        save_figure(replay_figure(scenario, results, desired, startup_s // step_s, title), plot, dpi=90)


def _lag_note(lag_s: int, step_s: int) -> str:
    return f" (rounded down to {lag_s // step_s * step_s} s at this step)" if lag_s % step_s else ""


def _operator_settings(root: str, nowcast_most: float | None) -> OperatorSettings:
    """The operator's settings the replay runs under: `operator.yaml` beside the policies, as `run` reads
    them, with `--nowcast-most` in place of the file's when given."""
    from dataclasses import replace

    from capacity.operator.reload import SETTINGS_FILE, load_settings

    settings = load_settings(Path(root) / SETTINGS_FILE)
    if nowcast_most is None:
        return settings
    try:  # OperatorSettings checks its own ranges, as for operator.yaml
        return replace(settings, nowcast_most=nowcast_most)
    except ValueError as exc:
        raise InputError(f"--nowcast-most: {exc}") from None
