"""Hot reload of the operator's configuration: a broken file keeps the last good version.

The files are mounted from ConfigMaps, which the kubelet swaps atomically but at any moment, and edited
by people. Each part (policies, operator settings, calendar events, usage model) is fingerprinted by
content every tick; a changed part is reloaded on its own, and if it fails to load, the last good
version stays in force and the error is reported once per broken content (the controller turns it into
an Event and a metric). Only a part that never loaded is fatal (at start-up).

Policies go finer (`PoliciesPart`): when the new bundle does not load, it is rebuilt file by file — a
mandate file that is broken or was removed keeps its last good version, so only the plaques it funds
stay on their old limits, while the other files' changes take effect. Reported like a failed reload.
Only when even that bundle fails (a broken topology, a conflict between files) does the whole last good
bundle stay.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from capacity.calendar.overlays import event_files
from capacity.calendar.types import Calendar
from capacity.common.errors import CapctlError, ConfigError
from capacity.common.files import read_bounded
from capacity.common.yamlio import load_yaml_file
from capacity.learning.model_file import Model, rates_for_plaques, read_model
from capacity.operator.decide import MAX_WINDOW_S, DecideSettings
from capacity.planning.demand import UsageRates, default_rates
from capacity.planning.nowcast import DEFAULT_MOST
from capacity.policy.bundle import MANDATES_DIR, TOPOLOGY_FILE, Policies, load_policies, mandate_paths, policy_files
from capacity.policy.mandates.loader import read_mandate
from capacity.policy.prices import PRICES_FILE

log = logging.getLogger("capctl.reload")
T = TypeVar("T")

SETTINGS_FILE = "operator.yaml"
#: Every setting with its accepted range (inclusive; max_step_down excludes 0) and what it means, for the
#: one-line error. A NaN or an infinity is refused everywhere: `.nan` would disable the window, `.inf`
#: would make every tick plan an endless horizon.
SETTINGS_RANGES: dict[str, tuple[float, float, str]] = {
    "stabilisation_window_s": (0.0, MAX_WINDOW_S, "seconds a scale-down waits for the window's peak"),
    "max_step_down": (0.0, 1.0, "the share of the replicas removed per tick at most, in (0, 1]"),
    "anticipation_s": (0.0, 6 * 3600.0, "seconds read ahead of the lead time"),
    "unready_after_failed_ticks": (1.0, 100.0, "failed ticks in a row before /readyz fails and the Lease is given up"),
    "nowcast_most": (1.0, 2.0, "the most this morning's users may raise the rest of the day (1: off)"),
}
SETTINGS_KEYS = tuple(SETTINGS_RANGES)


@dataclass(frozen=True)
class OperatorSettings:
    """Pacing of the operator (optional `operator.yaml` beside topology.yaml).

    `anticipation_s`: the plan is read over [now, now + lead time + anticipation]. Raising half an hour
    early costs little; missing the 7-8 h rush because a failover or an API outage swallowed the few
    ticks between the pre-warm start and the rush costs a morning. Scale-down is paced by `decide`.

    `unready_after_failed_ticks`: after that many failed ticks in a row (every component failed, or
    nothing could be planned), /readyz fails and the leader gives the Lease up so the standby tries.

    `nowcast_most`: from noon, a plaque whose 9-12 h users ran above the forecast has the rest of its day
    planned higher, by at most this factor (capacity/planning/nowcast.py); 1 switches it off.
    """

    decide: DecideSettings = field(default_factory=DecideSettings)
    anticipation_s: float = 1800.0
    unready_after_failed_ticks: int = 3
    nowcast_most: float = DEFAULT_MOST

    def __post_init__(self) -> None:  # built in code too (tests, wiring): the same ranges as the file
        for key, value in (
            ("anticipation_s", self.anticipation_s),
            ("unready_after_failed_ticks", self.unready_after_failed_ticks),
            ("nowcast_most", self.nowcast_most),
        ):
            low, high, meaning = SETTINGS_RANGES[key]
            if not low <= value <= high:
                raise ValueError(f"{key} must be in [{low:g}, {high:g}], found {value!r}: {meaning}")


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
    partial: bool = False  # loaded, but some files kept their last good version (said in `error`)


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
        self.partial: CapctlError | None = None  # set by a load that kept some files at their last good

    def poll(self) -> tuple[bool, CapctlError | None]:
        """(changed, new error). Raises when the part has never loaded."""
        files = self.files()
        fp = fingerprint(files)
        if fp in (self.good, self.bad):
            return False, None
        self.partial = None
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
        if self.partial is not None:
            log.error("configuration partly loaded", extra={"fields": {"part": self.name, "error": str(self.partial)}})
        return True, self.partial


class PoliciesPart(Part[Policies]):
    """The policy bundle, with a last good version per mandate file (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        super().__init__("policies", lambda: policy_files(root), self._load)
        self.root = root
        self._good_files: dict[str, bytes] = {}  # mandate file name → content of the last good bundle

    def _load(self, _files: list[Path]) -> Policies:
        contents = {p.name: p.read_bytes() for p in mandate_paths(self.root) if p.is_file()}
        try:
            policies = load_policies(self.root)
        except ConfigError as exc:
            if not self._good_files:
                raise
            return self._salvage(exc)
        self._good_files = contents
        return policies

    def _salvage(self, error: ConfigError) -> Policies:
        """The new files where each loads on its own, the last good version of the others."""
        kept: list[str] = []
        with tempfile.TemporaryDirectory(prefix="capctl-policies-") as tmp:
            work = Path(tmp)
            for name in (TOPOLOGY_FILE, PRICES_FILE):
                if (self.root / name).is_file():
                    shutil.copyfile(self.root / name, work / name)
            (work / MANDATES_DIR).mkdir()
            names = set(self._good_files) | {p.name for p in mandate_paths(self.root)}
            for name in sorted(names):
                path = self.root / MANDATES_DIR / name
                current = path.read_bytes() if path.is_file() else None
                if current is not None and (
                    current == self._good_files.get(name) or not any(p.is_error for p in read_mandate(path).problems)
                ):
                    (work / MANDATES_DIR / name).write_bytes(current)
                elif name in self._good_files:
                    (work / MANDATES_DIR / name).write_bytes(self._good_files[name])
                    kept.append(f"{MANDATES_DIR}/{name} ({'removed' if current is None else 'invalid'})")
                else:
                    kept.append(f"{MANDATES_DIR}/{name} (new and invalid: left out)")
            try:
                policies = load_policies(work)
            except ConfigError:
                raise error from None
        self.partial = ConfigError(
            f"{error}; last good version kept for {', '.join(kept)}: the plaques they fund keep their limits, "
            "the other changes are in force"
        )
        return replace(policies, root=str(self.root))


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
    for key, (low, high, meaning) in SETTINGS_RANGES.items():
        if key not in raw:
            continue
        v = raw[key]
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise doc.error((key,), f"expected a number, found {v!r} ({meaning})")
        if not low <= v <= high or (key == "max_step_down" and v == 0):  # also refuses NaN
            shown = "(0, 1]" if key == "max_step_down" else f"[{low:g}, {high:g}]"
            raise doc.error((key,), f"must be in {shown}, found {v!r}: {meaning}")
        if key == "unready_after_failed_ticks" and v != int(v):
            raise doc.error((key,), f"expected a whole number, found {v!r}")
        values[key] = float(v)
    anticipation = values.pop("anticipation_s", OperatorSettings.anticipation_s)
    failed = int(values.pop("unready_after_failed_ticks", OperatorSettings.unready_after_failed_ticks))
    most = values.pop("nowcast_most", OperatorSettings.nowcast_most)
    return OperatorSettings(
        decide=DecideSettings(**values),
        anticipation_s=anticipation,
        unready_after_failed_ticks=failed,
        nowcast_most=most,
    )


def load_calendar(files: Sequence[Path]) -> Calendar:
    from capacity.calendar import SchoolCalendar  # type: ignore[attr-defined,unused-ignore]

    calendar: Calendar = SchoolCalendar.load(list(files))
    return calendar


def newest_model(model: Path | None, refit_model: Path | None) -> list[Path]:
    """The model file in force: the operator's last accepted refit (`capctl run --refit weekly`) unless
    the configured `--model` is newer (someone shipped a model since), or the configured one alone."""
    if refit_model is None or not refit_model.is_file():
        return [model] if model else []
    if model is not None and model.is_file() and model.stat().st_mtime > refit_model.stat().st_mtime:
        return [model]
    return [refit_model]


class ConfigSource:
    """The operator's files, reloaded when their content changes."""

    def __init__(
        self,
        policies_dir: Path,
        events: Sequence[Path] = (),
        model: Path | None = None,
        *,
        calendar_loader: Callable[[Sequence[Path]], Calendar] = load_calendar,
        refit_model: Path | None = None,
    ) -> None:
        pol = policies_dir
        self.policies: Part[Policies] = PoliciesPart(pol)
        self.settings: Part[OperatorSettings] = Part(
            "settings", lambda: [pol / SETTINGS_FILE], lambda files: load_settings(files[0])
        )
        self.calendar: Part[Calendar] = Part("events", lambda: event_files(events), calendar_loader)
        self.rates: Part[UsageRates | Model] = Part(
            "model",
            lambda: newest_model(model, refit_model),
            lambda files: read_model(files[0]) if files else default_rates(),
        )
        self.parts: tuple[Part[Any], ...] = (self.policies, self.settings, self.calendar, self.rates)
        self._config: Config | None = None

    def poll(self) -> tuple[Config, list[Reload]]:
        """The configuration in force, and what was reloaded (or failed to) since the last poll."""
        reloads: list[Reload] = []
        changed = False
        for part in self.parts:
            did, err = part.poll()
            changed = changed or did
            if did or err is not None:
                reloads.append(Reload(part.name, err, partial=did and err is not None))
        if self._config is None or changed:
            pol, settings, cal, rates = self.policies.value, self.settings.value, self.calendar.value, self.rates.value
            assert pol is not None and settings is not None and cal is not None and rates is not None
            version = hashlib.sha256("".join(p.good or "" for p in self.parts).encode()).hexdigest()[:16]
            plan_rates, pol = rates_for_plaques(rates, pol)
            self._config = Config(policies=pol, calendar=cal, rates=plan_rates, settings=settings, version=version)
        return self._config, reloads
