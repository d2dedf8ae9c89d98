"""Read mandate files (YAML, French keys, edited by collectivité contacts) into `Mandate` values.

Reading never stops at the first problem: `read_mandate` returns every problem of a file (structure
from the JSON Schema, then meaning: reversed dates, floor above ceiling...) so that `capctl policy
validate` can list them all. `load_mandates` is the strict version used to plan: any error raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from capacity.calendar.types import Level
from capacity.common.errors import ConfigError
from capacity.common.files import read_bounded
from capacity.common.timegrid import PARIS
from capacity.common.yamlio import LEGACY_ENCODING, MAX_FILE_BYTES, PathKey, YamlDoc, decode, load_yaml_text
from capacity.policy.mandates.model import (
    DEFAULT_CLASS_HOURS,
    ComponentLimits,
    Contact,
    ExamPeriod,
    Funding,
    MaintenanceWindow,
    Mandate,
    Quota,
    ShortfallPolicy,
    TimeRange,
    Validity,
)
from capacity.policy.mandates.problems import Problem, from_config_error, suggest, to_error
from capacity.policy.mandates.salvage import Salvage, salvage
from capacity.policy.mandates.schema import SCHEMA_HEADER, dotted, normalise, schema, schema_problems

#: A file with no top-level key of a mandate (nor a near miss) is not a mandate: reported as such, its
#: content never shown.
MANDATE_KEYS = frozenset({"collectivite", "finance", "validite"})


@dataclass(frozen=True)
class MandateFile:
    """One file read: its mandate (None when its structure is broken), its problems and its YAML.

    A broken file still carries `partial`: the mandate read from the part of it the schema accepts
    (salvage.py), so that the cross-file checks speak about its other fields in the same run.
    """

    path: str
    mandate: Mandate | None
    problems: tuple[Problem, ...]
    doc: YamlDoc | None
    partial: Salvaged | None = None

    @property
    def checked(self) -> tuple[Mandate, YamlDoc] | None:
        """The mandate and document to check against the others: the whole file, or its valid part."""
        if self.mandate is not None and self.doc is not None:
            return self.mandate, self.doc
        if self.partial is not None:
            return self.partial.mandate, self.partial.salvage.doc
        return None

    @property
    def funding_unknown(self) -> bool:
        """True when some of the file's fundings or dates could not be read: coverage checks would lie."""
        if self.mandate is not None:
            return False
        if self.partial is None:
            return True
        return any(k[:1] in (("finance",), ("validite",)) for k in self.partial.salvage.pruned)

    def hides(self, problem: Problem) -> bool:
        """True when `problem` (from a check of the valid part) may only echo a structure error."""
        return self.partial is not None and problem.path == self.path and self.partial.salvage.hides(problem.field)


@dataclass(frozen=True)
class Salvaged:
    mandate: Mandate
    salvage: Salvage


def read_mandate(path: Path) -> MandateFile:
    """Read and check one mandate file; never raises for a problem in the file."""
    shown = str(path)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except ConfigError as exc:
        return MandateFile(shown, None, (from_config_error(exc),), None)
    text, encoding = decode(raw)
    read = read_mandate_text(text, shown, hashlib.sha256(raw).hexdigest())
    if encoding == LEGACY_ENCODING:  # readable, but the next editor may not guess: say how to fix it
        legacy = Problem("yaml_legacy_encoding", shown, line=1, column=1, severity="warning")
        return replace(read, problems=(legacy, *read.problems))
    return read


def read_mandate_text(text: str, path: str, sha256: str | None = None) -> MandateFile:
    """Check one mandate given as text (`path` only names it in messages)."""
    sha256 = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        doc = load_yaml_text(text, path)
    except ConfigError as exc:
        return MandateFile(path, None, (from_config_error(exc),), None)
    if doc.data is None:
        return MandateFile(path, None, (Problem("empty_file", path, line=1, column=1),), doc)
    if not _looks_like_mandate(doc.data):
        # not a mandate at all (a wrong file, a private file behind a symlink): say so, quote nothing of it
        return MandateFile(path, None, (Problem("not_a_mandate", path, line=1, column=1),), None)
    problems: list[Problem] = []
    if not text.startswith(SCHEMA_HEADER):
        problems.append(
            Problem("schema_header_missing", path, line=1, column=1, example=SCHEMA_HEADER, severity="warning")
        )
    if isinstance(doc.data, dict) and "validite" not in doc.data:
        problems.append(
            Problem(
                "no_validity",
                path,
                line=1,
                column=1,
                example="validite: {du: 2021-09-01, au: 2025-08-31}",
                severity="warning",
            )
        )
    structural = schema_problems(doc)
    if structural:
        kept = salvage(doc)
        if kept is None:
            return MandateFile(path, None, tuple(problems + structural), doc)
        partial = _parse(kept.doc, kept.doc.data, sha256)
        more = [p for p in _meaning(kept.doc, partial) if not kept.hides(p.field)]
        return MandateFile(path, None, tuple(problems + structural + more), doc, Salvaged(partial, kept))
    mandate = _parse(doc, normalise(doc.data), sha256)
    problems.extend(_meaning(doc, mandate))
    return MandateFile(path, mandate, tuple(problems), doc)


def _looks_like_mandate(data: Any) -> bool:
    """A mapping with at least one top-level key of a mandate, or a near miss of one (`collectivité`)."""
    if not isinstance(data, dict):
        return False
    known = _top_keys()
    return any(str(k) in known or suggest(str(k), known) for k in data)


@cache
def _top_keys() -> frozenset[str]:
    return frozenset(schema().get("properties", {})) | MANDATE_KEYS


def load_mandates(paths: Sequence[Path]) -> tuple[Mandate, ...]:
    """Load every mandate file; raise ConfigError (French) on the first error found."""
    out = []
    for path in sorted(paths):
        read = read_mandate(path)
        if any(p.is_error for p in read.problems) or read.mandate is None:
            raise to_error(read.problems)
        out.append(read.mandate)
    return tuple(out)


def _departement(value: Any) -> str:
    return f"{value:02d}" if isinstance(value, int) else str(value)


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=PARIS)


def _parse(doc: YamlDoc, data: dict[str, Any], sha256: str) -> Mandate:
    """Values from a file whose structure the schema accepted."""
    who = data["collectivite"]
    fundings, limits, floor_users = [], {}, {}
    for item in data["finance"]:
        plaque = item["plaque"]
        fundings.append(
            Funding(
                plaque=plaque,
                levels=tuple(Level(v) for v in item["niveaux"]),
                departements=tuple(_departement(d) for d in item.get("departements", [])),
            )
        )
        limits[plaque] = {
            name: ComponentLimits(
                floor=int(body.get("plancher", 0)),
                ceiling=int(body["plafond"]),
                floor_users=float(body["plancher_utilisateurs"]) if "plancher_utilisateurs" in body else None,
            )
            for name, body in item["composants"].items()
        }
        if "plancher_utilisateurs" in item:
            floor_users[plaque] = float(item["plancher_utilisateurs"])
    valid = data.get("validite", {"du": date.min.isoformat()})
    exceptions = data.get("exceptions", {})
    exams = tuple(
        ExamPeriod(
            name=e["nom"],
            start=date.fromisoformat(e["du"]),
            end=date.fromisoformat(e["au"]),
            plaque=e.get("plaque"),
            floor_users=float(e["plancher_utilisateurs"]) if "plancher_utilisateurs" in e else None,
            floors={c: int(v["plancher"]) for c, v in e.get("composants", {}).items()},
        )
        for e in exceptions.get("examens", [])
    )
    maintenance = tuple(
        MaintenanceWindow(
            name=m["nom"],
            start=_timestamp(m["debut"]),
            end=_timestamp(m["fin"]),
            plaque=m.get("plaque"),
            components=tuple(m.get("composants", [])),
            mandate_id=who["id"],
        )
        for m in exceptions.get("maintenances", [])
    )
    short = data.get("penurie", {})
    order = tuple(tuple(g) if isinstance(g, list) else (g,) for g in short.get("ordre_admission", []))
    quotas = {
        profile: Quota(
            max_share=float(q["part_max"]) if "part_max" in q else None,
            closed=tuple(TimeRange.parse(t) for t in q.get("fermeture", [])),
        )
        for profile, q in short.get("quotas", {}).items()
    }
    policy = ShortfallPolicy(order=order, quotas=quotas) if order else ShortfallPolicy(quotas=quotas)
    return Mandate(
        id=who["id"],
        kind=who["type"],
        code=str(who["code"]),
        name=who["nom"],
        fundings=tuple(fundings),
        limits=limits,
        path=doc.path,
        sha256=sha256,
        validity=Validity(date.fromisoformat(valid["du"]), date.fromisoformat(valid["au"]) if "au" in valid else None),
        floor_users=floor_users,
        class_hours=TimeRange.parse(data.get("heures_de_cours", DEFAULT_CLASS_HOURS)),
        monthly_budget_eur=float(data["budget"]["mensuel_eur"]) if "budget" in data else None,
        exams=exams,
        maintenance=maintenance,
        shortfall=policy,
        contacts=tuple(
            Contact(name=c["nom"], role=c.get("fonction"), email=c.get("courriel"), phone=c.get("telephone"))
            for c in who.get("contacts", [])
        ),
    )


def _meaning(doc: YamlDoc, m: Mandate) -> list[Problem]:
    """Checks within one file that a schema cannot express."""
    out: list[Problem] = []

    def at(key: PathKey, code: str, **kw: Any) -> None:
        line, column = doc.position(key)
        out.append(Problem(code, doc.path, line=line, column=column, field=dotted(key), **kw))

    def dates(key: PathKey, start_key: str, start: object, end_key: str, end: object) -> None:
        if end is not None and start > end:  # type: ignore[operator]
            params = {"start_key": start_key, "start": start, "end_key": end_key, "end": end}
            at((*key, start_key), "reversed_dates", found=str(start), params=params, example=f"{end_key}: {start}")

    dates(("validite",), "du", m.validity.start, "au", m.validity.end)
    for i, e in enumerate(m.exams):
        dates(("exceptions", "examens", i), "du", e.start, "au", e.end)
    for i, w in enumerate(m.maintenance):
        if w.start >= w.end:
            params: dict[str, object] = {
                "start_key": "debut",
                "start": w.start.strftime("%Y-%m-%d %H:%M"),
                "end_key": "fin",
                "end": w.end.strftime("%Y-%m-%d %H:%M"),
            }
            at(("exceptions", "maintenances", i, "debut"), "reversed_dates", found=params["start"], params=params)
    ranges: list[tuple[PathKey, TimeRange]] = [(("heures_de_cours",), m.class_hours)]
    for profile, q in m.shortfall.quotas.items():
        ranges.extend((("penurie", "quotas", profile, "fermeture", j), r) for j, r in enumerate(q.closed))
    for key, r in ranges:
        if r.start_min >= r.end_min and key in doc.lines:
            at(key, "empty_time_range", found=str(r), example=f"{'- ' if isinstance(key[-1], int) else ''}07:30-17:30")
    seen: set[str] = set()
    for i, f in enumerate(m.fundings):
        if f.plaque in seen:
            at(("finance", i, "plaque"), "duplicate_plaque", found=f.plaque, params={"plaque": f.plaque})
        seen.add(f.plaque)
        for name, lim in m.limits[f.plaque].items():
            if lim.floor > lim.ceiling:
                params = {"floor": lim.floor, "ceiling": lim.ceiling, "component": name}
                at(
                    ("finance", i, "composants", name, "plancher"),
                    "floor_above_ceiling",
                    found=lim.floor,
                    params=params,
                    example=f"plancher: {lim.ceiling}",
                )
    return out
