"""The policy bundle: topology + operator prices + mandates, read from one folder and checked together.

Cross-file rules (capacity/policy/mandates/crosscheck.py) keep every replica attributable: a mandate may
only fund a plaque whose topology lists it as a funder; at any date every segment of a plaque is funded
by exactly one mandate in force; every funder sets a ceiling for every component of the plaque.
Every plan records the hash of the bundle and of each file in it (audit trail).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from capacity.common.errors import ConfigError, InputError, french
from capacity.common.files import read_bounded
from capacity.common.yamlio import MAX_FILE_BYTES
from capacity.policy.mandates.crosscheck import cross_check
from capacity.policy.mandates.in_force import in_force_problems
from capacity.policy.mandates.loader import MandateFile, read_mandate
from capacity.policy.mandates.model import ComponentLimits, Funding, MaintenanceWindow, Mandate
from capacity.policy.mandates.problems import Problem, from_config_error, to_error
from capacity.policy.prices import PRICES_FILE, Prices, load_prices
from capacity.policy.topology import Plaque, Topology, load_topology

ENV_POLICIES = "CAPCTL_POLICIES"
TOPOLOGY_FILE = "topology.yaml"
MANDATES_DIR = "mandats"


@dataclass(frozen=True)
class Funder:
    """One mandate's part in one plaque: which segments (indices) it funds, and its limits there."""

    mandate: Mandate
    plaque: str
    segments: tuple[int, ...]

    @property
    def id(self) -> str:
        return self.mandate.id

    def limits(self, component: str) -> ComponentLimits:
        return self.mandate.limits[self.plaque][component]


@dataclass(frozen=True)
class Policies:
    topology: Topology
    mandates: tuple[Mandate, ...]
    sha256: str
    root: str
    prices: Prices | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # file name (relative to root) → sha256

    @cached_property
    def _fundings(self) -> Mapping[str, tuple[tuple[Mandate, Funding], ...]]:
        """Plaque id → (mandate, its funding) in mandate order, built once: `funders` is asked per plaque
        and day, and scanning every mandate's fundings each time is quadratic at a thousand plaques."""
        out: dict[str, list[tuple[Mandate, Funding]]] = {}
        for m in self.mandates:
            for plaque_id in dict.fromkeys(f.plaque for f in m.fundings):
                funding = m.funding_for(plaque_id)
                assert funding is not None
                out.setdefault(plaque_id, []).append((m, funding))
        return {k: tuple(v) for k, v in out.items()}

    def funders(self, plaque: Plaque, day: date | None = None) -> tuple[Funder, ...]:
        """Mandates funding `plaque` (in force on `day` when given), with the segments each funds."""
        out = []
        for m, funding in self._fundings.get(plaque.id, ()):
            if day is not None and not m.validity.contains(day):
                continue
            idx = tuple(i for i, s in enumerate(plaque.segments) if funding.covers(s.level, s.departement))
            out.append(Funder(mandate=m, plaque=plaque.id, segments=idx))
        return tuple(out)

    def mandate(self, mandate_id: str, day: date | None = None) -> Mandate:
        """The mandate of a collectivité (the one in force on `day` when given)."""
        found = [m for m in self.mandates if m.id == mandate_id and (day is None or m.validity.contains(day))]
        if not found:
            ids = sorted({m.id for m in self.mandates})
            when = f" en vigueur le {day}" if day else ""
            raise french(
                InputError(f"aucun mandat{when} pour la collectivité {mandate_id!r} ; collectivités : {', '.join(ids)}")
            )
        return found[-1]

    def maintenance_windows(
        self, plaque: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> tuple[MaintenanceWindow, ...]:
        """Maintenance windows (no scale-down) of the mandates, for the operator; filter by plaque and time.

        A window without a plaque applies to every plaque its mandate funds; the result names it.
        """
        out = []
        for m in self.mandates:
            for w in m.maintenance:
                plaques = [w.plaque] if w.plaque else [f.plaque for f in m.fundings]
                for p in plaques:
                    if plaque is not None and p != plaque:
                        continue
                    if (start is not None and w.end <= start) or (end is not None and w.start >= end):
                        continue
                    out.append(MaintenanceWindow(w.name, w.start, w.end, p, w.components, m.id))
        return tuple(sorted(out, key=lambda w: (w.start, w.plaque or "", w.mandate_id)))


@dataclass(frozen=True)
class Bundle:
    """Everything read from a policies folder, with every problem found (for `capctl policy validate`)."""

    policies: Policies | None
    problems: tuple[Problem, ...]
    files: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)


def default_policies_dir() -> Path:
    """$CAPCTL_POLICIES, else the shipped example policies (package data `capacity/policy/defaults`).

    In a source checkout `defaults` is a symlink to the repository's `policies/` folder, so both name the
    same files; a wheel carries a copy, so a plain `pip install` plans out of the box.
    """
    env = os.environ.get(ENV_POLICIES)
    if env:
        return Path(env)
    return (Path(__file__).parent / "defaults").resolve()


def mandate_paths(root: Path) -> list[Path]:
    return sorted((root / MANDATES_DIR).glob("*.yaml"))


def policy_files(root: Path) -> list[Path]:
    """Every file `load_policies(root)` reads (the prices file even when absent), for change detection."""
    return [root / TOPOLOGY_FILE, root / PRICES_FILE, *mandate_paths(root)]


def read_bundle(root: Path, mandate_files: Sequence[Path] | None = None, today: date | None = None) -> Bundle:
    """Read topology, prices and mandates under `root` and run every check; never raises for file problems.

    `mandate_files` replaces the mandates of `root` (files with the same name are swapped, others
    added): how an edited file is checked against the rest of the bundle before it is installed.
    With `today`, also warn about mandates not in force that day (see mandates/in_force.py).
    """
    if not root.is_dir():
        raise InputError(f"policies folder {root} not found; pass --policies DIR or set {ENV_POLICIES}")

    topo_path = root / TOPOLOGY_FILE
    problems: list[Problem] = []
    try:
        topology: Topology | None = load_topology(topo_path)
    except ConfigError as exc:
        topology = None
        problems.append(from_config_error(exc))
    prices_path = root / PRICES_FILE
    prices = None
    if prices_path.exists():
        try:
            prices = load_prices(prices_path)
        except ConfigError as exc:
            problems.append(from_config_error(exc))
    installed = {p.name: read_mandate(p) for p in mandate_paths(root)}
    drafts = {p.name: read_mandate(p) for p in mandate_files or []}
    for draft in drafts.values():
        for name in [n for n, r in installed.items() if _replaces(draft, r)]:
            del installed[name]
    chosen = {**installed, **drafts}
    paths = {name: Path(r.path) for name, r in chosen.items()}
    reads: list[MandateFile] = [chosen[name] for name in sorted(chosen)]
    for r in reads:
        problems.extend(r.problems)
    if topology is not None:
        problems.extend(cross_check(topology, prices, reads, topo_path))
        if today is not None:
            problems.extend(in_force_problems(topology, reads, topo_path, today))
    files = [topo_path, *([prices_path] if prices_path.exists() else []), *sorted(paths.values(), key=lambda p: p.name)]
    policies = None
    if topology is not None and not any(p.is_error for p in problems):
        hashes = {_relative(p, root): hashlib.sha256(read_bounded(p, MAX_FILE_BYTES)).hexdigest() for p in files}
        digest = hashlib.sha256()
        for name, sha in hashes.items():
            digest.update(f"{name}\0{sha}\n".encode())
        policies = Policies(
            topology=topology,
            mandates=tuple(r.mandate for r in reads if r.mandate is not None),
            sha256=digest.hexdigest(),
            root=str(root),
            prices=prices,
            files=hashes,
        )
    return Bundle(policies=policies, problems=tuple(problems), files=tuple(str(p) for p in files))


def _replaces(draft: MandateFile, installed: MandateFile) -> bool:
    """A draft stands for the installed mandate of the same collectivité whose period it overlaps.

    How a contact checks an edited copy (`capctl policy validate mon-brouillon.yaml`, `policy diff
    policies/ mon-brouillon.yaml`) whatever its file name; a draft for a new period (a renewal) is
    checked next to the installed one instead.
    """
    new, old = draft.checked, installed.checked
    if Path(draft.path).name == Path(installed.path).name:
        return True
    if new is None or old is None or new[0].id != old[0].id:
        return False
    return new[0].validity.overlaps(old[0].validity)


def read_paths(paths: Sequence[Path], default_root: Path, today: date | None = None) -> Bundle:
    """What `capctl policy validate PATH...` checks: folders and files, each against a whole bundle.

    A folder holding topology.yaml is a bundle; any other folder holds mandate files; mandate files are
    checked against the bundle of their `../..` folder when it has a topology.yaml, else `default_root`'s
    (an edited file replaces the installed one of the same name; others are added).
    """
    if not paths:
        return read_bundle(default_root, today=today)
    roots: list[Path] = []
    files: list[Path] = []
    missing: list[Problem] = []
    for p in paths:
        if p.is_dir() and (p / TOPOLOGY_FILE).exists():
            roots.append(p)
        elif p.is_dir():
            files.extend(sorted(p.glob("*.yaml")))
        elif not p.exists():
            missing.append(Problem("yaml_not_found", str(p)))
        elif p.suffix not in (".yaml", ".yml"):
            missing.append(Problem("not_yaml", str(p)))
        else:
            files.append(p)
    bundles = [read_bundle(r, today=today) for r in roots]
    by_root: dict[Path, list[Path]] = {}
    for f in files:
        home = f.resolve().parent.parent
        by_root.setdefault(home if (home / TOPOLOGY_FILE).exists() else default_root, []).append(f)
    bundles += [read_bundle(root, fs, today) for root, fs in by_root.items()]
    problems = [*missing, *(p for b in bundles for p in b.problems)]
    policies = bundles[0].policies if len(bundles) == 1 else None
    return Bundle(policies=policies, problems=tuple(problems), files=tuple(f for b in bundles for f in b.files))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_policies(root: Path | None = None) -> Policies:
    """Load and check the bundle under `root` (default folder otherwise); raise ConfigError on any error."""
    bundle = read_bundle(root or default_policies_dir())
    if bundle.policies is None:
        raise to_error(bundle.problems)
    return bundle.policies
