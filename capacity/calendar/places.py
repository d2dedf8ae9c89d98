"""Académie → zone → région → départements (metropolitan France), and place resolution.

Source: calendar-facts.md §1.1–1.2 (conf. H). The zones did not change in 2019–2022; Caen and Rouen merged
into the académie de Normandie on 1 January 2020 (décret 2019-1056), both zone B, so the merger has no
calendar impact: the former names stay accepted and keep their own départements (`caen` = 14, 50, 61).

Corse (2A, 2B) and the overseas académies have their own school calendars, which the `holidays` base
layer does not carry (it knows zones A/B/C only). Rather than silently give them a zone, they are refused
with an `InputError` that says so.

Names are matched without accents, case or punctuation ("Nancy-Metz", "nancy metz", "ORLÉANS-TOURS").
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from capacity.calendar.types import Place
from capacity.common.errors import InputError

ZONES: tuple[str, ...] = ("A", "B", "C")
#: Day the académie de Normandie replaced Caen and Rouen.
NORMANDIE_FROM = date(2020, 1, 1)


@dataclass(frozen=True)
class Academie:
    """One académie: `id` is the accent-free slug used everywhere in code and files."""

    id: str
    name: str
    zone: str
    region: str
    departements: tuple[str, ...]
    #: For a former académie (Caen, Rouen): the one it merged into, and its last day.
    merged_into: str | None = None
    until: date | None = None


_ROWS = [
    # (id, name, zone, région, départements) — calendar-facts.md §1.2
    ("clermont-ferrand", "Clermont-Ferrand", "A", "Auvergne-Rhône-Alpes", "03 15 43 63"),
    ("grenoble", "Grenoble", "A", "Auvergne-Rhône-Alpes", "07 26 38 73 74"),
    ("lyon", "Lyon", "A", "Auvergne-Rhône-Alpes", "01 42 69"),
    ("besancon", "Besançon", "A", "Bourgogne-Franche-Comté", "25 39 70 90"),
    ("dijon", "Dijon", "A", "Bourgogne-Franche-Comté", "21 58 71 89"),
    ("bordeaux", "Bordeaux", "A", "Nouvelle-Aquitaine", "24 33 40 47 64"),
    ("limoges", "Limoges", "A", "Nouvelle-Aquitaine", "19 23 87"),
    ("poitiers", "Poitiers", "A", "Nouvelle-Aquitaine", "16 17 79 86"),
    ("aix-marseille", "Aix-Marseille", "B", "Provence-Alpes-Côte d'Azur", "04 05 13 84"),
    ("nice", "Nice", "B", "Provence-Alpes-Côte d'Azur", "06 83"),
    ("amiens", "Amiens", "B", "Hauts-de-France", "02 60 80"),
    ("lille", "Lille", "B", "Hauts-de-France", "59 62"),
    ("nancy-metz", "Nancy-Metz", "B", "Grand Est", "54 55 57 88"),
    ("reims", "Reims", "B", "Grand Est", "08 10 51 52"),
    ("strasbourg", "Strasbourg", "B", "Grand Est", "67 68"),
    ("nantes", "Nantes", "B", "Pays de la Loire", "44 49 53 72 85"),
    ("normandie", "Normandie", "B", "Normandie", "14 27 50 61 76"),
    ("orleans-tours", "Orléans-Tours", "B", "Centre-Val de Loire", "18 28 36 37 41 45"),
    ("rennes", "Rennes", "B", "Bretagne", "22 29 35 56"),
    ("creteil", "Créteil", "C", "Île-de-France", "77 93 94"),
    ("paris", "Paris", "C", "Île-de-France", "75"),
    ("versailles", "Versailles", "C", "Île-de-France", "78 91 92 95"),
    ("montpellier", "Montpellier", "C", "Occitanie", "11 30 34 48 66"),
    ("toulouse", "Toulouse", "C", "Occitanie", "09 12 31 32 46 65 81 82"),
]

#: Current académies (since 2020-01-01), by id.
ACADEMIES: dict[str, Academie] = {
    r[0]: Academie(id=r[0], name=r[1], zone=r[2], region=r[3], departements=tuple(r[4].split())) for r in _ROWS
}
_LAST_DAY_BEFORE_NORMANDIE = date(2019, 12, 31)
#: Former académies merged into Normandie on 2020-01-01; still accepted everywhere.
FORMER_ACADEMIES: dict[str, Academie] = {
    "caen": Academie("caen", "Caen", "B", "Normandie", ("14", "50", "61"), "normandie", _LAST_DAY_BEFORE_NORMANDIE),
    "rouen": Academie("rouen", "Rouen", "B", "Normandie", ("27", "76"), "normandie", _LAST_DAY_BEFORE_NORMANDIE),
}
#: Former name → current académie (kept for callers that only need the zone or the current id).
ALIASES: dict[str, str] = {k: a.merged_into or k for k, a in FORMER_ACADEMIES.items()}

#: Metropolitan départements in the zone system, with their names (calendar-facts.md §1.2).
DEPARTEMENTS: dict[str, str] = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence", "05": "Hautes-Alpes",
    "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes", "09": "Ariège", "10": "Aube", "11": "Aude",
    "12": "Aveyron", "13": "Bouches-du-Rhône", "14": "Calvados", "15": "Cantal", "16": "Charente",
    "17": "Charente-Maritime", "18": "Cher", "19": "Corrèze", "21": "Côte-d'Or", "22": "Côtes-d'Armor",
    "23": "Creuse", "24": "Dordogne", "25": "Doubs", "26": "Drôme", "27": "Eure", "28": "Eure-et-Loir",
    "29": "Finistère", "30": "Gard", "31": "Haute-Garonne", "32": "Gers", "33": "Gironde", "34": "Hérault",
    "35": "Ille-et-Vilaine", "36": "Indre", "37": "Indre-et-Loire", "38": "Isère", "39": "Jura",
    "40": "Landes", "41": "Loir-et-Cher", "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique",
    "45": "Loiret", "46": "Lot", "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire",
    "50": "Manche", "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle",
    "55": "Meuse", "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise",
    "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin", "69": "Rhône",
    "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie", "74": "Haute-Savoie",
    "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne", "78": "Yvelines", "79": "Deux-Sèvres",
    "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne", "83": "Var", "84": "Vaucluse", "85": "Vendée",
    "86": "Vienne", "87": "Haute-Vienne", "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort",
    "91": "Essonne", "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne",
    "95": "Val-d'Oise",
}  # fmt: skip

ACADEMIE_OF_DEPARTEMENT: dict[str, str] = {d: a.id for a in ACADEMIES.values() for d in a.departements}

#: Places with their own school calendar, outside zones A/B/C (art. D.521-6/7 code de l'éducation).
_OUTSIDE_ZONES: dict[str, str] = {
    "2a": "Corse-du-Sud (2A)", "2b": "Haute-Corse (2B)", "20": "Corse", "corse": "Corse",
    "corse-du-sud": "Corse-du-Sud (2A)", "haute-corse": "Haute-Corse (2B)",
    "971": "Guadeloupe", "guadeloupe": "Guadeloupe", "972": "Martinique", "martinique": "Martinique",
    "973": "Guyane", "guyane": "Guyane", "974": "La Réunion", "la-reunion": "La Réunion",
    "reunion": "La Réunion", "976": "Mayotte", "mayotte": "Mayotte", "975": "Saint-Pierre-et-Miquelon",
    "saint-pierre-et-miquelon": "Saint-Pierre-et-Miquelon", "977": "Saint-Barthélemy",
    "saint-barthelemy": "Saint-Barthélemy", "978": "Saint-Martin", "saint-martin": "Saint-Martin",
}  # fmt: skip


def normalise(name: str) -> str:
    """'Nancy Metz', 'ORLÉANS-TOURS', "Val d'Oise" → 'nancy-metz', 'orleans-tours', 'val-d-oise'."""
    text = unicodedata.normalize("NFKD", str(name).strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    for sep in ("'", "’", "_", "-", "."):
        text = text.replace(sep, " ")
    return "-".join(text.split())


_DEPARTEMENT_BY_NAME = {normalise(n): code for code, n in DEPARTEMENTS.items()}
_REGIONS: dict[str, str] = {normalise(a.region): a.region for a in ACADEMIES.values()}


def _outside_zones(key: str) -> InputError:
    return InputError(
        f"{_OUTSIDE_ZONES[key]} has its own school calendar, outside zones A/B/C; capctl only supports "
        "metropolitan France without Corse (the `holidays` base layer has no Corse or overseas school "
        "calendar)"
    )


def normalise_departement(code: str | int) -> str:
    """'54', 54, '7', 'Moselle', '2a' → the two-character code ('54', '07', '57', '2A'); no validation."""
    text = str(code).strip()
    if text.isdigit() and len(text) == 1:
        return "0" + text
    if text.isdigit():
        return text
    key = normalise(text)
    if key in _DEPARTEMENT_BY_NAME:
        return _DEPARTEMENT_BY_NAME[key]
    return text.upper()


def _suggest(key: str, candidates: list[str]) -> str | None:
    """The candidate the user most likely meant: a unique one containing what they typed, else the closest."""
    containing = [c for c in candidates if key and key in c]
    if len(containing) == 1:
        return containing[0]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def find_academie(name: str) -> Academie:
    """The académie called `name` (current or former), or an InputError with a suggestion."""
    key = normalise(name)
    key = key.removeprefix("academie-de-").removeprefix("academie-d-").removeprefix("ac-")
    if key in ACADEMIES:
        return ACADEMIES[key]
    if key in FORMER_ACADEMIES:
        return FORMER_ACADEMIES[key]
    if key in _OUTSIDE_ZONES:
        raise _outside_zones(key)
    if key in _REGIONS:
        region = _REGIONS[key]
        ids = ", ".join(a.id for a in ACADEMIES.values() if a.region == region)
        raise InputError(f"{name!r} is a région, not an académie; its académies are: {ids}")
    if key in _DEPARTEMENT_BY_NAME and key not in ACADEMIES:
        code = _DEPARTEMENT_BY_NAME[key]
        raise InputError(
            f"{name!r} is a département ({code}), not an académie; give it as a département, "
            f"or use its académie {ACADEMIE_OF_DEPARTEMENT[code]!r}"
        )
    hint = _suggest(key, [*ACADEMIES, *FORMER_ACADEMIES])
    known = ", ".join(ACADEMIES)
    if hint:
        raise InputError(f"unknown académie {name!r}; did you mean {hint!r}? (known: {known})")
    raise InputError(f"unknown académie {name!r}; known académies: {known}")


def check_departement(code: str | int) -> str:
    """The normalised code of a metropolitan département in the zone system, or an InputError."""
    dept = normalise_departement(code)
    key = normalise(dept)
    if key in _OUTSIDE_ZONES:
        raise _outside_zones(key)
    if dept in DEPARTEMENTS:
        return dept
    hint = _suggest(normalise(str(code)), list(_DEPARTEMENT_BY_NAME))
    extra = f"; did you mean {DEPARTEMENTS[_DEPARTEMENT_BY_NAME[hint]]!r}?" if hint else ""
    raise InputError(
        f"unknown département {code!r}: give a metropolitan number such as '57' or a name such as 'Moselle'{extra}"
    )


def check_zone(zone: str) -> str:
    """'A', 'b', 'Zone C', 'zone-a' → 'A', 'B', 'C'; anything else is an InputError."""
    key = normalise(zone).removeprefix("zone-").upper()
    if key in ZONES:
        return key
    raise InputError(f"unknown zone {zone!r}: use A, B or C")


def academie_of_departement(code: str | int, on: date | None = None) -> str:
    """The académie of a département; `on` before 2020-01-01 gives Caen or Rouen for Normandie."""
    dept = check_departement(code)
    if on is not None:
        for former in FORMER_ACADEMIES.values():
            if former.until is not None and on <= former.until and dept in former.departements:
                return former.id
    return ACADEMIE_OF_DEPARTEMENT[dept]


def departements_of_academie(name: str) -> tuple[str, ...]:
    return find_academie(name).departements


def zone_of_academie(name: str) -> str:
    return find_academie(name).zone


def region_of_academie(name: str) -> str:
    return find_academie(name).region


def academies_of_zone(zone: str, on: date | None = None) -> tuple[str, ...]:
    """Ids of the académies of a zone; `on` before 2020-01-01 lists Caen and Rouen instead of Normandie."""
    z = check_zone(zone)
    out: list[str] = []
    for a in ACADEMIES.values():
        if a.zone != z:
            continue
        if on is not None and on < NORMANDIE_FROM and a.id == "normandie":
            out.extend(f.id for f in FORMER_ACADEMIES.values())
        else:
            out.append(a.id)
    return tuple(out)


def departements_of_zone(zone: str) -> tuple[str, ...]:
    z = check_zone(zone)
    return tuple(sorted(d for a in ACADEMIES.values() if a.zone == z for d in a.departements))


def academies_of_region(region: str) -> tuple[str, ...]:
    key = normalise(region)
    if key not in _REGIONS:
        hint = _suggest(key, list(_REGIONS))
        extra = f"; did you mean {_REGIONS[hint]!r}?" if hint else ""
        raise InputError(f"unknown région {region!r}{extra}")
    return tuple(a.id for a in ACADEMIES.values() if a.region == _REGIONS[key])


@lru_cache(maxsize=4096)
def resolve_place(place: Place) -> Place:
    """Validate a place and fill the coarser fields from the finest one given.

    A département brings its current académie and zone; an académie brings its zone. Fields given
    together must agree (département 54 is not in zone A). Former académies (Caen, Rouen) are kept as
    given when they are the finest field, since they cover fewer départements than Normandie.
    """
    zone = check_zone(place.zone) if place.zone is not None else None
    acad = find_academie(place.academie) if place.academie is not None else None
    if place.departement is not None:
        dept = check_departement(place.departement)
        current = ACADEMIES[ACADEMIE_OF_DEPARTEMENT[dept]]
        if acad is not None and dept not in acad.departements:
            raise InputError(
                f"département {dept} ({DEPARTEMENTS[dept]}) is in académie {current.name}, not {acad.name}"
            )
        if zone is not None and zone != current.zone:
            raise InputError(f"département {dept} ({DEPARTEMENTS[dept]}) is in zone {current.zone}, not {zone}")
        return Place(zone=current.zone, academie=current.id, departement=dept)
    if acad is not None:
        if zone is not None and zone != acad.zone:
            raise InputError(f"académie {acad.name} is in zone {acad.zone}, not {zone}")
        return Place(zone=acad.zone, academie=acad.id)
    if zone is not None:
        return Place(zone=zone)
    raise InputError("give a zone (A, B, C), an académie or a département")


def departements_of_place(place: Place) -> frozenset[str]:
    """Every département a (resolved) place covers: the finest field given decides."""
    if place.departement is not None:
        return frozenset({place.departement})
    if place.academie is not None:
        return frozenset(find_academie(place.academie).departements)
    if place.zone is not None:
        return frozenset(departements_of_zone(place.zone))
    raise InputError("give a zone (A, B, C), an académie or a département")
