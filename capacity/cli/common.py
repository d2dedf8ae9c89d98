"""Options and loaders shared by the commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capacity.common.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from capacity.calendar import SchoolCalendar
    from capacity.planning.demand import UsageRates
    from capacity.policy.bundle import Policies

    RatesInput = UsageRates | Mapping[str, UsageRates]


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table, json or yaml")]
PoliciesOpt = Annotated[
    Path | None,
    typer.Option("--policies", help="policies folder (default: $CAPCTL_POLICIES or the shipped one)"),
]
ModelOpt = Annotated[
    Path | None, typer.Option("--model", dir_okay=False, help="fitted model file (`capctl fit`); default: prior")
]
EventsOpt = Annotated[
    list[Path] | None,
    typer.Option("--events", help="extra calendar event file or folder (repeatable; later ones win)"),
]


def event_files(paths: list[Path] | None) -> list[Path]:
    """Expand folders into their *.yaml files, in order."""
    out: list[Path] = []
    for p in paths or []:
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"event file or folder {p} not found")
    return out


def load_calendar(events: list[Path] | None) -> SchoolCalendar:
    from capacity.calendar import SchoolCalendar

    return SchoolCalendar.load(event_files(events))


def load_rates(policies: Policies, model: Path | None = None) -> tuple[RatesInput, Policies]:
    """Usage rates to plan with, and the policies they go with.

    No model: the shipped prior, shared by every plaque. A model file from `capctl fit`: rates per
    plaque (shared rates × the plaque's level and state factors) and, in the policies, the fitted
    requests per user and capacity per replica of each component.
    """
    if model is None:
        from capacity.planning.demand import default_rates

        return default_rates(), policies
    from capacity.learning.model_file import load_model

    fitted = load_model(model)
    return fitted.rates_by_plaque([p.id for p in policies.topology.plaques]), fitted.apply(policies)
