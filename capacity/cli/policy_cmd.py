"""`capctl policy validate | explain | diff`: mandates as their authors see them, in French.

validate: every problem of the policy files, with file:line:column, field, value found, what is
          expected and an example (French by default, `--lang en`); exit 1 when anything is wrong.
explain:  what one collectivité's mandate did to the plan of a day: hours at floor or ceiling, euros
          spent, users kept out by quotas and why.
diff:     how an edited mandate (or bundle) changes cost, capacity and shortfall over a period.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from capacity.cli import Lang, app
from capacity.cli.common import EventsOpt, ModelOpt, Output, OutputOpt, PoliciesOpt, load_calendar, load_rates
from capacity.cli.help import Group
from capacity.cli.ui import policy_lang

policy_app = typer.Typer(
    name="policy",
    help="Check and explain the collectivités' mandates (policies/mandats/*.yaml).",
    no_args_is_help=True,
    cls=Group,
)
app.add_typer(policy_app, name="policy")


StepOpt = Annotated[str, typer.Option("--step", help="slot length: 1h (default), 30m, 15m or 5m")]


@policy_app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="policies folder, mandats folder or mandate files")] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="language of the messages: fr (default) or en")] = None,
    output: OutputOpt = Output.table,
    policies: PoliciesOpt = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            "--now",
            help="check which mandates are in force on this day (YYYY-MM-DD or ISO time); default: today",
        ),
    ] = None,
) -> None:
    """Check mandate files (structure, meaning, and against topology, prices and each other). Exit 1 if wrong.

    Also warns about mandates expired or not yet in force on --today, and parts of a plaque left without
    any mandate in force within the next days (warnings do not change the exit code).
    """
    from datetime import datetime

    from capacity.common.timegrid import PARIS, parse_day
    from capacity.policy.bundle import default_policies_dir, read_paths
    from capacity.policy.mandates.problems import as_dict, render, summary
    from capacity.present.tables import dump

    words = policy_lang(lang.value if lang else None)
    day = parse_day(today, "--today") if today else datetime.now(PARIS).date()
    bundle = read_paths(paths or [], policies or default_policies_dir(), today=day)
    problems = sorted(bundle.problems, key=lambda p: (p.path, p.line or 0, p.column or 0))
    if output is Output.table:
        for p in problems:
            typer.echo(render(p, words))
            typer.echo("")
        typer.echo(summary(problems, len(bundle.files), words))
    else:
        data = {
            "ok": bundle.ok,
            "files": list(bundle.files),
            "problems": [as_dict(p, words) for p in problems],
        }
        typer.echo(dump(data, output.value))
    if not bundle.ok:
        raise typer.Exit(1)


@policy_app.command()
def explain(
    collectivite: Annotated[str, typer.Option("--collectivite", help="mandate id, e.g. region-grand-est")],
    date: Annotated[str, typer.Option("--date", help="day, YYYY-MM-DD")],
    step: StepOpt = "1h",
    output: OutputOpt = Output.table,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    model: ModelOpt = None,
) -> None:
    """What a collectivité's mandate did to the plan that day, in plain French."""
    from capacity.calendar.types import check_supported
    from capacity.common.timegrid import parse_date, parse_step
    from capacity.planning.budget import plan_month
    from capacity.planning.report import explain_dict
    from capacity.policy.bundle import load_policies
    from capacity.policy.mandates.words import explain_text
    from capacity.present.tables import dump

    day = parse_date(date)
    step_s = parse_step(step)
    pol = load_policies(policies)
    mandate = pol.mandate(collectivite, day) if _in_force(pol, collectivite, day) else pol.mandate(collectivite)
    calendar = load_calendar(events)
    check_supported(calendar, day)
    rates, pol = load_rates(pol, model)
    month = plan_month(day, step_s, pol, calendar, rates)
    data = explain_dict(mandate, month.day(day), month.budgets, pol.files)
    typer.echo(explain_text(data) if output is Output.table else dump(data, output.value))


@policy_app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="policies folder or mandate file before the change")],
    new: Annotated[Path, typer.Argument(help="policies folder or mandate file after the change")],
    date_from: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")],
    step: StepOpt = "1h",
    output: OutputOpt = Output.table,
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    model: ModelOpt = None,
) -> None:
    """How a change of mandate changes cost, capacity and shortfall over a period, per collectivité."""
    from capacity.calendar.types import check_supported
    from capacity.common.errors import InputError
    from capacity.common.timegrid import parse_date, parse_step
    from capacity.planning.plans import plan_range
    from capacity.planning.report import diff_rows, period_totals
    from capacity.policy.mandates.words import diff_text
    from capacity.present.tables import dump

    first, last = parse_date(date_from), parse_date(date_to)
    if last < first:
        raise InputError(f"--to {last} is before --from {first}")
    step_s = parse_step(step)
    calendar = load_calendar(events)
    check_supported(calendar, first, last)
    bundles = [load_rates(_bundle(p, policies), model) for p in (old, new)]
    totals = [period_totals(list(plan_range(first, last, step_s, pol, calendar, rates))) for rates, pol in bundles]
    data: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "old": str(old),
        "new": str(new),
        "old_sha256": bundles[0][1].sha256,
        "new_sha256": bundles[1][1].sha256,
        "collectivites": diff_rows(totals[0], totals[1]),
    }
    typer.echo(diff_text(data) if output is Output.table else dump(data, output.value))


def _bundle(path: Path, root: Path | None) -> Any:
    """A policies folder as is, or the default bundle with one mandate file swapped in."""
    from capacity.common.errors import InputError
    from capacity.policy.bundle import TOPOLOGY_FILE, default_policies_dir, read_bundle
    from capacity.policy.mandates.problems import to_error

    if path.is_dir() and (path / TOPOLOGY_FILE).exists():
        bundle = read_bundle(path)
    elif path.is_file():
        bundle = read_bundle(root or default_policies_dir(), [path])
    else:
        raise InputError(f"{path}: not a policies folder (with topology.yaml) nor a mandate file")
    if bundle.policies is None:
        raise to_error(bundle.problems)
    return bundle.policies


def _in_force(pol: Any, mandate_id: str, day: Any) -> bool:
    return any(m.id == mandate_id and m.validity.contains(day) for m in pol.mandates)
