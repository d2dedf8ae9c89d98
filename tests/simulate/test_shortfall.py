"""What users feel: shortfall above saturation, the SLO and the operating point; the fair HPA; and the
weekly refit replayed with the operator's own decision."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from typer.testing import CliRunner

from capacity.cli import app
from capacity.common.timegrid import PARIS
from capacity.learning.refit import DEFAULT_OPTIONS, history_between, history_window, refit, refit_instants
from capacity.learning.synth import SynthOptions, generate
from capacity.planning.demand import default_rates
from capacity.simulate import hpa
from capacity.simulate.refit import history_first, replay_refits

WEEK = ["--synth", "--from", "2021-03-08", "--to", "2021-03-14", "--resolution", "5m", "--sweep", "",
        "--plaque", "occitanie", "--output", "json"]  # fmt: skip


def simulate(*extra: str) -> dict:
    result = CliRunner().invoke(app, ["simulate", *WEEK, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {s["strategy"]: s for s in json.loads(result.stdout)["strategies"]} | {"_meta": json.loads(result.stdout)}


@pytest.fixture(scope="module")
def week() -> dict:
    return simulate()


def test_every_strategy_reports_three_levels_of_shortfall(week: dict) -> None:
    for name in ("hpa", "cron", "static", "capctl", "oracle"):
        s = week[name]
        sat, slo, op = (
            s["short_user_minutes_saturation"],
            s["short_user_minutes_slo"],
            s["underprovisioned_user_minutes"],
        )
        assert 0 <= sat <= slo <= op, name  # more capacity counted, fewer users short
        assert s["shortfall"]["headroom_breaches"]["user_minutes"] == op
        assert s["shortfall"]["saturation"]["plaque_hours"] <= s["shortfall"]["headroom_breaches"]["plaque_hours"]
        assert s["shortfall"]["saturation"]["peak_users"] <= s["shortfall"]["headroom_breaches"]["peak_users"]
    assert week["hpa"]["underprovisioned_user_minutes"] > 0  # a reactive HPA breaches its headroom


def test_an_slo_at_saturation_counts_what_saturation_counts() -> None:
    at_one = simulate("--slo-utilisation", "1")
    for name in ("hpa", "capctl"):
        assert at_one[name]["short_user_minutes_slo"] == at_one[name]["short_user_minutes_saturation"]


def test_the_table_notes_say_how_the_hpa_is_modelled(week: dict) -> None:
    note = week["_meta"]["hpa_notes"][0]
    assert "averageUtilization" in note and "metrics-server" in note
    assert week["_meta"]["hpa"]["metrics_lag_s"] == 60


@given(arrays(np.float64, (12, 3), elements=st.floats(0, 100)), st.integers(0, 5))
def test_the_hpa_sees_the_load_late(load: np.ndarray, lag: int) -> None:
    seen = hpa.lagged(load, lag)
    assert np.array_equal(seen[lag:], load[: len(load) - lag])
    assert (seen[:lag] == load[0]).all()


def test_pods_allowed_past_their_request_let_the_hpa_see_the_whole_overload() -> None:
    load, ready = np.array([10.0]), np.array([2])
    capped = hpa.recommend(load, ready, ready, np.array([hpa.ratio_cap_for(0.7)]), 0.1)
    burst = hpa.recommend(load, ready, ready, np.array([hpa.ratio_cap_for(0.7, limit_ratio=2.0)]), 0.1)
    assert capped[0] == 3  # 2 pods at 100 % of their request report 1/0.7 at most
    assert burst[0] == 6
    with pytest.raises(ValueError, match="limit below the request"):
        hpa.ratio_cap_for(0.7, limit_ratio=0.5)


def test_the_replay_runs_the_operators_refit_decision(calendar, policies) -> None:
    plaques = [policies.topology.plaque("occitanie")]
    first, last = date(2021, 3, 8), date(2021, 3, 14)
    history = generate(calendar, plaques, history_first(first), last, SynthOptions(metrics=("sessions",))).history()
    replay = replay_refits(history, calendar, plaques, default_rates(), first, last)
    instants = refit_instants(first, last)
    assert [r.at for r in replay.records] == instants
    day = instants[0].date()
    direct = refit(
        history_between(history, *history_window(day, DEFAULT_OPTIONS)), calendar, plaques, default_rates(), day
    )
    assert replay.records[0].result == direct.result
    assert replay.records[0].candidate_error == direct.validation.candidate_error
    assert replay.rates_for(first)["occitanie"].rates == pytest.approx(direct.model.rates_for("occitanie").rates)


def test_simulate_refit_weekly_reports_its_refits() -> None:
    meta = simulate("--refit", "weekly")["_meta"]
    assert meta["refit"]["refits"] == 2  # the Sunday before the window, and the window's Sunday
    assert meta["refit"]["accepted"] + meta["refit"]["rejected"] == 2


def test_capctls_own_days_above_saturation_point_at_the_incident(calendar, policies) -> None:
    """The replay names the days where capctl's own users were above saturation: on a week with one of the
    generator's incidents (an outage, then everyone reconnecting), that day, that plaque, that hour."""
    plaque = policies.topology.plaque("auvergne-rhone-alpes")
    first, last = date(2020, 12, 7), date(2020, 12, 8)
    drawn = generate(calendar, [plaque], first, last, SynthOptions(metrics=("sessions",))).incidents
    assert len(drawn) == 1  # the week was chosen for it
    at = datetime.fromtimestamp(drawn[0][1], PARIS)
    args = ["simulate", "--synth", "--from", str(first), "--to", str(last), "--plaque", plaque.id]
    args += ["--resolution", "5m", "--sweep", "", "--output", "json"]
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    capctl = next(s for s in json.loads(res.stdout)["strategies"] if s["strategy"] == "capctl")
    days = capctl["own_saturation_days"]
    assert days and days[0]["date"] == at.date().isoformat() and days[0]["plaques"] == [plaque.id]
    assert at.hour in days[0]["hours"] or at.hour + 1 in days[0]["hours"]  # the storm follows the outage
    sat = capctl["shortfall"]["saturation"]
    own = sat["user_minutes"] - sat["beyond_ceiling_user_minutes"]
    assert sum(d["user_minutes"] for d in days) == pytest.approx(own, rel=1e-6)
