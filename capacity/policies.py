"""The policy bundle: topology + mandates read from one folder, checked against each other.

Cross-file rules that keep every replica attributable: a mandate may only fund a plaque whose topology
lists it as a funder; every segment of a plaque is funded by exactly one mandate; every funder sets a
ceiling for every component of the plaque (no ceiling would leave the plaque unlimited).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from capacity.errors import ConfigError, InputError
from capacity.mandates import ComponentLimits, Mandate, load_mandates
from capacity.topology import Plaque, Topology, load_topology

ENV_POLICIES = "CAPCTL_POLICIES"


@dataclass(frozen=True)
class Funder:
    """One mandate's part in one plaque: which segments (indices) it funds, and its limits there."""

    mandate: Mandate
    plaque: str
    segments: tuple[int, ...]

    def limits(self, component: str) -> ComponentLimits:
        return self.mandate.limits[self.plaque][component]


@dataclass(frozen=True)
class Policies:
    topology: Topology
    mandates: tuple[Mandate, ...]
    sha256: str
    root: str

    def funders(self, plaque: Plaque) -> tuple[Funder, ...]:
        out = []
        for m in self.mandates:
            funding = m.funding_for(plaque.id)
            if funding is None:
                continue
            idx = tuple(i for i, s in enumerate(plaque.segments) if funding.covers(s.level, s.departement))
            out.append(Funder(mandate=m, plaque=plaque.id, segments=idx))
        return tuple(out)


def default_policies_dir() -> Path:
    """$CAPCTL_POLICIES, else the `policies/` folder shipped beside the package."""
    env = os.environ.get(ENV_POLICIES)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "policies"


def load_policies(root: Path | None = None) -> Policies:
    """Load `topology.yaml` and `mandats/*.yaml` from `root` and check them together."""
    root = root or default_policies_dir()
    if not root.is_dir():
        raise InputError(f"policies folder {root} not found; pass --policies DIR or set {ENV_POLICIES}")
    topo_path = root / "topology.yaml"
    mandate_paths = sorted((root / "mandats").glob("*.yaml"))
    topology = load_topology(topo_path)
    mandates = load_mandates(mandate_paths)
    digest = hashlib.sha256()
    for p in [topo_path, *mandate_paths]:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    policies = Policies(topology=topology, mandates=mandates, sha256=digest.hexdigest(), root=str(root))
    check_policies(policies)
    return policies


def check_policies(policies: Policies) -> None:
    """Cross-file checks; raise ConfigError naming the mandate file at fault."""
    plaques = {p.id: p for p in policies.topology.plaques}
    for m in policies.mandates:
        for f in m.fundings:
            if f.plaque not in plaques:
                raise ConfigError(f"plaque {f.plaque!r} inconnue ; plaques : {', '.join(plaques)}", path=m.path)
            if m.id not in plaques[f.plaque].funders:
                raise ConfigError(
                    f"{m.id} n'est pas déclaré financeur de la plaque {f.plaque} dans topology.yaml",
                    path=m.path,
                )
    for plaque in policies.topology.plaques:
        owner: dict[int, str] = {}
        for funder in policies.funders(plaque):
            limits = funder.mandate.limits.get(plaque.id, {})
            for c in plaque.components:
                if c.name not in limits:
                    raise ConfigError(
                        f"plafond manquant pour le composant {c.name} de la plaque {plaque.id}",
                        path=funder.mandate.path,
                    )
            for i in funder.segments:
                if i in owner:
                    seg = plaque.segments[i]
                    raise ConfigError(
                        f"{seg.level.value} du département {seg.departement} de {plaque.id} financé deux fois "
                        f"({owner[i]} et {funder.mandate.id})",
                        path=funder.mandate.path,
                    )
                owner[i] = funder.mandate.id
        missing = [s for i, s in enumerate(plaque.segments) if i not in owner]
        if missing:
            seg = missing[0]
            raise ConfigError(
                f"plaque {plaque.id}: no mandate funds {seg.level.value} in département {seg.departement} "
                f"({len(missing)} segment(s) unfunded); add it to a mandate in mandats/",
                path=policies.topology.source,
            )
