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


# code → {lang: (headline, expected or None)}. Params are formatted with str.format.
MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "unknown_key": {
        "fr": ("clé inconnue {key}{hint_fr}", "une de ces clés : {allowed}"),
        "en": ("unknown key {key}{hint_en}", "one of these keys: {allowed}"),
    },
    "missing_key": {
        "fr": ("champ obligatoire manquant : {key}", "{expected_fr}"),
        "en": ("required field missing: {key}", "{expected_en}"),
    },
    "wrong_type": {
        "fr": ("type de valeur incorrect", "{expected_fr}"),
        "en": ("wrong kind of value", "{expected_en}"),
    },
    "not_in_enum": {
        "fr": ("valeur inconnue{hint_fr}", "une de ces valeurs : {allowed}"),
        "en": ("unknown value{hint_en}", "one of these values: {allowed}"),
    },
    "too_small": {
        "fr": ("valeur trop petite", "un nombre {op_fr} {limit}"),
        "en": ("value too small", "a number {op_en} {limit}"),
    },
    "too_big": {
        "fr": ("valeur trop grande", "un nombre ≤ {limit}"),
        "en": ("value too large", "a number ≤ {limit}"),
    },
    "bad_format": {
        "fr": ("format incorrect", "{expected_fr}"),
        "en": ("wrong format", "{expected_en}"),
    },
    "invalid_date": {
        "fr": ("cette date n'existe pas", "une date réelle AAAA-MM-JJ"),
        "en": ("this date does not exist", "a real date YYYY-MM-DD"),
    },
    "too_few_items": {
        "fr": ("liste trop courte", "au moins {min} élément(s)"),
        "en": ("list too short", "at least {min} item(s)"),
    },
    "empty_map": {
        "fr": ("aucun champ renseigné", "au moins {min} champ(s)"),
        "en": ("no field given", "at least {min} field(s)"),
    },
    "duplicate_items": {
        "fr": ("la liste contient deux fois la même valeur", "des valeurs toutes différentes"),
        "en": ("the list holds the same value twice", "values that are all different"),
    },
    "text_too_short": {
        "fr": ("texte trop court", "au moins {min} caractères"),
        "en": ("text too short", "at least {min} characters"),
    },
    "bad_name": {
        "fr": ("nom de composant incorrect", "des minuscules, chiffres et tirets, comme dans topology.yaml"),
        "en": ("bad component name", "lower-case letters, digits and dashes, as in topology.yaml"),
    },
    "schema_header_missing": {
        "fr": ("la première ligne devrait référencer le schéma (complétion et vérification dans l'éditeur)", None),
        "en": ("the first line should reference the schema (completion and checks in the editor)", None),
    },
    "no_validity": {
        "fr": ("pas de dates de validité : le mandat s'applique à toute date", "validite: du … au …"),
        "en": ("no validity dates: the mandate applies at any date", "validite: du … au …"),
    },
    "empty_file": {
        "fr": ("le fichier est vide", "un mandat : collectivite, validite, finance"),
        "en": ("the file is empty", "a mandate: collectivite, validite, finance"),
    },
    "reversed_dates": {
        "fr": ("dates inversées : {start_key} ({start}) est après {end_key} ({end})", "{start_key} ≤ {end_key}"),
        "en": ("dates in the wrong order: {start_key} ({start}) is after {end_key} ({end})", "{start_key} ≤ {end_key}"),
    },
    "empty_time_range": {
        "fr": ("plage horaire vide ou inversée", "une heure de début avant l'heure de fin"),
        "en": ("empty or reversed time range", "a start time before the end time"),
    },
    "floor_above_ceiling": {
        "fr": ("plancher ({floor}) supérieur au plafond ({ceiling}) pour {component}", "plancher ≤ plafond"),
        "en": ("floor ({floor}) above ceiling ({ceiling}) for {component}", "floor ≤ ceiling"),
    },
    "ceiling_below_minimum": {
        "fr": (
            "les plafonds de {component} sur la plaque {plaque} totalisent {total} réplica(s) à partir du {day}, "
            "sous le minimum technique ({minimum})",
            "des plafonds qui totalisent au moins {minimum} : en dessous la plaque serait éteinte ou fragile",
        ),
        "en": (
            "the ceilings of {component} on plaque {plaque} add up to {total} replica(s) from {day}, "
            "below the technical minimum ({minimum})",
            "ceilings adding up to at least {minimum}: below it the plaque would be off or fragile",
        ),
    },
    "floor_users_above_ceiling": {
        "fr": (
            "{users} utilisateurs demandent {replicas} réplicas de {component}, au-delà du plafond ({ceiling})",
            "au plus {max_users} utilisateurs, ou un plafond d'au moins {replicas}",
        ),
        "en": (
            "{users} users need {replicas} replicas of {component}, above the ceiling ({ceiling})",
            "at most {max_users} users, or a ceiling of at least {replicas}",
        ),
    },
    "duplicate_plaque": {
        "fr": ("la plaque {plaque} apparaît deux fois dans finance", "une seule entrée par plaque"),
        "en": ("plaque {plaque} appears twice in finance", "one entry per plaque"),
    },
    "unknown_plaque": {
        "fr": ("plaque inconnue « {plaque} »{hint_fr}", "une plaque de topology.yaml : {known}"),
        "en": ("unknown plaque “{plaque}”{hint_en}", "a plaque from topology.yaml: {known}"),
    },
    "not_a_funder": {
        "fr": (
            "{mandate} n'est pas déclaré financeur de la plaque {plaque} dans topology.yaml",
            "que l'opérateur ajoute {mandate} à plaques.{plaque}.funders",
        ),
        "en": (
            "{mandate} is not listed as a funder of plaque {plaque} in topology.yaml",
            "the operator to add {mandate} to plaques.{plaque}.funders",
        ),
    },
    "segment_claimed_twice": {
        "fr": (
            "les {level_fr} du département {departement} (plaque {plaque}) sont déjà financés par {other} "
            "({other_path})",
            "un seul financeur par niveau et département sur une même période",
        ),
        "en": (
            "{level} of département {departement} (plaque {plaque}) already funded by {other} ({other_path})",
            "one funder per level and département at a time",
        ),
    },
    "funds_nothing": {
        "fr": (
            "ce financement ne couvre aucune partie de la plaque {plaque}",
            "des niveaux et départements de la plaque {plaque} : {parts_fr}",
        ),
        "en": ("this funding covers no part of plaque {plaque}", "levels and départements of {plaque}: {parts}"),
    },
    "unknown_component": {
        "fr": (
            "composant inconnu « {component} » sur la plaque {plaque}{hint_fr}",
            "un composant de la plaque : {known}",
        ),
        "en": ("unknown component “{component}” on plaque {plaque}{hint_en}", "a component of the plaque: {known}"),
    },
    "missing_component": {
        "fr": (
            "aucun plafond pour le composant {component} de la plaque {plaque}",
            "un plafond pour chaque composant : {known}",
        ),
        "en": ("no ceiling for component {component} of plaque {plaque}", "a ceiling for every component: {known}"),
    },
    "not_funded_here": {
        "fr": ("la plaque {plaque} n'est pas financée par ce mandat", "une plaque de la liste finance : {known}"),
        "en": ("plaque {plaque} is not funded by this mandate", "a plaque from the finance list: {known}"),
    },
    "budget_below_floor": {
        "fr": (
            "le budget mensuel ({budget} €) ne paie pas les planchers ({floor_eur} € sur un mois de 31 jours)",
            "un budget d'au moins {floor_eur} €, ou des planchers plus bas",
        ),
        "en": (
            "the monthly budget ({budget} €) cannot pay the floors ({floor_eur} € over a 31-day month)",
            "a budget of at least {floor_eur} €, or lower floors",
        ),
    },
    "budget_without_prices": {
        "fr": (
            "budget donné mais l'opérateur n'a pas de tarifs (prices.yaml)",
            "un fichier prices.yaml avec eur_per_vcpu_hour et eur_per_gib_hour",
        ),
        "en": (
            "budget given but the operator has no prices (prices.yaml)",
            "a prices.yaml with eur_per_vcpu_hour, eur_per_gib_hour",
        ),
    },
    "duplicate_mandate": {
        "fr": (
            "la collectivité {mandate} a déjà un mandat sur cette période ({other_path})",
            "des périodes de validité disjointes",
        ),
        "en": (
            "collectivité {mandate} already has a mandate for this period ({other_path})",
            "validity periods that do not overlap",
        ),
    },
    "unfunded_segment": {
        "fr": (
            "plaque {plaque} : les {level_fr} du département {departement} n'ont pas de mandat {when_fr}",
            "un mandat qui finance cette partie de la plaque",
        ),
        "en": (
            "plaque {plaque}: {level} of département {departement} has no mandate {when_en}",
            "a mandate that funds this part of the plaque",
        ),
    },
    "mandate_expired": {
        "fr": (
            "mandat expiré : valable du {start} au {end}, nous sommes le {today}",
            "un mandat renouvelé (nouvelles dates validite.du / validite.au)",
        ),
        "en": (
            "expired mandate: valid from {start} to {end}, today is {today}",
            "a renewed mandate (new validite.du / validite.au dates)",
        ),
    },
    "mandate_not_yet_valid": {
        "fr": ("mandat pas encore en vigueur : valable du {start} au {end}, nous sommes le {today}", None),
        "en": ("mandate not in force yet: valid from {start} to {end}, today is {today}", None),
    },
    "no_mandate_in_force": {
        "fr": (
            "plaque {plaque} : {level} du département {departement} sans mandat en vigueur du {start} au {end}",
            "un mandat en vigueur sur ces dates pour cette partie de la plaque",
        ),
        "en": (
            "plaque {plaque}: {level} of département {departement} has no mandate in force from {start} to {end}",
            "a mandate in force on these dates for this part of the plaque",
        ),
    },
    "yaml_syntax": {
        "fr": ("YAML illisible : {problem_fr}", "une indentation régulière (espaces) et « clé: valeur »"),
        "en": ("unreadable YAML: {problem}", "regular indentation (spaces) and “key: value”"),
    },
    "yaml_alias": {
        "fr": ("les alias (*nom) sont interdits", "la valeur écrite en entier"),
        "en": ("aliases (*name) are not allowed", "the value written out"),
    },
    "yaml_merge": {
        "fr": ("les fusions (<<) sont interdites", "les champs écrits en entier"),
        "en": ("merge keys (<<) are not allowed", "the fields written out"),
    },
    "yaml_duplicate_key": {
        "fr": ("la clé « {key} » apparaît deux fois", "chaque clé une seule fois"),
        "en": ("key “{key}” appears twice", "each key once"),
    },
    "yaml_key_type": {
        "fr": ("une clé doit être un simple texte", "« nom: valeur »"),
        "en": ("a key must be plain text", "“name: value”"),
    },
    "yaml_bad_value": {
        "fr": ("valeur illisible : {problem}", None),
        "en": ("unreadable value: {problem}", None),
    },
    "yaml_too_large": {
        "fr": ("fichier trop gros (plus de {limit} octets)", "un mandat de quelques kilo-octets"),
        "en": ("file too large (more than {limit} bytes)", "a mandate of a few kilobytes"),
    },
    "yaml_legacy_encoding": {
        "fr": (
            "fichier enregistré en Windows-1252 (Latin-1) : lu tel quel ; enregistrez-le en UTF-8 (VS Code : "
            "cliquez sur l'encodage en bas à droite, « Enregistrer avec l'encodage », UTF-8)",
            "un fichier texte UTF-8",
        ),
        "en": (
            "file saved as Windows-1252 (Latin-1): read as such; save it as UTF-8 (VS Code: click the encoding "
            "in the status bar, 'Save with Encoding', UTF-8)",
            "a UTF-8 text file",
        ),
    },
    "yaml_too_deep": {
        "fr": ("imbrication trop profonde (plus de {depth} niveaux)", "un mandat de quelques niveaux d'indentation"),
        "en": ("nested too deep (more than {depth} levels)", "a mandate a few indentation levels deep"),
    },
    "yaml_not_regular": {
        "fr": ("ce n'est pas un fichier ordinaire (tube, périphérique ou dossier)", "un fichier texte .yaml"),
        "en": ("not a regular file (pipe, device or folder)", "a .yaml text file"),
    },
    "yaml_ambiguous_number": {
        "fr": (
            "nombre écrit à la mode YAML 1.1 (0x…, 0o…, 1_000, 1:30, .inf) : son sens dépend de l'outil",
            "des chiffres décimaux simples, ou la valeur entre guillemets si c'est du texte",
        ),
        "en": (
            "number in a YAML 1.1 form (0x…, 0o…, 1_000, 1:30, .inf): its meaning depends on the tool",
            "plain decimal digits, or the value between quotes if it is text",
        ),
    },
    "not_a_mandate": {
        "fr": (
            "ce fichier n'est pas un mandat (aucune des clés collectivite, validite, finance)",
            "un mandat : collectivite, validite, finance",
        ),
        "en": (
            "this file is not a mandate (none of the keys collectivite, validite, finance)",
            "a mandate: collectivite, validite, finance",
        ),
    },
    "yaml_not_utf8": {
        "fr": ("le fichier n'est pas en UTF-8", "un fichier texte UTF-8"),
        "en": ("the file is not UTF-8", "a UTF-8 text file"),
    },
    "yaml_unreadable": {
        "fr": ("fichier illisible : {problem}", None),
        "en": ("cannot read file: {problem}", None),
    },
    "yaml_not_found": {
        "fr": ("fichier introuvable", None),
        "en": ("file not found", None),
    },
    "not_yaml": {
        "fr": ("ce n'est pas un fichier YAML (.yaml)", "un fichier .yaml"),
        "en": ("not a YAML file (.yaml)", "a .yaml file"),
    },
    "config": {
        "fr": ("{message}", None),
        "en": ("{message}", None),
    },
}

LABELS = {
    "fr": {
        "error": "erreur",
        "warning": "avertissement",
        "found": "trouvé",
        "expected": "attendu",
        "example": "exemple",
        "missing": "(rien)",
        "summary": "{files} fichier(s) vérifié(s) : {errors} erreur(s), {warnings} avertissement(s)",
    },
    "en": {
        "error": "error",
        "warning": "warning",
        "found": "found",
        "expected": "expected",
        "example": "example",
        "missing": "(nothing)",
        "summary": "{files} file(s) checked: {errors} error(s), {warnings} warning(s)",
    },
}

TYPE_WORDS = {
    "fr": {
        "integer": "un nombre entier",
        "number": "un nombre",
        "string": "du texte",
        "array": "une liste « - … »",
        "object": "des champs « nom: valeur »",
        "boolean": "oui/non (true/false)",
        "null": "rien",
    },
    "en": {
        "integer": "a whole number",
        "number": "a number",
        "string": "text",
        "array": "a list “- …”",
        "object": "fields “name: value”",
        "boolean": "true/false",
        "null": "nothing",
    },
}


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
