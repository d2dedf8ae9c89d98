"""Help people can read at 80 columns: whole command summaries, flags without a type, plain metavars.

typer's defaults cut option names and summaries to fit a rich table and show every flag as `<bool>`
and a repeatable path as `<list[Path]>`; click's plain formatter wraps instead of cutting, and the
metavars set here say what to type (DATE, FILE, N, a|b|c).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperGroup, TyperOption

_WORDS = {"date": "DATE", "from": "DATE", "to": "DATE", "month": "YYYY-MM", "collectivite": "ID", "plaque": "ID"}


class Group(TyperGroup):
    """A command group that lists each command with its whole first sentence, wrapped, never cut."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def metavar(param: Any) -> str | None:
    """What to type after an option, in words (None for flags and arguments)."""
    if not isinstance(param, TyperOption) or param.is_flag or param.count:
        return None
    long = next((o.lstrip("-") for o in param.opts if o.startswith("--")), "")
    kind: Any = param.type_descriptor.annotation
    if get_origin(kind) is list:
        (kind,) = get_args(kind)
    info = param.type_descriptor.parameter_info
    if isinstance(kind, type) and issubclass(kind, Enum):
        return "|".join(str(m.value) for m in kind)
    if long in _WORDS:
        return _WORDS[long]
    if kind is Path:
        return "DIR" if not info.file_okay else "FILE" if not info.dir_okay else "PATH"
    if kind is int:
        return "N"
    if kind is float:
        return "NUMBER"
    return "TEXT"


def tidy(command: Any) -> Any:
    """Set readable metavars on every option of `command` and its subcommands (in place)."""
    for param in command.params:
        word = metavar(param)
        if word is not None and param.metavar is None:
            param.metavar = word
        if isinstance(param, TyperArgument) and param.metavar is None:
            # "PATH" (usage: "[PATH]...") rather than typer's "paths... <list[Path]>"
            param.metavar = param.name.upper().removesuffix("S")
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)
    return command
