"""Académie → zone → région → départements (metropolitan France), and place resolution.

Source: calendar-facts.md §1.1–1.2 (zones unchanged 2019–2022; Caen and Rouen merged into Normandie on
1 January 2020, both zone B, so no calendar impact — the old names stay accepted as aliases).
Corse and the overseas académies have their own calendars, which the base layer does not carry: they are
refused with a clear message rather than silently given a zone.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from capacity.calendar.types import Place
from capacity.errors import InputError


@dataclass(frozen=True)
class Academie:
    id: str
    name: str
    zone: str
    region: str
    departements: tuple[str, ...]


_ROWS = [
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

ACADEMIES: dict[str, Academie] = {
    r[0]: Academie(id=r[0], name=r[1], zone=r[2], region=r[3], departements=tuple(r[4].split())) for r in _ROWS
}
#: Former académies merged into Normandie on 2020-01-01 (décret 2019-1056); same zone B.
ALIASES = {"caen": "normandie", "rouen": "normandie"}
ACADEMIE_OF_DEPARTEMENT: dict[str, str] = {d: a.id for a in ACADEMIES.values() for d in a.departements}
ZONES = ("A", "B", "C")
OUTSIDE_ZONES = {"2a", "2b", "corse", "971", "972", "973", "974", "976"}


def normalise(name: str) -> str:
    """'Nancy Metz', 'nancy-metz', 'ORLÉANS-TOURS' → 'nancy-metz', 'orleans-tours'."""
    text = unicodedata.normalize("NFKD", name.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "-".join(text.replace("'", " ").replace("_", " ").replace("-", " ").split())


def academie(name: str) -> Academie:
    key = normalise(name)
    key = ALIASES.get(key, key)
    if key in ACADEMIES:
        return ACADEMIES[key]
    if key in OUTSIDE_ZONES:
        raise InputError(f"{name!r} has its own school calendar (outside zones A/B/C); it is not supported")
    close = difflib.get_close_matches(key, [*ACADEMIES, *ALIASES], n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(ACADEMIES)}"
    raise InputError(f"unknown académie {name!r}{hint}")


def normalise_departement(code: str | int) -> str:
    text = str(code).strip().upper()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    return text


def resolve_place(place: Place) -> Place:
    """Fill the coarser fields from the finest one given, validating every name."""
    if place.departement is not None:
        dept = normalise_departement(place.departement)
        if dept.lower() in OUTSIDE_ZONES:
            raise InputError(f"département {dept} has its own school calendar (outside zones A/B/C); not supported")
        if dept not in ACADEMIE_OF_DEPARTEMENT:
            raise InputError(f"unknown département {place.departement!r}: give a metropolitan number such as 57")
        acad = ACADEMIES[ACADEMIE_OF_DEPARTEMENT[dept]]
        return Place(zone=acad.zone, academie=acad.id, departement=dept)
    if place.academie is not None:
        acad = academie(place.academie)
        return Place(zone=acad.zone, academie=acad.id)
    if place.zone is not None:
        zone = place.zone.strip().upper().removeprefix("ZONE ").strip()
        if zone not in ZONES:
            raise InputError(f"unknown zone {place.zone!r}: use A, B or C")
        return Place(zone=zone)
    raise InputError("give a zone, an académie or a département")


def academies_of_zone(zone: str) -> tuple[str, ...]:
    return tuple(a.id for a in ACADEMIES.values() if a.zone == zone)


def departements_of_academie(name: str) -> tuple[str, ...]:
    return academie(name).departements
