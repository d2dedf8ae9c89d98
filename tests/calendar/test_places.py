"""Académie → zone → région → départements (calendar-facts.md §1.2) and place resolution."""

from __future__ import annotations

from datetime import date

import pytest

from capacity.calendar import (
    ACADEMIES,
    DEPARTEMENTS,
    Place,
    academie_of_departement,
    academies_of_region,
    academies_of_zone,
    departements_of_academie,
    departements_of_zone,
    region_of_academie,
    resolve_place,
    zone_of_academie,
)
from capacity.common.errors import InputError


def test_every_metropolitan_departement_is_in_exactly_one_academie() -> None:
    seen: dict[str, str] = {}
    for a in ACADEMIES.values():
        for d in a.departements:
            assert d not in seen, f"{d} in {seen.get(d)} and {a.id}"
            seen[d] = a.id
    assert set(seen) == set(DEPARTEMENTS)
    assert len(seen) == 94  # 96 metropolitan départements without 2A and 2B


@pytest.mark.parametrize(
    ("zone", "academies"),
    [
        ("A", "besancon bordeaux clermont-ferrand dijon grenoble limoges lyon poitiers"),
        (
            "B",
            "aix-marseille amiens lille nancy-metz nantes nice normandie orleans-tours reims rennes strasbourg",
        ),
        ("C", "creteil montpellier paris toulouse versailles"),
    ],
)
def test_zone_composition_matches_the_arretes(zone: str, academies: str) -> None:
    """§1.1: zone composition 2019–2022 (with Normandie from 2020)."""
    assert sorted(academies_of_zone(zone)) == academies.split()


def test_before_2020_normandie_was_caen_and_rouen() -> None:
    """§1.1–1.2: décret 2019-1056, in force on 1 Jan 2020; both were zone B."""
    before = academies_of_zone("B", on=date(2019, 12, 31))
    assert "caen" in before and "rouen" in before and "normandie" not in before
    assert "normandie" in academies_of_zone("B", on=date(2020, 1, 1))
    assert academie_of_departement("14", on=date(2019, 9, 2)) == "caen"
    assert academie_of_departement("76", on=date(2019, 9, 2)) == "rouen"
    assert academie_of_departement("76", on=date(2020, 1, 1)) == "normandie"
    assert academie_of_departement("76") == "normandie"
    assert departements_of_academie("Caen") == ("14", "50", "61")
    assert departements_of_academie("rouen") == ("27", "76")
    assert sorted(departements_of_academie("normandie")) == ["14", "27", "50", "61", "76"]
    assert zone_of_academie("Caen") == zone_of_academie("Rouen") == "B"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Nancy-Metz", "nancy-metz"),
        ("nancy metz", "nancy-metz"),
        ("NANCY_METZ", "nancy-metz"),
        ("clermont-ferrand", "clermont-ferrand"),
        ("Clermont Ferrand", "clermont-ferrand"),
        ("Orléans-Tours", "orleans-tours"),
        ("CRÉTEIL", "creteil"),
        ("Besançon", "besancon"),
        ("académie de Lyon", "lyon"),
        ("Caen", "caen"),
    ],
)
def test_academie_names_match_without_accents_or_case(given: str, expected: str) -> None:
    assert resolve_place(Place(academie=given)).academie == expected


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        (Place(departement="57"), Place(zone="B", academie="nancy-metz", departement="57")),
        (Place(departement="7"), Place(zone="A", academie="grenoble", departement="07")),
        (Place(departement="Haute-Garonne"), Place(zone="C", academie="toulouse", departement="31")),
        (Place(departement="14"), Place(zone="B", academie="normandie", departement="14")),
        (Place(academie="Strasbourg"), Place(zone="B", academie="strasbourg")),
        (Place(zone="zone c"), Place(zone="C")),
        (
            Place(zone="B", academie="lille", departement="59"),
            Place(zone="B", academie="lille", departement="59"),
        ),
        (Place(academie="caen", departement="14"), Place(zone="B", academie="normandie", departement="14")),
    ],
)
def test_resolve_fills_coarser_fields_from_the_finest(place: Place, expected: Place) -> None:
    assert resolve_place(place) == expected


@pytest.mark.parametrize(
    ("place", "message"),
    [
        (Place(academie="Nancy"), "did you mean 'nancy-metz'"),
        (Place(academie="Marseille"), "did you mean 'aix-marseille'"),
        (Place(academie="Tolouse"), "did you mean 'toulouse'"),
        (Place(academie="Grand Est"), "région.*nancy-metz, reims, strasbourg"),
        (Place(academie="Moselle"), "département \\(57\\)"),
        (Place(academie="Corse"), "Corse.*own school calendar"),
        (Place(departement="2A"), "Corse-du-Sud.*own school calendar"),
        (Place(departement="2b"), "Haute-Corse"),
        (Place(departement="974"), "La Réunion"),
        (Place(departement="99"), "unknown département '99'"),
        (Place(departement="Moselel"), "did you mean 'Moselle'"),
        (Place(zone="D"), "use A, B or C"),
        (Place(zone="A", departement="54"), "zone B, not A"),
        (Place(academie="lyon", departement="54"), "académie Nancy-Metz, not Lyon"),
        (Place(zone="C", academie="lille"), "zone B, not C"),
        (Place(), "give a zone"),
    ],
)
def test_bad_places_say_what_is_wrong(place: Place, message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_place(place)


def test_regions_group_academies_of_one_zone() -> None:
    """§0.1: no région is split across zones."""
    for region in {a.region for a in ACADEMIES.values()}:
        zones = {zone_of_academie(a) for a in academies_of_region(region)}
        assert len(zones) == 1, region
    assert academies_of_region("grand est") == ("nancy-metz", "reims", "strasbourg")
    assert region_of_academie("Montpellier") == "Occitanie"


def test_the_kosmos_regions_cover_43_departements() -> None:
    """§5: Grand Est (10) + AURA (12) + Occitanie (13) + BFC (8) = 43 départements."""
    regions = ["Grand Est", "Auvergne-Rhône-Alpes", "Occitanie", "Bourgogne-Franche-Comté"]
    counts = [sum(len(departements_of_academie(a)) for a in academies_of_region(r)) for r in regions]
    assert counts == [10, 12, 13, 8]


def test_departements_of_zone_partition_the_country() -> None:
    zones = [set(departements_of_zone(z)) for z in "ABC"]
    assert not (zones[0] & zones[1] or zones[0] & zones[2] or zones[1] & zones[2])
    assert set().union(*zones) == set(DEPARTEMENTS)
