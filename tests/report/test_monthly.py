"""The monthly report's numbers: what a contact reads must add up and match the plan and the budget."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest

from capacity.calendar import SchoolCalendar
from capacity.planning.budget import plan_month
from capacity.planning.demand import UsageRates
from capacity.planning.monthly import monthly_dict, outlook_window
from capacity.planning.plans import plan_range
from capacity.policy.bundle import Policies
from capacity.present.monthly_html import monthly_html


@pytest.fixture(scope="module")
def april(policies: Policies, calendar: SchoolCalendar, rates: UsageRates) -> dict:
    month = plan_month(date(2021, 4, 1), 3600, policies, calendar, rates)
    window = outlook_window(date(2021, 4, 1), calendar.supported_range[1], today=date(2026, 11, 29))
    assert window == (date(2021, 5, 1), date(2021, 5, 28))
    ahead = list(plan_range(*window, 3600, policies, calendar, rates))
    return monthly_dict(policies.mandate("departement-76", date(2021, 4, 1)), month, ahead, policies.files)


def test_the_month_adds_up_and_matches_the_budget(april: dict) -> None:
    days = april["days"]
    assert [d["date"] for d in days] == [date(2021, 4, i).isoformat() for i in range(1, 31)]
    assert april["total_eur"] == pytest.approx(sum(d["eur"] for d in days), abs=0.05)
    assert days[-1]["cumulative_eur"] == pytest.approx(april["total_eur"], abs=0.01)
    assert april["total_eur"] <= april["budget"]["monthly_eur"] + 0.5
    assert april["days_short"] == april["budget"]["short_days"] == ["2021-04-06", "2021-04-26"]


def test_shortfalls_say_when_who_and_why(april: dict) -> None:
    sixth = next(d for d in april["days"] if d["date"] == "2021-04-06")
    (s,) = sixth["shortfalls"]
    assert s["at"].startswith("2021-04-06T08:00")
    by_slot = {row["at"]: row for row in sixth["slots"]}
    assert sum(by_slot["08:00"][p] for p in ("eleves", "enseignants", "parents")) == pytest.approx(
        s["peak_kept_out"], abs=2
    )
    assert {c["reason"] for c in s["causes"]} == {"budget:departement-76"}


def test_the_coming_weeks_are_four_weeks_after_the_month(april: dict) -> None:
    weeks = april["outlook"]
    assert [w["from"] for w in weeks] == ["2021-05-01", "2021-05-08", "2021-05-15", "2021-05-22"]


def test_outlook_starts_after_today_within_the_month_and_stops_with_the_calendar() -> None:
    assert outlook_window(date(2026, 11, 1), date(2028, 8, 31), today=date(2026, 11, 29))[0] == date(2026, 11, 30)
    assert outlook_window(date(2028, 8, 1), date(2028, 8, 31)) is None


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_is_french_self_contained_and_names_the_causes_in_french(april: dict) -> None:
    page = _Page()
    page.feed(monthly_html(april, "0.1.0"))
    assert ("html", {"lang": "fr"}) in page.tags
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _, a in page.tags if any(k in a for k in ("src", "href"))]
    assert sum(t == "svg" for t, _ in page.tags) == 4  # daily cost, cumulative vs budget, two short days
    text = " ".join(page.text)
    assert "contenu dans le budget mensuel de departement-76" in text and "budget:" not in text
    assert "rapport d'avril 2021" in text and "5\u00a0860 utilisateurs" in text  # never broken across lines


def test_report_errors_are_one_french_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.cli import assert_one_line_error, capctl

    def report(collectivite: str, month: str) -> str:
        res = capctl("report", "--collectivite", collectivite, "--month", month, "--out", str(tmp_path / "r.html"))
        return assert_one_line_error(res)

    assert report("departement-76", "2018-10") == (
        "capctl : erreur : aucun mandat de departement-76 n'est en vigueur en octobre 2018"
    )
    assert report("departement-99", "2021-04").startswith("capctl : erreur : aucun mandat pour la collectivité")
    assert report("departement-76", "2021-13").startswith("capctl: error: invalid --month '2021-13'")
