"""Problems found in policy files, and how they read in French (default) or English.

The people who edit mandates are collectivité contacts, not engineers: every problem says where
(file:line:column and the field's path), what was found, what is expected and gives an example, in
their language. A `Problem` holds only a code and parameters; wording lives in MESSAGES below so that
both languages stay side by side and golden tests pin them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

import yaml

from capacity.common.errors import ConfigError, french
from capacity.policy.mandates.messages import LABELS, MESSAGES

LANGS = ("fr", "en")


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Any = _Nothing()


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file. `found` is NOTHING when the field is missing."""

    code: str
    path: str
    line: int | None = None
    column: int | None = None
    field: str = ""
    found: Any = NOTHING
    params: Mapping[str, Any] = _field(default_factory=dict)
    example: str | None = None
    severity: str = "error"  # or "warning" (does not fail `policy validate`)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a mistyped word (accents and case ignored), if one is close enough."""

    def plain(s: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")

    options = {plain(c): c for c in choices}
    match = difflib.get_close_matches(plain(word), list(options), n=1, cutoff=0.6)
    return options[match[0]] if match else None


def hints(suggestion: str | None) -> dict[str, str]:
    """Did-you-mean text in both languages (empty when there is no suggestion)."""
    if suggestion is None:
        return {"hint_fr": "", "hint_en": ""}
    return {"hint_fr": f" : vouliez-vous dire {suggestion} ?", "hint_en": f": did you mean {suggestion}?"}


_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$")
_QUOTED_DATE = re.compile(r"'(\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?)'")


def show_value(value: Any, *, bare_dates: bool = False) -> str:
    """A value as a contact would write it, on one short line (examples may show dates unquoted)."""
    if value is NOTHING:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if bare_dates and isinstance(value, str) and _DATE_TEXT.match(value):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    if bare_dates:
        text = _QUOTED_DATE.sub(r"\1", text)
    return text if len(text) <= 80 else text[:77] + "..."


#: School levels as a French sentence names them (plural, accents): "les lycées du département 09".
LEVELS_FR = {"ecole": "écoles", "college": "collèges", "lycee": "lycées"}


def _params(problem: Problem) -> dict[str, Any]:
    """The message parameters, with the French words derived from the codes (level → level_fr)."""
    params = dict(problem.params)
    if "level" in params:
        params.setdefault("level_fr", LEVELS_FR.get(str(params["level"]), params["level"]))
    return params


def headline(problem: Problem, lang: str = "fr") -> str:
    """The one-line message of a problem (without position)."""
    template, _ = MESSAGES[problem.code][lang]
    return template.format(**_params(problem))


def expected(problem: Problem, lang: str = "fr") -> str | None:
    _, template = MESSAGES[problem.code][lang]
    return None if template is None else template.format(**_params(problem))


def where(problem: Problem) -> str:
    out = problem.path
    if problem.line is not None:
        out += f":{problem.line}"
        if problem.column is not None:
            out += f":{problem.column}"
    return out


def render(problem: Problem, lang: str = "fr") -> str:
    """Several lines: position, field and message; then found, expected and an example."""
    labels = LABELS[lang]
    sep = " : " if lang == "fr" else ": "
    field_part = f"{problem.field}{sep}" if problem.field else ""
    lines = [f"{where(problem)}: {labels[problem.severity]}{sep}{field_part}{headline(problem, lang)}"]
    if problem.found is not NOTHING:
        lines.append(f"    {labels['found']}{sep}{show_value(problem.found)}")
    exp = expected(problem, lang)
    if exp:
        lines.append(f"    {labels['expected']}{sep}{exp}")
    if problem.example:
        lines.append(f"    {labels['example']}{sep}{problem.example}")
    return "\n".join(lines)


def one_line(problem: Problem, lang: str = "fr") -> str:
    """Problem on one line, for commands other than `policy validate` (which point there for more)."""
    sep = " : " if lang == "fr" else ": "
    field_part = f"{problem.field}{sep}" if problem.field else ""
    text = f"{field_part}{headline(problem, lang)}"
    exp = expected(problem, lang)
    if exp:
        text += f" (attendu : {exp})" if lang == "fr" else f" (expected: {exp})"
    return text


def summary(problems: Sequence[Problem], files: int, lang: str = "fr") -> str:
    errors = sum(p.is_error for p in problems)
    return LABELS[lang]["summary"].format(files=files, errors=errors, warnings=len(problems) - errors)


def as_dict(problem: Problem, lang: str = "fr") -> dict[str, Any]:
    """Plain data for --output json|yaml."""
    return {
        "file": problem.path,
        "line": problem.line,
        "column": problem.column,
        "severity": problem.severity,
        "code": problem.code,
        "field": problem.field,
        "message": headline(problem, lang),
        "found": None if problem.found is NOTHING else show_value(problem.found),
        "expected": expected(problem, lang),
        "example": problem.example,
    }


def to_error(problems: Sequence[Problem]) -> ConfigError:
    """The first error as a ConfigError in one line, mentioning how many more there are.

    French for the mandates (their authors read French); the operator's own files (topology, prices:
    code "config") keep their English words, and the whole line follows them.
    """
    errors = [p for p in problems if p.is_error]
    first = errors[0]
    lang = "en" if first.code == "config" else "fr"
    message = one_line(first, lang)
    if len(errors) > 1:
        more = len(errors) - 1
        message += (
            f" ; et {more} autre(s) problème(s) : lancez `capctl policy validate`"
            if lang == "fr"
            else f"; and {more} more problem(s): run `capctl policy validate --lang en`"
        )
    error = ConfigError(message, path=first.path, line=first.line, column=first.column, code=first.code)
    return french(error) if lang == "fr" else error


# PyYAML's most common complaints, in French (prefix match); others are shown as PyYAML words them.
_YAML_FR = (
    (
        "mapping values are not allowed",
        "deux-points inattendu : mettez la valeur entre guillemets ou corrigez l'indentation",
    ),
    ("could not find expected ':'", "« : » manquant après une clé"),
    ("found character '\\t'", "tabulation : indentez avec des espaces"),
    ("found character", "caractère interdit à cet endroit"),
    ("special character", "caractère spécial interdit (invisible ?) : supprimez-le"),
    ("expected <block end>", "indentation incohérente"),
    ("expected ',' or ']'", "crochet « ] » non fermé"),
    ("expected ',' or '}'", "accolade « } » non fermée"),
    ("found unexpected end of stream", "fin de fichier inattendue : guillemet non fermé ?"),
    ("found undefined alias", "alias (*nom) inconnu"),
    ("but found another document", "un seul document par fichier (pas de « --- » au milieu)"),
)


def _yaml_fr(problem: str) -> str:
    for prefix, words in _YAML_FR:
        if problem.startswith(prefix):
            return words
    return problem


def from_config_error(exc: ConfigError) -> Problem:
    """A yamlio/topology ConfigError as a Problem (YAML errors get French wording)."""
    code = f"yaml_{exc.code}" if exc.code and f"yaml_{exc.code}" in MESSAGES else "config"
    problem = exc.message.split(": ", 1)[-1]
    params: dict[str, Any] = {"message": exc.message, "problem": problem, "problem_fr": _yaml_fr(problem)}
    if code == "yaml_duplicate_key":
        params["key"] = exc.message.split("'")[1] if "'" in exc.message else "?"
    if code in ("yaml_too_large", "yaml_too_deep"):
        from capacity.common.yamlio import MAX_DEPTH, MAX_FILE_BYTES

        params["limit"] = MAX_FILE_BYTES
        params["depth"] = MAX_DEPTH
    return Problem(code=code, path=exc.path or "?", line=exc.line, column=exc.column, params=params)
