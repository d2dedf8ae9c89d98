"""What can still be checked in a mandate whose structure is broken.

A contact who fixes four structure errors should not then learn of a fifth problem that only the
cross-file checks see (an overlap with another mandate, a budget that cannot pay the floors). So a
broken file is pruned — each value the schema refuses is left out (an unknown key, a wrong value; a
map or list item that lacks a required key) until the rest is valid — and that rest is checked like
any mandate. A misspelt key is read under the name it was surely meant as, and a missing required
key is filled with the schema's example (so that a contact who forgot `nom` still hears about the
rest); both count as left out. Positions stay those of the original file;
problems about a field that was left out (or that contains one) are dropped, since the structure
error already speaks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capacity.common.yamlio import PathKey, YamlDoc
from capacity.policy.mandates.problems import suggest
from capacity.policy.mandates.schema import dotted, example_value, normalise, validator

#: Pruning rounds before giving up (each round removes or fills at least one value).
MAX_ROUNDS = 12


@dataclass(frozen=True)
class Salvage:
    """The valid part of a broken file: a document with the original positions, and what was left out."""

    doc: YamlDoc
    pruned: tuple[PathKey, ...]  # keys in the original file

    def hides(self, field: str) -> bool:
        """True when a problem at `field` (dotted) may only be a consequence of a value left out."""
        return any(_within(field, p) or _within(p, field) for p in map(dotted, self.pruned))


def salvage(doc: YamlDoc) -> Salvage | None:
    """The largest valid part of `doc` found by pruning refused values; None if the root itself is broken."""
    data, back = _without(normalise(doc.data), set())  # back: current key → original key
    pruned: list[PathKey] = []
    for _ in range(MAX_ROUNDS):
        errors = list(validator().iter_errors(data))
        if not errors:
            lines = {k: doc.lines[o] for k, o in back.items() if o in doc.lines}
            columns = {k: doc.columns[o] for k, o in back.items() if o in doc.columns}
            return Salvage(YamlDoc(doc.path, data, lines, columns, doc.text), tuple(pruned))
        bad: set[PathKey] = set()
        for error in errors:
            key: PathKey = tuple(error.absolute_path)
            sub = error.schema if isinstance(error.schema, dict) else {}
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                allowed = list(sub.get("properties", {}))
                for extra in [k for k in error.instance if k not in allowed]:
                    guess = suggest(extra, allowed)
                    if guess and guess not in error.instance and key in back:  # plafnd: 6 → plafond: 6
                        error.instance[guess] = error.instance[extra]
                        pruned.append((*back[key], guess))
                    bad.add((*key, extra))
            elif error.validator == "required" and isinstance(error.instance, dict) and key in back:
                for missing in (k for k in error.validator_value if k not in error.instance):
                    value = example_value(sub.get("properties", {}).get(missing, {}))
                    if value is None:
                        bad.add(key)
                        break
                    error.instance[missing] = value
                    pruned.append((*back[key], missing))
            else:
                bad.add(key)
        if () in bad:
            return None
        pruned.extend(back[k] for k in bad if k in back)
        data, moved = _without(data, bad)
        back = {new: back[old] for new, old in moved.items() if old in back}
    return None


def _within(inner: str, outer: str) -> bool:
    """'finance[0].composants.web' is within 'finance[0]' (and within itself)."""
    return bool(outer) and (inner == outer or inner.startswith((outer + ".", outer + "[")))


def _without(data: Any, bad: set[PathKey]) -> tuple[Any, dict[PathKey, PathKey]]:
    """`data` without the values at `bad`, and new key → old key for every value kept."""
    moved: dict[PathKey, PathKey] = {}

    def walk(value: Any, old: PathKey, new: PathKey) -> Any:
        moved[new] = old
        if isinstance(value, dict):
            return {k: walk(v, (*old, k), (*new, k)) for k, v in value.items() if (*old, k) not in bad}
        if isinstance(value, list):
            out: list[Any] = []
            for i, v in enumerate(value):
                if (*old, i) not in bad:
                    out.append(walk(v, (*old, i), (*new, len(out))))
            return out
        return value

    return walk(data, (), ()), moved
