"""Operator settings (`policies/operateur.yaml`, English keys, operator-owned): the prices of capacity.

Mandates speak in euros per month; the topology speaks in vCPU and GiB per replica. The operator's
prices join the two: one replica-hour of a component costs
cpu_per_replica × eur_per_vcpu_hour + memory_gib_per_replica × eur_per_gib_hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capacity.topology import Component
from capacity.yamlio import load_yaml_file

SETTINGS_FILE = "operateur.yaml"


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
    """Read `prices` from the operator settings; errors name the file, line and field."""
    doc = load_yaml_file(path)
    root = doc.data if isinstance(doc.data, dict) else None
    if root is None:
        raise doc.error((), "expected a mapping with `version: 1` and `prices`")
    if root.get("version") != 1:
        raise doc.error(("version",), "expected `version: 1`")
    unknown = set(root) - {"version", "prices"}
    if unknown:
        raise doc.error((sorted(unknown)[0],), "unknown key; expected: version, prices")
    prices = root.get("prices")
    if not isinstance(prices, dict):
        raise doc.error(("prices",), "expected `prices: {eur_per_vcpu_hour: 0.04, eur_per_gib_hour: 0.005}`")
    values: dict[str, float] = {}
    for key in ("eur_per_vcpu_hour", "eur_per_gib_hour"):
        v = prices.get(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v < 1000:
            raise doc.error(("prices", key), f"expected a price in euros >= 0 (e.g. 0.04), found {v!r}")
        values[key] = float(v)
    unknown = set(prices) - set(values)
    if unknown:
        raise doc.error(("prices", sorted(unknown)[0]), "unknown key; expected: eur_per_vcpu_hour, eur_per_gib_hour")
    return Prices(**values)
