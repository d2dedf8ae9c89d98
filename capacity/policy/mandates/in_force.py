"""Which mandates are in force on a given day: warnings for `capctl policy validate --today`.

A mandate that has expired or is not yet valid is not an error (renewals are prepared ahead, old files
linger), but a plaque segment with no mandate in force today or within the next days would be planned
with no funder at all: each is a warning with its dates, so the contact renews in time. Pure: `today`
is a parameter, never the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from capacity.common.errors import ConfigError
from capacity.common.yamlio import PathKey, YamlDoc, load_yaml_file
from capacity.policy.mandates.crosscheck import first_gap
from capacity.policy.mandates.loader import MandateFile
from capacity.policy.mandates.model import Validity
from capacity.policy.mandates.problems import Problem
from capacity.policy.mandates.schema import dotted
from capacity.policy.topology import Topology

#: How far ahead `policy validate` looks for a segment left without a mandate.
HORIZON_DAYS = 30


def in_force_problems(
    topology: Topology, reads: Sequence[MandateFile], topo_path: Path, today: date, horizon_days: int = HORIZON_DAYS
) -> list[Problem]:
    """Warnings: expired and not-yet-valid mandates, segments without a mandate in [today, today + horizon]."""
    out: list[Problem] = []
    parsed = [r.checked for r in reads if r.checked is not None]  # a broken file: through its valid part
    for m, doc in parsed:
        v = m.validity
        if v.end is not None and v.start > v.end:
            continue  # reversed dates: already an error
        params = {"start": v.start.isoformat(), "end": v.end.isoformat() if v.end else "…", "today": today.isoformat()}
        if v.end is not None and v.end < today:
            out.append(_at(doc, ("validite", "au"), "mandate_expired", found=v.end, params=params))
        elif v.start > today:
            out.append(_at(doc, ("validite", "du"), "mandate_not_yet_valid", found=v.start, params=params))
    last = today + timedelta(days=horizon_days)
    window = Validity(today, last)
    mandates = [m for m, _ in parsed]
    topo_doc: YamlDoc | None = None
    plaques = () if any(r.funding_unknown for r in reads) else topology.plaques  # a broken funding says enough
    for plaque in plaques:
        for seg in plaque.segments:
            covering = sorted(
                (
                    m.validity
                    for m in mandates
                    if (f := m.funding_for(plaque.id)) is not None and f.covers(seg.level, seg.departement)
                ),
                key=lambda v: v.start,
            )
            gap = first_gap(covering, window)
            if gap is None:
                continue
            if topo_doc is None:
                topo_doc = _topology_doc(topo_path)
            key: PathKey = ("plaques", plaque.id, "population", seg.level.value, seg.departement)
            line, column = topo_doc.position(key) if topo_doc is not None else (None, None)
            params = {
                "plaque": plaque.id,
                "level": seg.level.value,
                "departement": seg.departement,
                "start": gap.start.isoformat(),
                "end": (gap.end or last).isoformat(),
                "today": today.isoformat(),
            }
            out.append(
                Problem(
                    "no_mandate_in_force",
                    str(topo_path),
                    line=line,
                    column=column,
                    field=dotted(key),
                    params=params,
                    severity="warning",
                )
            )
    return [p for p in out if not any(r.hides(p) for r in reads)]


def _at(doc: YamlDoc, key: PathKey, code: str, **kw: object) -> Problem:
    line, column = doc.position(key)
    return Problem(code, doc.path, line=line, column=column, field=dotted(key), severity="warning", **kw)  # type: ignore[arg-type]


def _topology_doc(path: Path) -> YamlDoc | None:
    try:
        return load_yaml_file(path)
    except ConfigError:  # already reported by the topology check
        return None
