"""Options and loaders shared by the commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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


def load_calendar(events: list[Path] | None) -> SchoolCalendar:
    from capacity.calendar import SchoolCalendar
    from capacity.calendar.overlays import event_files

    return SchoolCalendar.load(event_files(events or []))


def load_rates(policies: Policies, model: Path | None = None) -> tuple[RatesInput, Policies]:
    """Usage rates to plan with, and the policies they go with.

    No model: the shipped prior, shared by every plaque. A model file from `capctl fit`: rates per
    plaque (shared rates × the plaque's level and state factors) and, in the policies, the fitted
    requests per user and capacity per replica of each component.
    """
    if model is None:
        from capacity.planning.demand import default_rates

        return default_rates(), policies
    from capacity.learning.model_file import rates_for_plaques, read_model

    return rates_for_plaques(read_model(model), policies)
