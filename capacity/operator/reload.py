"""Hot reload of the operator's configuration: a broken file keeps the last good version.

The files are mounted from ConfigMaps, which the kubelet swaps atomically but at any moment, and edited
by people. Each part (policies, operator settings, calendar events, usage model) is fingerprinted by
content every tick; a changed part is reloaded on its own, and if it fails to load, the last good
version stays in force and the error is reported once per broken content (the controller turns it into
an Event and a metric). Only a part that never loaded is fatal (at start-up).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from capacity.calendar.overlays import event_files
from capacity.calendar.types import Calendar
from capacity.common.errors import CapctlError, ConfigError
from capacity.common.files import read_bounded
from capacity.common.yamlio import load_yaml_file
from capacity.learning.model_file import Model, rates_for_plaques, read_model
from capacity.operator.decide import DecideSettings
from capacity.planning.demand import UsageRates, default_rates
from capacity.policy.bundle import Policies, load_policies, policy_files

log = logging.getLogger("capctl.reload")
T = TypeVar("T")

SETTINGS_FILE = "operator.yaml"
SETTINGS_KEYS = ("stabilisation_window_s", "max_step_down", "anticipation_s")


@dataclass(frozen=True)
class OperatorSettings:
    """Pacing of the operator (optional `operator.yaml` beside topology.yaml).

    `anticipation_s`: the plan is read over [now, now + lead time + anticipation]. Raising half an hour
    early costs little; missing the 7-8 h rush because a failover or an API outage swallowed the few
    ticks between the pre-warm start and the rush costs a morning. Scale-down is paced by `decide`.
    """

    decide: DecideSettings = field(default_factory=DecideSettings)
    anticipation_s: float = 1800.0


@dataclass(frozen=True)
class Config:
    """Everything a tick needs from files. `version` changes whenever any part changed."""

    policies: Policies
    calendar: Calendar
    rates: UsageRates | Mapping[str, UsageRates]  # shared, or per plaque from a fitted model
    settings: OperatorSettings
    version: str


@dataclass(frozen=True)
class Reload:
    """A part that was (re)loaded this poll, or that failed to (`error`: the last good one stays)."""

    part: str
    error: CapctlError | None = None


#: Above every loader's own limit (policies 1 MB, model 5 MB): a larger file is refused when loaded anyway.
FINGERPRINT_MAX_BYTES = 16_000_000


def fingerprint(files: Sequence[Path]) -> str:
    """Content hash of `files` (name and bytes); unreadable files hash as such, loading will say why."""
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p).encode())
        try:  # bounded, regular files only: a FIFO or /dev/zero among the policies must not hang the loop
            digest.update(read_bounded(p, FINGERPRINT_MAX_BYTES))
        except ConfigError as exc:
            digest.update(f"<unreadable: {exc.message}>".encode())
    return digest.hexdigest()


class Part(Generic[T]):
    """One reloadable piece: which files it reads, and how to load them."""

    def __init__(self, name: str, files: Callable[[], list[Path]], load: Callable[[list[Path]], T]) -> None:
        self.name = name
        self.files = files
        self.load = load
        self.value: T | None = None
        self.good: str | None = None
        self.bad: str | None = None

    def poll(self) -> tuple[bool, CapctlError | None]:
        """(changed, new error). Raises when the part has never loaded."""
        files = self.files()
        fp = fingerprint(files)
        if fp in (self.good, self.bad):
            return False, None
        try:
            value = self.load(files)
        except CapctlError as exc:
            if self.value is None:
                raise
            self.bad = fp
            log.error(
                "configuration reload failed; keeping the last good version",
                extra={"fields": {"part": self.name, "error": str(exc)}},
            )
            return False, exc
        self.value, self.good, self.bad = value, fp, None
        log.info("configuration loaded", extra={"fields": {"part": self.name, "sha256": fp[:12]}})
        return True, None


def load_settings(path: Path) -> OperatorSettings:
    """`operator.yaml` (optional) in the policies folder."""
    if not path.is_file():
        return OperatorSettings()
    doc = load_yaml_file(path)
    raw = doc.data or {}
    if not isinstance(raw, dict):
        raise doc.error((), "expected a mapping of settings")
    unknown = set(raw) - set(SETTINGS_KEYS)
    if unknown:
        raise doc.error((sorted(unknown)[0],), f"unknown setting; known: {', '.join(SETTINGS_KEYS)}")
    values: dict[str, float] = {}
    for key in SETTINGS_KEYS:
        if key in raw:
            v = raw[key]
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise doc.error((key,), f"expected a number >= 0, found {v!r}")
            values[key] = float(v)
    if not 0 < values.get("max_step_down", 0.25) <= 1:
        raise doc.error(("max_step_down",), "must be in (0, 1]: the share of the replicas removed per tick at most")
    anticipation = values.pop("anticipation_s", OperatorSettings.anticipation_s)
    return OperatorSettings(decide=DecideSettings(**values), anticipation_s=anticipation)


def load_calendar(files: Sequence[Path]) -> Calendar:
    from capacity.calendar import SchoolCalendar  # type: ignore[attr-defined,unused-ignore]

    calendar: Calendar = SchoolCalendar.load(list(files))
    return calendar


class ConfigSource:
    """The operator's files, reloaded when their content changes."""

    def __init__(
        self,
        policies_dir: Path,
        events: Sequence[Path] = (),
        model: Path | None = None,
        *,
        calendar_loader: Callable[[Sequence[Path]], Calendar] = load_calendar,
    ) -> None:
        pol = policies_dir
        self.policies: Part[Policies] = Part(
            "policies",
            lambda: policy_files(pol),
            lambda _files: load_policies(pol),
        )
        self.settings: Part[OperatorSettings] = Part(
            "settings", lambda: [pol / SETTINGS_FILE], lambda files: load_settings(files[0])
        )
        self.calendar: Part[Calendar] = Part("events", lambda: event_files(events), calendar_loader)
        self.rates: Part[UsageRates | Model] = Part(
            "model",
            lambda: [model] if model else [],
            lambda files: read_model(files[0]) if files else default_rates(),
        )
        self.parts: tuple[Part[Any], ...] = (self.policies, self.settings, self.calendar, self.rates)
        self._config: Config | None = None

    def poll(self) -> tuple[Config, list[Reload]]:
        """The configuration in force, and what was reloaded (or failed to) since the last poll."""
        reloads: list[Reload] = []
        for part in self.parts:
            did, err = part.poll()
            if did or err is not None:
                reloads.append(Reload(part.name, err))
        if self._config is None or any(r.error is None for r in reloads):
            pol, settings, cal, rates = self.policies.value, self.settings.value, self.calendar.value, self.rates.value
            assert pol is not None and settings is not None and cal is not None and rates is not None
            version = hashlib.sha256("".join(p.good or "" for p in self.parts).encode()).hexdigest()[:16]
            plan_rates, pol = rates_for_plaques(rates, pol)
            self._config = Config(policies=pol, calendar=cal, rates=plan_rates, settings=settings, version=version)
        return self._config, reloads
