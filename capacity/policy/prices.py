"""The operator's prices (`policies/prices.yaml`, English keys, operator-owned): what capacity costs.

Mandates speak in euros per month; the topology speaks in vCPU and GiB per replica. The operator's
prices join the two: one replica-hour of a component costs
cpu_per_replica × eur_per_vcpu_hour + memory_gib_per_replica × eur_per_gib_hour.
(The operator's pacing settings live in `operator.yaml`, read by capacity/operator/reload.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capacity.common.yamlio import load_yaml_file
from capacity.policy.topology import Component

PRICES_FILE = "prices.yaml"
PRICE_KEYS = ("eur_per_vcpu_hour", "eur_per_gib_hour")


@dataclass(frozen=True)
class Prices:
    """What the operator charges the collectivités, per resource and hour (euros, taxes included)."""

    eur_per_vcpu_hour: float
    eur_per_gib_hour: float

    def replica_hour_eur(self, component: Component) -> float:
        """Euros for one replica of `component` during one hour."""
        return component.cpu_per_replica * self.eur_per_vcpu_hour + (
            component.memory_gib_per_replica * self.eur_per_gib_hour
        )


def load_prices(path: Path) -> Prices:
    """Read `version: 1`, `eur_per_vcpu_hour` and `eur_per_gib_hour`; errors name the file, line and field."""
    doc = load_yaml_file(path)
    root = doc.data if isinstance(doc.data, dict) else None
    if root is None:
        raise doc.error((), "expected `version: 1`, `eur_per_vcpu_hour: 0.09`, `eur_per_gib_hour: 0.012`")
    if root.get("version") != 1:
        raise doc.error(("version",), "expected `version: 1`")
    unknown = set(root) - {"version", *PRICE_KEYS}
    if unknown:
        raise doc.error((sorted(unknown)[0],), f"unknown key; expected: version, {', '.join(PRICE_KEYS)}")
    values: dict[str, float] = {}
    for key in PRICE_KEYS:
        v = root.get(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v < 1000:
            raise doc.error((key,), f"expected a price in euros >= 0 (e.g. 0.09), found {v!r}")
        values[key] = float(v)
    return Prices(**values)
