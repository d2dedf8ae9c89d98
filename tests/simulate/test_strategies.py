"""Strategy invariants and the headline on one synthetic month (April 2021: both focus mornings)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from capacity.calendar import SchoolCalendar
from capacity.cli import app
from capacity.operator.lookahead import PlaqueDay, window
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_range
from capacity.policy.bundle import load_policies
from capacity.simulate.delay import ready_replicas
from capacity.simulate.hpa import HpaSettings
from capacity.simulate.metrics import StrategyResult, evaluate, shortfall_users
from capacity.simulate.run import STRATEGIES, desired_replicas, simulate
from capacity.simulate.scenario import Scenario, build
from capacity.simulate.trace import synth_trace

FIRST, LAST = date(2021, 4, 1), date(2021, 4, 30)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    calendar = SchoolCalendar.load([])
    policies = load_policies()
    trace = synth_trace(calendar, list(policies.topology.plaques), FIRST, LAST, 300)
    return build(trace, FIRST, LAST, policies, calendar, default_rates())


@pytest.fixture(scope="module")
def desired(scenario: Scenario) -> dict[str, np.ndarray]:
    return desired_replicas(scenario, 600, HpaSettings())


@pytest.fixture(scope="module")
def results(scenario: Scenario) -> dict[str, StrategyResult]:
    return {r.strategy: r for r in simulate(scenario, 600)}


def test_every_strategy_stays_within_the_mandates(scenario: Scenario, desired: dict[str, np.ndarray]) -> None:
    for name in STRATEGIES:
        assert (desired[name] <= scenario.ceilings()[None, :]).all(), name
        assert (desired[name] >= scenario.floors()[None, :]).all(), name


def test_static_is_short_only_where_the_ceiling_is(scenario: Scenario, desired: dict[str, np.ndarray]) -> None:
    short = shortfall_users(scenario, ready_replicas(desired["static"], desired["static"][0], 2))
    beyond = (scenario.need() > scenario.ceilings()[None, :]).T
    for row in range(len(scenario.trace.plaques)):
        cols = [i for i, u in enumerate(scenario.units) if u.row == row]
        assert not (short[row] > 0)[~beyond[cols].any(axis=0)].any()


def test_oracle_is_the_cheapest_without_avoidable_shortfall(results: dict[str, StrategyResult]) -> None:
    oracle = results["oracle"]
    assert oracle.underprovisioned_user_minutes == pytest.approx(results["static"].underprovisioned_user_minutes)
    for r in results.values():
        assert r.underprovisioned_user_minutes >= oracle.underprovisioned_user_minutes - 1e-6
        if r.underprovisioned_user_minutes <= oracle.underprovisioned_user_minutes + 1e-6:
            assert r.cost_eur >= oracle.cost_eur


def test_users_beyond_the_mandate_ceiling_are_told_apart_from_each_strategys_own(
    results: dict[str, StrategyResult],
) -> None:
    """On 2021-04-06 a ceiling binds: those users are short under every strategy, and are said apart."""
    static = results["static"]
    for level in ("saturation", "slo", "headroom"):
        beyond = getattr(static, level).beyond_ceiling_user_minutes
        assert beyond > 0, level  # the April scenario has a binding ceiling
        assert getattr(static, level).own_user_minutes == pytest.approx(0, abs=1e-6), level  # static is the ceiling
        for r in results.values():
            s = getattr(r, level)
            assert s.beyond_ceiling_user_minutes == pytest.approx(beyond), (r.strategy, level)
            assert 0 <= s.own_user_minutes <= s.user_minutes
    assert results["hpa"].saturation.own_user_minutes > results["capctl"].saturation.own_user_minutes


def test_the_replay_table_says_what_the_ceilings_kept_out_in_100_columns() -> None:
    args = ["simulate", "--from", "2021-04-05", "--to", "2021-04-07", "--synth", "--resolution", "5m", "--sweep", ""]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "Beyond the mandates' ceilings, short under every strategy" in text
    assert "static 0% / 0%" in text
    assert max(len(line) for line in res.stdout.splitlines()) <= 100  # the whole report fits a terminal
    data = json.loads(CliRunner().invoke(app, [*args, "--output", "json"]).stdout)
    for s in data["strategies"]:
        sat = s["shortfall"]["saturation"]
        assert sat["own_share"] == pytest.approx(sat["share"] - sat["beyond_ceiling_share"])
        assert sat["beyond_ceiling_user_minutes"] > 0


def test_oracle_without_delay_orders_exactly_the_need(scenario: Scenario) -> None:
    d = desired_replicas(scenario, 0, HpaSettings())["oracle"]
    assert (d == np.clip(scenario.need(), scenario.floors(), scenario.ceilings())).all()


def test_longer_start_up_never_helps_the_reactive_hpa(scenario: Scenario) -> None:
    fast = {r.strategy: r for r in simulate(scenario, 300, focus_days=())}
    slow = {r.strategy: r for r in simulate(scenario, 1200, focus_days=())}
    assert slow["hpa"].underprovisioned_user_minutes > fast["hpa"].underprovisioned_user_minutes
    assert slow["oracle"].cost_eur >= fast["oracle"].cost_eur


def test_capctl_floor_is_the_operators_window(scenario: Scenario) -> None:
    """The vectorised look-ahead equals capacity.operator.lookahead.window at sampled ticks (before `observed`)."""
    calendar = SchoolCalendar.load([])
    policies = load_policies()
    days = list(plan_range(date(2021, 4, 5), date(2021, 4, 6), 300, policies, calendar, default_rates()))
    from capacity.simulate.capctl import planned_ahead

    pp = [d.plaques[0] for d in days]
    digests = [PlaqueDay.of(p) for p in pp]
    comp = pp[0].components[0]
    horizon = comp.component.lead_time_s + 1800.0
    ahead = planned_ahead(np.concatenate([p.component(comp.component.name).replicas for p in pp]), horizon, 300)
    for slot in (0, 60, 80, 84, 90, 200, 287):
        now = pp[0].forecast.grid.starts[slot]
        assert ahead[slot] == window(digests, comp.component.name, now, horizon).planned.replicas


def test_headline_capctl_beats_the_reactive_alternatives_on_the_focus_mornings(
    results: dict[str, StrategyResult],
) -> None:
    capctl, hpa, cron, oracle = (results[k] for k in ("capctl", "hpa", "cron", "oracle"))
    for i in range(2):
        assert capctl.mornings[i].underprovisioned_user_minutes < hpa.mornings[i].underprovisioned_user_minutes / 3
        assert capctl.mornings[i].underprovisioned_user_minutes < cron.mornings[i].underprovisioned_user_minutes / 2
    assert capctl.underprovisioned_share < hpa.underprovisioned_share / 5
    assert capctl.cost_ratio_to_oracle is not None and capctl.cost_ratio_to_oracle <= 1.2
    assert results["static"].cost_eur > 4 * capctl.cost_eur
    assert oracle.cost_ratio_to_oracle == 1.0


def test_cli_json_shape_and_bad_input() -> None:
    runner = CliRunner()
    args = ["simulate", "--from", "2021-04-26", "--to", "2021-04-27", "--synth", "--plaque", "seine-maritime"]
    res = runner.invoke(app, [*args, "--resolution", "5m", "--sweep", "2m,10m", "--output", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [s["strategy"] for s in data["strategies"]] == list(STRATEGIES)
    for key in ("replica_hours", "cost_eur", "underprovisioned_user_minutes", "demand_user_minutes", "scaling_actions"):
        assert all(key in s for s in data["strategies"])
    assert [p["startup_s"] for p in data["sweep"]] == [600]  # 2 min is not a whole 5-minute step: noted
    assert data["notes"]
    both = runner.invoke(app, [*args, "--prometheus-url", "http://127.0.0.1:1"])
    assert both.exit_code != 0
    odd = runner.invoke(app, [*args, "--resolution", "5m", "--startup", "7m"])
    assert odd.exit_code != 0 and "whole number" in str(odd.exception)


def test_evaluate_counts_user_minutes(scenario: Scenario) -> None:
    zero = np.zeros((scenario.trace.n, len(scenario.units)), dtype=np.int64)
    r = evaluate("none", zero, scenario, 0)
    assert r.underprovisioned_user_minutes == pytest.approx(r.demand_user_minutes)
    assert r.cost_eur == 0.0 and r.scaling_actions == 0
    assert datetime.fromtimestamp(scenario.trace.start_s, UTC).hour in (22, 23)  # local midnight in UTC


def test_capctl_is_configured_with_the_start_up_delay_it_runs_under():
    # An operator whose pods take 20 minutes sets lead_time_s to 20 minutes: its floor must rise earlier
    # than the same operator told 5 minutes, and never be lower.
    calendar = SchoolCalendar.load([])
    policies = load_policies()
    first = last = date(2021, 4, 26)
    trace = synth_trace(calendar, [policies.topology.plaque("seine-maritime")], first, last, 300)
    short = build(trace, first, last, policies, calendar, default_rates(), startup_s=300)
    long = build(trace, first, last, policies, calendar, default_rates(), startup_s=1200)
    assert {u.component.lead_time_s for u in long.units} == {1200}
    morning = (short.local_hour >= 5) & (short.local_hour < 9)
    assert (long.capctl_floor[morning] >= short.capctl_floor[morning]).all()
    first_rise_short = np.argmax(short.capctl_floor[:, 0] > short.capctl_floor[0, 0])
    first_rise_long = np.argmax(long.capctl_floor[:, 0] > long.capctl_floor[0, 0])
    assert first_rise_long < first_rise_short
