"""`capctl synth`: a deterministic synthetic ENT history in OpenMetrics, for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, PoliciesOpt, load_calendar
from capacity.cli.ui import QuietOpt, progress


@app.command()
def synth(
    date_from: Annotated[str, typer.Option("--from", help="first local day, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last local day (included)")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="OpenMetrics file to write")],
    plaque: Annotated[list[str] | None, typer.Option("--plaque", help="plaque id (repeatable; default all)")] = None,
    step: Annotated[str, typer.Option("--step", help="scrape interval: 5m, 15m, 30m or 1h")] = "5m",
    seed: Annotated[int, typer.Option("--seed", help="same seed, same history")] = 20200316,
    metrics: Annotated[str, typer.Option("--metrics", help="comma list of sessions, requests, cpu")] = (
        "sessions,requests,cpu"
    ),
    components_from: Annotated[
        str | None, typer.Option("--components-from", help="first day with requests/CPU (default: --from)")
    ] = None,
    generator: Annotated[
        str, typer.Option("--generator", help="default (synth.py) or independent (synth_independent.py)")
    ] = "default",
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write synthetic history (noise, gaps, counter resets, drift, an incident) for the shipped plaques.

    Load it into Prometheus with `promtool tsdb create-blocks-from openmetrics FILE DATA_DIR`.
    """
    from capacity.calendar.types import check_supported
    from capacity.common.files import check_writable
    from capacity.common.timegrid import parse_date, parse_step
    from capacity.learning.generators import generator as pick_generator
    from capacity.learning.openmetrics import write_openmetrics
    from capacity.learning.synth import SynthOptions
    from capacity.policy.bundle import load_policies

    generate = pick_generator(generator)
    first, last = parse_date(date_from), parse_date(date_to)
    check_writable(out, "--out file")
    options = SynthOptions(
        seed=seed,
        step_s=parse_step(step),
        metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()),
        components_from=parse_date(components_from) if components_from else None,
    )
    pol = load_policies(policies)
    plaques = [pol.topology.plaque(p) for p in plaque] if plaque else list(pol.topology.plaques)
    calendar = load_calendar(events)
    for d in (first, last):
        check_supported(calendar, d)
    with progress(quiet) as bar:
        bar.update("generating", 0, 1)
        history = generate(calendar, plaques, first, last, options)
        bar.update("generating", 1, 1)
        series = list(history.series())
        samples = write_openmetrics(series, out, on_progress=bar.callback("writing"))  # atomic: all or nothing
    typer.echo(
        f"wrote {samples:,} samples in {len(series)} series to {out} "
        f"({', '.join(p.id for p in plaques)}; {first} to {last}, every {options.step_s // 60} min, "
        f"{generator} generator)"
    )
