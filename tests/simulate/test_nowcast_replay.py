"""The replay runs the operator's nowcast: a day a fifth busier than forecast from the morning on gets
higher capctl floors in the afternoon (not before noon), fewer user-minutes short, and `--nowcast-most 1`
replays without it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

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
    table = runner.invoke(app, [*args[:-2], "--nowcast-most", "1"])
    assert table.exit_code == 0 and "no nowcast" in _heading(table.stdout)
    table = runner.invoke(app, args[:-2])
    assert "capctl's nowcast up to ×1.3" in _heading(table.stdout)
    bad = runner.invoke(app, [*args, "--nowcast-most", "0.5"])
    assert bad.exit_code != 0 and "--nowcast-most" in str(bad.exception) + bad.output


TEMPETE = """\
events:
  - id: tempete-fermeture
    name: "Tempête : établissements fermés, continuité pédagogique à distance"
    from: 2021-05-18
    to: 2021-05-18
    state: distanciel
    scope: {zones: [C]}
"""


def test_a_day_the_calendar_gets_wrong_costs_its_morning_rush_and_announcing_it_saves_it(tmp_path: Path) -> None:
    """--surprise: the demand follows a storm closure the plan's calendar does not know. capctl is short at
    the distance rush (8 h: too early for any nowcast); the same day announced in --events is not."""
    events = tmp_path / "tempete.yaml"
    events.write_text(TEMPETE)
    runner = CliRunner()
    args = ["simulate", "--from", "2021-05-17", "--to", "2021-05-19", "--synth", "--plaque", "occitanie"]
    args += ["--resolution", "5m", "--sweep", "", "--output", "json"]

    def capctl(*extra: str) -> dict[str, object]:
        res = runner.invoke(app, [*args, *extra])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        return next(s for s in data["strategies"] if s["strategy"] == "capctl") | {"surprise": data["surprise"]}

    surprised = capctl("--surprise", str(events))
    announced = capctl("--events", str(events))
    usual = capctl()
    assert surprised["surprise"] == [str(events)] and announced["surprise"] == []
    assert surprised["shortfall"]["saturation"]["user_minutes"] > 0
    assert announced["shortfall"]["saturation"]["user_minutes"] == 0
    assert usual["shortfall"]["saturation"]["user_minutes"] == 0  # the storm, not the week, is what hurts
    prom = ["--prometheus-url", "http://127.0.0.1:1", "--surprise", str(events)]
    wrong = runner.invoke(app, ["simulate", "--from", "2021-05-17", "--to", "2021-05-19", *prom])
    assert wrong.exit_code != 0 and "--surprise draws a synthetic demand" in str(wrong.exception) + wrong.output


def _heading(table: str) -> str:
    """The replay table's first sentence, unwrapped."""
    return " ".join(table.split("Users short")[0].split())
