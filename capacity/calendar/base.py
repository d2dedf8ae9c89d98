"""Base layer from the maintained `holidays` package: public holidays and zone A/B/C school holidays.

`holidays` (>= 0.100) carries the zone school holidays 2018–2029 with the unified spring 2021 break, the
Ascension bridges and the July/September boundaries right (checked against calendar-facts.md §1.3 and §3:
summer 2021 from Wed 7 Jul, Wed 1 Sep 2021 still a holiday, rentrée Thu 2 Sep; 2022 summer from Fri 8 Jul;
Ascension 2021 ends Sun 16 May). Alsace-Moselle (57, 67, 68) adds Good Friday and 26 December.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import holidays

FIRST_YEAR, LAST_YEAR = 2018, 2029
SUPPORTED_FROM = date(2018, 9, 1)
SUPPORTED_TO = date(2029, 8, 31)
ALSACE_MOSELLE = {"57": "57", "67": "6AE", "68": "6AE"}


@dataclass(frozen=True)
class BaseLayer:
    """Lookups for one zone and one public-holiday subdivision (None = general French calendar)."""

    school: dict[date, str]
    public: dict[date, str]


def base_layer(zone: str, departement: str | None) -> BaseLayer:
    """The base layer that applies to a département (or to a whole zone when it is None)."""
    return _base_layer(zone, ALSACE_MOSELLE.get(departement or ""))


@cache
def _base_layer(zone: str, subdiv: str | None) -> BaseLayer:
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    school = holidays.France(  # type: ignore[attr-defined]
        subdiv=f"Zone {zone}", categories=("school",), years=years, language="fr"
    )
    public = holidays.France(subdiv=subdiv, years=years, language="fr")  # type: ignore[attr-defined]
    return BaseLayer(school=dict(school.items()), public=dict(public.items()))
