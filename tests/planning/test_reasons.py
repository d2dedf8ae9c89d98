"""The reason vocabulary: every reason the planner and `decide` write is in it, reads back, and says itself
in English and French."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.calendar import SchoolCalendar
from capacity.operator.decide import History, Planned, decide
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_day
from capacity.planning.reasons import MANDATE_KINDS, Reason, ReasonKind
from capacity.policy.bundle import load_policies

ids = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)


@given(kind=st.sampled_from(sorted(ReasonKind)), who=ids)
def test_a_reason_reads_back_from_its_wire_form(kind: ReasonKind, who: str) -> None:
    reason = Reason(kind, who if kind in MANDATE_KINDS else None)
    assert Reason.parse(reason.wire) == reason


def test_the_wire_strings_are_the_ones_scripts_match_on() -> None:
    assert Reason(ReasonKind.FLOOR, "region-grand-est").wire == "floor:region-grand-est"
    assert Reason(ReasonKind.RUSH_BAND).wire == "rush-band"
    assert Reason(ReasonKind.MAX_STEP).wire == "max-step"


def test_a_mandate_reason_names_its_collectivite_in_both_languages() -> None:
    reason = Reason.parse("ceiling:departement-67")
    assert "departement-67" in reason.message("en") and "departement-67" in reason.message("fr")
    assert reason.message("fr").startswith("plafond")


def test_a_clamp_without_its_collectivite_or_an_unknown_word_is_refused() -> None:
    with pytest.raises(ValueError):
        Reason(ReasonKind.FLOOR)
    with pytest.raises(ValueError):
        Reason.parse("because-i-said-so")


def test_every_reason_in_a_real_plan_is_in_the_vocabulary() -> None:
    plan = plan_day(date(2021, 4, 26), 3600, load_policies(), SchoolCalendar.load([]), default_rates())
    seen = {r for pp in plan.plaques for cp in pp.components for i in range(len(cp.replicas)) for r in cp.reasons(i)}
    kinds = {Reason.parse(r).kind for r in seen}
    assert {ReasonKind.FORECAST, ReasonKind.PREWARM, ReasonKind.FLOOR} <= kinds
    assert all(Reason.parse(r).message("fr") for r in seen)


def test_decide_speaks_the_same_vocabulary() -> None:
    planned = Planned(replicas=3, wish=3, floor=2, ceiling=4, funders=("region-occitanie",))
    now = datetime(2021, 4, 26, 6, tzinfo=UTC)
    blind = decide(planned, 10, History(), now=now, metrics_ok=False, observed_need=9)
    assert [Reason.parse(r).kind for r in blind.reasons] == [
        ReasonKind.FORECAST,
        ReasonKind.OBSERVED,
        ReasonKind.CEILING,
        ReasonKind.FALLBACK,
    ]
