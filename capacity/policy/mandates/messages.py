"""The words of `capctl policy validate`: one headline and one "expected" per problem code, in French and
English, with the labels and type names they use. Data only; problems.py formats them."""

from __future__ import annotations

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
