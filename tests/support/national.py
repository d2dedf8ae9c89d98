"""A national topology for benchmarks and scale tests: N plaques × 6 components over the real académies.

Plaque k serves one département of one académie (the calendar's own tables, capacity/calendar/places.py,
so every zone and holiday calendar is exercised): its collèges funded by the département, its lycées by
the région. Académies are taken in turn and their départements in turn, so 50 plaques cover 24 académies
and 50 départements, 1,000 plaques all 94 metropolitan départements (Corse has no zone calendar). Each
mandate funds every plaque of its collectivité, optionally with a monthly budget sized so that some bind
(the budget re-plan path) and some do not; one région holds a maintenance window in April 2021.

    write_national(folder, plaques=1000, budgets=True) → NationalTopology (what was written)

Files are written with plain YAML (no aliases: the policy loader refuses them) into `folder`, ready for
`load_policies(folder)` or `capctl … --policies folder`.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from capacity.calendar.places import ACADEMIES, Academie

REPO = Path(__file__).resolve().parents[2]
#: The two components the shipped topology lacks, to make six.
EXTRA_COMPONENTS = {
    "files": {"kind": "Deployment", "name": "fichiers", "hpa": "fichiers", "requests_per_user_s": 0.008},
    "search": {"kind": "StatefulSet", "name": "recherche", "hpa": "recherche", "requests_per_user_s": 0.004},
}
#: Ceiling per component per 10,000 accounts funded (at least 2), as the shipped mandates size them.
SCHEMA_LINE = "# yaml-language-server: $schema=../mandat.schema.json"
CEILING_PER_10K = {"web": 1.0, "api": 2.0, "auth": 1.0, "messaging": 1.0, "files": 1.0, "search": 1.0}


@dataclass(frozen=True)
class NationalTopology:
    """What `write_national` wrote: where, and how many of each thing."""

    root: Path
    plaques: tuple[str, ...]
    academies: int
    departements: int
    mandates: int
    components: int


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # policy files refuse aliases: write values out
        return True


def _code(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Quote département codes: a YAML 1.2 reader takes a bare 08 for the number 8."""
    style = "'" if len(data) <= 3 and data[:1].isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_NoAliases.add_representer(str, _code)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())


def _replica_hour_eur(component: dict[str, Any], prices: dict[str, Any]) -> float:
    cpu, memory = component["cpu_per_replica"], component["memory_gib_per_replica"]
    return float(cpu * prices["eur_per_vcpu_hour"] + memory * prices["eur_per_gib_hour"])


def _places(n: int) -> list[tuple[Academie, str]]:
    """(académie, département) of each plaque: académies in turn, their départements in turn."""
    academies = sorted(ACADEMIES.values(), key=lambda a: a.id)
    return [
        (a, a.departements[(k // len(academies)) % len(a.departements)])
        for k in range(n)
        for a in [academies[k % len(academies)]]
    ]


def _population(k: int) -> dict[str, dict[str, dict[str, int]]]:
    """A few thousand accounts per level, varied deterministically from plaque to plaque."""
    scale = 1.0 + (k * 37 % 11) / 5  # 1.0 … 3.0
    college = int(20000 * scale)
    lycee = int(15000 * scale)
    return {
        "college": {"eleves": college, "enseignants": college // 12, "parents": int(college * 0.6)},
        "lycee": {"eleves": lycee, "enseignants": lycee // 11, "parents": int(lycee * 0.18)},
    }


def write_national(root: Path, plaques: int = 1000, *, budgets: bool = True) -> NationalTopology:
    """Write topology.yaml, prices.yaml and mandats/*.yaml for `plaques` plaques into `root`."""
    shipped = yaml.safe_load((REPO / "policies" / "topology.yaml").read_text())
    prices_text = (REPO / "policies" / "prices.yaml").read_text()
    prices = yaml.safe_load(prices_text)
    defaults = shipped["defaults"]["components"]
    for name, extra in EXTRA_COMPONENTS.items():
        defaults[name] = {**defaults["web"], **extra}
    topo: dict[str, Any] = {}
    funded: dict[str, list[tuple[str, str, int, str]]] = defaultdict(list)  # mandate → (plaque, level, accounts, dept)
    names: dict[str, tuple[str, str, str]] = {}  # mandate → (type, code, nom)
    for k, (academie, dept) in enumerate(_places(plaques)):
        pid = f"p{k:04d}-{academie.id}-{dept}"
        region = f"region-{_slug(academie.region)}"
        departement = f"departement-{dept.lower()}"
        names[region] = ("region", f"{len(names) % 90 + 10:02d}", f"Région {academie.region}")
        names[departement] = ("departement", dept, f"Département {dept}")
        population = _population(k)
        topo[pid] = {
            "name": f"ENT {academie.name} {dept} n°{k}",
            "zone": academie.zone,
            "namespace": f"ent-{pid}",
            "academies": [academie.id],
            "funders": [region, departement],
            "population": {level: {dept: counts} for level, counts in population.items()},
        }
        funded[departement].append((pid, "college", sum(population["college"].values()), dept))
        funded[region].append((pid, "lycee", sum(population["lycee"].values()), dept))
    root.mkdir(parents=True, exist_ok=True)
    (root / "mandats").mkdir(exist_ok=True)
    for i, (mid, rows) in enumerate(sorted(funded.items())):
        kind, code, nom = names[mid]
        mandate: dict[str, Any] = {
            "collectivite": {"id": mid, "type": kind, "code": code, "nom": nom},
            "validite": {"du": "2019-09-01", "au": "2023-08-31"},
            "finance": [
                {
                    "plaque": pid,
                    "niveaux": [level],
                    "departements": [dept],
                    "composants": {
                        c: {"plancher": 1, "plafond": max(2, round(CEILING_PER_10K[c] * accounts / 10_000 * 4))}
                        for c in defaults
                    },
                }
                for pid, level, accounts, dept in rows
            ],
        }
        if budgets:  # every third mandate gets a tight budget (it binds), the others a loose one
            floors = len(rows) * sum(_replica_hour_eur(c, prices) for c in defaults.values()) * 31 * 24
            mandate["budget"] = {"mensuel_eur": round(floors * (1.02 if i % 3 == 0 else 4.0))}
        if mid == "region-grand-est":
            mandate["exceptions"] = {
                "maintenances": [
                    {
                        "nom": "Migration",
                        "debut": "2021-04-26 12:00",
                        "fin": "2021-04-26 16:00",
                        "composants": ["messaging"],
                    }
                ]
            }
        text = yaml.dump(mandate, Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
        (root / "mandats" / f"{mid}.yaml").write_text(f"{SCHEMA_LINE}\n{text}")
    topology = {"version": 1, "defaults": {"components": defaults}, "plaques": topo}
    (root / "topology.yaml").write_text(yaml.dump(topology, Dumper=_NoAliases, sort_keys=False, allow_unicode=True))
    (root / "prices.yaml").write_text(prices_text)
    return NationalTopology(
        root=root,
        plaques=tuple(topo),
        academies=len({a.id for a, _ in _places(plaques)}),
        departements=len({d for _, d in _places(plaques)}),
        mandates=len(funded),
        components=len(defaults),
    )
