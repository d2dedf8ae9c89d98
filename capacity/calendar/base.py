"""Base layer from the maintained `holidays` package: weekends, public holidays and zone school holidays.

`holidays` 0.109 computes the zone A/B/C school holidays (category `school`) from the published arrêtés
for the school years 2017-2018 to 2027-2028, including the unified spring 2021 break, the Ascension
bridges and the July/September boundaries. It has no summer 2017 and nothing official after summer
2028, so the range this calendar answers for is 2018-09-01 .. 2028-08-31 (`SUPPORTED_FROM/TO`); the
arrays below start earlier (`SPAN_FROM`) so that the first class days of the range can look back at the
days before them (rentrée, bascule). What was checked against calendar-facts.md is listed at the top of
each shipped event file.

Precedence (one state per day): weekend, then public holiday (`ferie`), then school holidays
(`vacances`), else `presentiel`. A public holiday inside school holidays is therefore `ferie`: the day
is off either way, and a public holiday is off for everyone (parents and teachers too), which is what
the demand model needs to know. The lower-precedence names stay in `because`, least decisive first.

Built once per (zone, public-holiday subdivision) and kept for the life of the process: the data is
static and the `holidays` objects cost ~50 ms to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
import numpy as np
import numpy.typing as npt

from capacity.calendar.types import STATE_INDEX, DayState

SUPPORTED_FROM = date(2018, 9, 1)
SUPPORTED_TO = date(2028, 8, 31)
#: The arrays cover whole calendar years around the supported range (look-back room before it).
SPAN_FROM = date(2018, 1, 1)
SPAN_TO = date(2028, 12, 31)
SPAN_DAYS = (SPAN_TO - SPAN_FROM).days + 1
#: Every date of the span, so that slicing gives the dates of a range without arithmetic per day.
SPAN_DATES: tuple[date, ...] = tuple(SPAN_FROM + timedelta(days=i) for i in range(SPAN_DAYS))
#: Weekday (Mon = 0) of each day of the span.
SPAN_WEEKDAYS: npt.NDArray[np.int8] = np.array([d.weekday() for d in SPAN_DATES], dtype=np.int8)

#: Public-holiday subdivision of `holidays` for the Alsace-Moselle départements (Good Friday, 26 Dec).
ALSACE_MOSELLE: dict[str, str] = {"57": "57", "67": "6AE", "68": "6AE"}

WEEKEND_LABEL = "Week-end"
CLASS_DAY_LABEL = "Jour de classe"


@dataclass(frozen=True)
class BaseLayer:
    """Base state of every day of the span, for one zone and one public-holiday subdivision.

    `states` holds `STATE_INDEX` codes; `label_ids` index `labels`, the names that decided each day.
    """

    zone: str
    subdiv: str | None
    states: npt.NDArray[np.int8]
    label_ids: npt.NDArray[np.int16]
    labels: tuple[tuple[str, ...], ...]


def index_of(d: date) -> int:
    """Position of `d` in the span arrays."""
    return (d - SPAN_FROM).days


def subdiv_of_departements(departements: frozenset[str]) -> str | None:
    """The public-holiday subdivision shared by all these départements, or None (general calendar).

    Académie Strasbourg (67, 68) is wholly Alsace; Nancy-Metz is not wholly Moselle, so it gets the
    general calendar (its Moselle schools are only right when asked per département).
    """
    subdivs = {ALSACE_MOSELLE.get(d) for d in departements}
    return subdivs.pop() if len(subdivs) == 1 else None


@cache
def _school_holidays(zone: str) -> dict[date, str]:
    years = range(SPAN_FROM.year, SPAN_TO.year + 1)
    found = holidays.France(  # type: ignore[attr-defined]  # (lazy-loaded country classes)
        subdiv=f"Zone {zone}", categories=("school",), years=years, language="fr"
    )
    return dict(found.items())


@cache
def _public_holidays(subdiv: str | None) -> dict[date, str]:
    years = range(SPAN_FROM.year, SPAN_TO.year + 1)
    found = holidays.France(subdiv=subdiv, years=years, language="fr")  # type: ignore[attr-defined]
    return dict(found.items())


@cache
def base_layer(zone: str, subdiv: str | None) -> BaseLayer:
    """The base layer of a zone ('A', 'B', 'C') with the given public-holiday subdivision."""
    school, public = _school_holidays(zone), _public_holidays(subdiv)
    states = np.empty(SPAN_DAYS, dtype=np.int8)
    label_ids = np.empty(SPAN_DAYS, dtype=np.int16)
    table: dict[tuple[str, ...], int] = {}
    for i, d in enumerate(SPAN_DATES):
        names: list[str] = []
        state = DayState.PRESENTIEL
        for name, hit_state in (
            (school.get(d), DayState.VACANCES),
            (public.get(d), DayState.FERIE),
            (WEEKEND_LABEL if d.weekday() >= 5 else None, DayState.WEEKEND),
        ):
            if name:
                names.append(name)
                state = hit_state  # later entries have higher precedence
        label = tuple(names) or (CLASS_DAY_LABEL,)
        states[i] = STATE_INDEX[state]
        label_ids[i] = table.setdefault(label, len(table))
    states.flags.writeable = False
    label_ids.flags.writeable = False
    return BaseLayer(zone=zone, subdiv=subdiv, states=states, label_ids=label_ids, labels=tuple(table))


def clear_caches() -> None:
    """Forget every built layer (for benchmarks measuring a cold start)."""
    for cached in (base_layer, _school_holidays, _public_holidays):
        cached.cache_clear()
