"""Load mandate files (YAML, French keys, edited by collectivité contacts) into `Mandate` values.

Errors are in French and name the file, the line and the field: the people who edit these files are
not engineers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from capacity.calendar.types import Level
from capacity.errors import ConfigError
from capacity.mandates.model import KINDS, ComponentLimits, Funding, Mandate
from capacity.yamlio import YamlDoc, load_yaml_text

TOP_KEYS = {"collectivite", "finance"}


def load_mandates(paths: Sequence[Path]) -> tuple[Mandate, ...]:
    """Load every mandate file; ids must be unique."""
    out: list[Mandate] = []
    seen: dict[str, str] = {}
    for path in sorted(paths):
        mandate = load_mandate(path)
        if mandate.id in seen:
            raise ConfigError(f"collectivite.id {mandate.id!r} déjà utilisé dans {seen[mandate.id]}", path=str(path))
        seen[mandate.id] = str(path)
        out.append(mandate)
    return tuple(out)


def load_mandate(path: Path) -> Mandate:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"lecture impossible : {exc.strerror}", path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("le fichier n'est pas en UTF-8", path=str(path)) from None
    doc = load_yaml_text(text, str(path))
    return parse_mandate(doc, hashlib.sha256(raw).hexdigest())


def parse_mandate(doc: YamlDoc, sha256: str) -> Mandate:
    root = _map(doc, (), doc.data, "le fichier")
    unknown = set(root) - TOP_KEYS
    if unknown:
        raise doc.error((sorted(unknown)[0],), f"clé inconnue ; clés attendues : {', '.join(sorted(TOP_KEYS))}")
    who = _map(doc, ("collectivite",), root.get("collectivite"), "collectivite")
    for field in ("id", "type", "code", "nom"):
        if not isinstance(who.get(field), str | int) or str(who.get(field)).strip() == "":
            raise doc.error(("collectivite", field), f"champ obligatoire manquant ou vide : collectivite.{field}")
    kind = str(who["type"])
    if kind not in KINDS:
        raise doc.error(("collectivite", "type"), f"type {kind!r} inconnu ; valeurs possibles : {', '.join(KINDS)}")
    fundings: list[Funding] = []
    limits: dict[str, dict[str, ComponentLimits]] = {}
    items = root.get("finance")
    if not isinstance(items, list) or not items:
        raise doc.error(("finance",), "la liste `finance` doit indiquer au moins une plaque financée")
    for i, item in enumerate(items):
        key = ("finance", i)
        item = _map(doc, key, item, f"finance[{i}]")
        plaque = item.get("plaque")
        if not isinstance(plaque, str) or not plaque:
            raise doc.error((*key, "plaque"), "indiquez l'identifiant de la plaque, par exemple grand-est")
        levels = []
        for j, lv in enumerate(item.get("niveaux") or []):
            try:
                levels.append(Level(str(lv)))
            except ValueError:
                raise doc.error(
                    (*key, "niveaux", j), f"niveau {lv!r} inconnu ; valeurs : ecole, college, lycee"
                ) from None
        if not levels:
            raise doc.error((*key, "niveaux"), "indiquez au moins un niveau financé (ecole, college, lycee)")
        depts = tuple(str(d) for d in item.get("departements") or [])
        fundings.append(Funding(plaque=plaque, levels=tuple(levels), departements=depts))
        limits[plaque] = _limits(doc, (*key, "composants"), item.get("composants"))
    return Mandate(
        id=str(who["id"]),
        kind=kind,
        code=str(who["code"]),
        name=str(who["nom"]),
        fundings=tuple(fundings),
        limits=limits,
        path=doc.path,
        sha256=sha256,
    )


def _map(doc: YamlDoc, key: tuple[Any, ...], value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(key, f"{what} doit être une liste de champs « nom: valeur »")
    return value


def _limits(doc: YamlDoc, key: tuple[Any, ...], raw: Any) -> dict[str, ComponentLimits]:
    comps = _map(doc, key, raw, "composants")
    out: dict[str, ComponentLimits] = {}
    for name, body in comps.items():
        ckey = (*key, name)
        body = _map(doc, ckey, body, f"composants.{name}")
        values: dict[str, int] = {}
        for field in ("plancher", "plafond"):
            v = body.get(field, 0 if field == "plancher" else None)
            if v is None:
                raise doc.error(ckey, f"plafond manquant pour {name} : sans plafond la plaque serait illimitée")
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise doc.error((*ckey, field), f"{field} doit être un nombre entier de réplicas >= 0, trouvé {v!r}")
            values[field] = v
        if values["plancher"] > values["plafond"]:
            raise doc.error(
                (*ckey, "plancher"),
                f"plancher ({values['plancher']}) supérieur au plafond ({values['plafond']})",
            )
        out[str(name)] = ComponentLimits(floor=values["plancher"], ceiling=values["plafond"])
    return out
