"""The replay runs the operator's nowcast: a day a fifth busier than forecast from the morning on gets
higher capctl floors in the afternoon (not before noon), fewer user-minutes short, and `--nowcast-most 1`
replays without it."""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from capacity.calendar import SchoolCalendar
from capacity.cli import app
from capacity.common.timegrid import BASE_STEP_S
from capacity.learning.window import midnight_s
from capacity.operator.reload import OperatorSettings
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_day
from capacity.policy.bundle import load_policies
from capacity.simulate.run import simulate
from capacity.simulate.scenario import build
from capacity.simulate.trace import DemandTrace

DAY = date(2021, 5, 4)  # an ordinary Tuesday in class


def test_a_busy_day_raises_the_afternoon_floors_and_cuts_the_shortfall() -> None:
    calendar, policies, rates = SchoolCalendar.load([]), load_policies(), default_rates()
    plaque = "occitanie"  # lycées: the evening homework peak is steep
    forecast = plan_day(DAY, BASE_STEP_S, policies, calendar, rates, [plaque]).plaques[0].forecast.users
    trace = DemandTrace(midnight_s(DAY), BASE_STEP_S, (plaque,), forecast[None, :] * 1.2, "test: forecast × 1.2")
    on = build(trace, DAY, DAY, policies, calendar, rates)
    off = build(trace, DAY, DAY, policies, calendar, rates, settings=OperatorSettings(nowcast_most=1.0))
    morning, afternoon = on.local_hour < 12, on.local_hour >= 12
    assert (on.capctl_floor[morning] == off.capctl_floor[morning]).all()
    assert (on.capctl_floor[afternoon] >= off.capctl_floor[afternoon]).all()
    assert (on.capctl_floor[afternoon] > off.capctl_floor[afternoon]).any()
    short_on = next(r for r in simulate(on, 600, focus_days=()) if r.strategy == "capctl")
    short_off = next(r for r in simulate(off, 600, focus_days=()) if r.strategy == "capctl")
    assert short_on.underprovisioned_user_minutes < 0.5 * short_off.underprovisioned_user_minutes
    assert short_on.cost_eur > short_off.cost_eur


def test_the_cli_says_which_nowcast_it_replayed_and_refuses_a_bad_one() -> None:
    runner = CliRunner()
    args = ["simulate", "--from", "2021-05-04", "--to", "2021-05-04", "--synth", "--plaque", "seine-maritime"]
    args += ["--resolution", "5m", "--sweep", "", "--output", "json"]
    for most in ("1", "1.3"):
        res = runner.invoke(app, [*args, "--nowcast-most", most])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["nowcast_most"] == float(most)
    bad = runner.invoke(app, [*args, "--nowcast-most", "0.5"])
    assert bad.exit_code != 0 and "--nowcast-most" in str(bad.exception) + bad.output
