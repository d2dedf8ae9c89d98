"""How capctl talks to the person at the terminal: language, quietness, progress bars.

Set once per run by the global options (`capctl --lang fr --quiet …`) and read by the commands.
One language per output: French when `--lang fr` or the locale (LC_ALL, LC_MESSAGES, LANG = fr_*)
says so, English otherwise; the policy commands, written for collectivité contacts, default to French.
Progress bars go to stderr, only on a terminal and never with `--quiet`, so pipes and logs stay clean.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer

LANGS = ("fr", "en")


@dataclass
class Settings:
    """The run's global options (mutable: set once by the app callback, before any command runs)."""

    lang: str | None = None
    quiet: bool = False


SETTINGS = Settings()

#: `--quiet` on the long commands too (`capctl synth … --quiet`), not only before the command name.
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar (it only shows on a terminal)")]


def locale_lang(env: Mapping[str, str] | None = None) -> str | None:
    """'fr' or 'en' from the POSIX locale variables (first one set wins), None when they say nothing."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return None


def lang(default: str = "en", env: Mapping[str, str] | None = None) -> str:
    """The language of this run's output: --lang, else the locale when French, else `default`."""
    if SETTINGS.lang is not None:
        return SETTINGS.lang
    return "fr" if locale_lang(env) == "fr" else default


def policy_lang(explicit: str | None = None) -> str:
    """Policy commands: an explicit --lang, else French (their readers are collectivité contacts)."""
    return explicit or SETTINGS.lang or "fr"


class Progress:
    """Progress of named phases; does nothing when there is no bar (pipe, CI, --quiet)."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar
        self._tasks: dict[str, Any] = {}

    def update(self, phase: str, done: int, total: int) -> None:
        if self._bar is None:
            return
        if phase not in self._tasks:
            self._tasks[phase] = self._bar.add_task(phase, total=total)
        self._bar.update(self._tasks[phase], completed=done, total=total)

    def callback(self, phase: str) -> Callable[[int, int], None]:
        return lambda done, total: self.update(phase, done, total)


@contextmanager
def progress(quiet: bool = False) -> Iterator[Progress]:
    """A progress bar on stderr (typer's rich), only on a terminal and without --quiet (global or `quiet`)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    if quiet or SETTINGS.quiet or not console.is_terminal:
        yield Progress(None)
        return
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=console, transient=True) as bar:
        yield Progress(bar)
