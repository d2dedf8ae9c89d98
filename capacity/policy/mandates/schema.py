"""Structure of a mandate file: the JSON Schema, and its findings turned into our own problems.

`jsonschema` decides what is wrong; the words are ours (capacity/policy/mandates/problems.py), so that a
contact reads "plafnd : vouliez-vous dire plafond ?" rather than a validator's message. The schema
carries `x-attendu`/`x-expected` (what a field expects, in words) and `examples` for each field.
The canonical schema ships in the package; `policies/mandat.schema.json` is the same file, referenced
from the first line of every mandate so that editors complete and check as people type. It is JSON
Schema draft-07, the version the YAML language server (VS Code, IntelliJ, Neovim…) reads, with a French
description of every field and `defaultSnippets` the editor offers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from capacity.common.yamlio import PathKey, YamlDoc
from capacity.policy.mandates.messages import TYPE_WORDS
from capacity.policy.mandates.problems import NOTHING, Problem, hints, show_value, suggest

SCHEMA_FILE = "mandat.schema.json"
SCHEMA_HEADER = "# yaml-language-server: $schema=../mandat.schema.json"


@cache
def schema() -> dict[str, Any]:
    text = resources.files("capacity.policy.mandates").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def validator() -> Draft7Validator:
    return Draft7Validator(schema(), format_checker=Draft7Validator.FORMAT_CHECKER)


def normalise(value: Any) -> Any:
    """YAML values as JSON sees them: dates as ISO text, keys as text, non-finite numbers as text."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.second else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def dotted(key: PathKey) -> str:
    """('finance', 0, 'composants', 'web') → 'finance[0].composants.web'."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def example_line(key: PathKey, sub: dict[str, Any] | None) -> str | None:
    """'plafond: 12' from the schema's example for the field at `key`."""
    if not sub:
        return None
    examples = sub.get("examples") or _ref(sub).get("examples")
    if not examples:
        return None
    value = show_value(examples[0], bare_dates=True)
    if key and isinstance(key[-1], str):
        return f"{key[-1]}: {value}"
    return f"- {value}"


def example_value(sub: dict[str, Any]) -> Any | None:
    """The first example the schema gives for a field (None when it gives none)."""
    examples = sub.get("examples") or _ref(sub).get("examples")
    return examples[0] if examples else None


def _ref(sub: dict[str, Any]) -> dict[str, Any]:
    ref = sub.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
        return {}
    target: dict[str, Any] = schema()["definitions"][ref.removeprefix("#/definitions/")]
    return target


def _expected_words(sub: dict[str, Any]) -> dict[str, str]:
    """What a (sub)schema expects, in words, in both languages."""
    full = {**_ref(sub), **sub}
    if "x-attendu" in full:
        return {"expected_fr": full["x-attendu"], "expected_en": full["x-expected"]}
    if "enum" in full:
        values = ", ".join(str(v) for v in full["enum"])
        return {"expected_fr": f"une de ces valeurs : {values}", "expected_en": f"one of these values: {values}"}
    kinds = full.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {
        "expected_fr": " ou ".join(TYPE_WORDS["fr"][k] for k in kinds),
        "expected_en": " or ".join(TYPE_WORDS["en"][k] for k in kinds),
    }


def schema_problems(doc: YamlDoc) -> list[Problem]:
    """Every structural problem of one mandate file, in file order."""
    data = normalise(doc.data)
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in validator().iter_errors(data):
        for problem in _from_error(doc, error):
            mark = (problem.field, problem.code)
            if mark not in seen:
                seen.add(mark)
                out.append(problem)
    return sorted(_explained(out), key=lambda p: (p.line or 0, p.column or 0))


def _explained(problems: list[Problem]) -> list[Problem]:
    """Drop problems another one already explains: a missing key whose typo was found, a date's format twice."""
    typos = {(p.field.rpartition(".")[0], p.params.get("suggestion")) for p in problems if p.code == "unknown_key"}
    badly_formed = {p.field for p in problems if p.code == "bad_format"}
    out = []
    for p in problems:
        if p.code == "missing_key" and (p.field, p.params.get("key")) in typos:
            continue
        if p.code == "invalid_date" and p.field in badly_formed:
            continue
        out.append(p)
    return out


def _at(doc: YamlDoc, key: PathKey, code: str, **kw: Any) -> Problem:
    line, column = doc.position(key)
    return Problem(code=code, path=doc.path, line=line, column=column, field=dotted(key), **kw)


def _from_error(doc: YamlDoc, error: ValidationError) -> Iterator[Problem]:
    key: PathKey = tuple(error.absolute_path)
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    found = error.instance
    kind = error.validator
    if kind == "additionalProperties" and isinstance(found, dict):
        allowed = list(sub.get("properties", {}))
        for extra in (k for k in found if k not in allowed):
            guess = suggest(extra, allowed)
            params = {"key": extra, "allowed": ", ".join(allowed), "suggestion": guess, **hints(guess)}
            example = example_line((*key, guess), sub["properties"][guess]) if guess else None
            yield _at(doc, (*key, extra), "unknown_key", found=extra, params=params, example=example)
    elif kind == "required" and isinstance(found, dict):
        for missing in (k for k in error.validator_value if k not in found):
            prop = sub.get("properties", {}).get(missing, {})
            params = {"key": missing, **_expected_words(prop)}
            yield _at(doc, key, "missing_key", params=params, example=example_line((*key, missing), prop))
    elif kind == "type":
        yield _at(doc, key, "wrong_type", found=found, params=_expected_words(sub), example=example_line(key, sub))
    elif kind == "enum":
        allowed = [str(v) for v in error.validator_value]
        guess = suggest(str(found), allowed)
        params = {"allowed": ", ".join(allowed), **hints(guess)}
        yield _at(doc, key, "not_in_enum", found=found, params=params, example=example_line(key, sub))
    elif kind in ("minimum", "exclusiveMinimum"):
        op = {"minimum": ("≥", "≥"), "exclusiveMinimum": ("strictement supérieur à", ">")}[kind]
        params = {"limit": error.validator_value, "op_fr": op[0], "op_en": op[1]}
        yield _at(doc, key, "too_small", found=found, params=params, example=example_line(key, sub))
    elif kind in ("maximum", "exclusiveMaximum"):
        yield _at(
            doc, key, "too_big", found=found, params={"limit": error.validator_value}, example=example_line(key, sub)
        )
    elif kind == "format" and error.validator_value == "date":
        yield _at(doc, key, "invalid_date", found=found, example=example_line(key, sub))
    elif kind in ("pattern", "anyOf", "oneOf", "format"):
        choices = _enum_choices(sub) if kind == "anyOf" and isinstance(found, str) else []
        if choices:
            guess = suggest(found, choices)
            params = {"allowed": ", ".join(choices), **hints(guess)}
            yield _at(doc, key, "not_in_enum", found=found, params=params, example=example_line(key, sub))
        elif kind == "anyOf" and _only_required(error):
            yield _at(
                doc,
                key,
                "missing_key",
                params={"key": " / ".join(_alternatives(error)), **_expected_words(sub)},
                example=example_line(key, sub),
            )
        else:
            yield _at(doc, key, "bad_format", found=found, params=_expected_words(sub), example=example_line(key, sub))
    elif kind == "minItems":
        yield _at(
            doc,
            key,
            "too_few_items",
            found=found,
            params={"min": error.validator_value},
            example=example_line(key, sub),
        )
    elif kind == "minProperties":
        yield _at(
            doc, key, "empty_map", found=found, params={"min": error.validator_value}, example=example_line(key, sub)
        )
    elif kind == "uniqueItems":
        yield _at(doc, key, "duplicate_items", found=found, example=example_line(key, sub))
    elif kind == "minLength":
        yield _at(
            doc,
            key,
            "text_too_short",
            found=found,
            params={"min": error.validator_value},
            example=example_line(key, sub),
        )
    elif kind == "propertyNames":
        yield _at(doc, (*key, str(error.instance)), "bad_name", found=error.instance)
    else:  # a keyword this mapping does not know: still a precise position, in the validator's words
        yield _at(doc, key, "config", found=found if found is not None else NOTHING, params={"message": error.message})


def _enum_choices(sub: dict[str, Any]) -> list[str]:
    """Text values an anyOf accepts through enums (e.g. a profile in `ordre_admission`)."""
    out: list[str] = []
    for alt in sub.get("anyOf", []):
        full = {**_ref(alt), **alt}
        out.extend(str(v) for v in full.get("enum", []))
    return out


def _only_required(error: ValidationError) -> bool:
    return bool(error.context) and all(e.validator == "required" for e in error.context)


def _alternatives(error: ValidationError) -> list[str]:
    out: list[str] = []
    for alt in error.validator_value:
        out.extend(alt.get("required", []))
    return out
