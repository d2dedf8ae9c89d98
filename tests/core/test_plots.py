"""Plots people read without a legend hunt: one colour per series everywhere, axes from 0, the users
kept out drawn, legends outside the data, focus days picked from the data."""

from __future__ import annotations

from datetime import date

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from capacity.calendar import SchoolCalendar
from capacity.planning.demand import UsageRates
from capacity.planning.plans import plan_day
from capacity.policy.bundle import Policies
from capacity.present import palette
from capacity.present.plan_plot import kept_out, plan_figure
from capacity.present.simulate_plot import focus_days, replay_figure, served_by_strategy
from capacity.simulate.run import replay
from capacity.simulate.scenario import build
from capacity.simulate.trace import synth_trace

matplotlib.use("Agg")


def _outside(fig, legend, ax) -> bool:  # type: ignore[no-untyped-def]
    renderer = fig.canvas.get_renderer()
    box, data = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    return bool(box.x0 >= data.x1 or box.y0 >= data.y1 or box.x1 <= data.x0 or box.y1 <= data.y0)


def _colours(ax) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()}


def test_the_plan_plot(policies: Policies, calendar: SchoolCalendar, rates: UsageRates) -> None:
    plan = plan_day(date(2021, 4, 6), 3600, policies, calendar, rates, ["grand-est", "seine-maritime"])
    fig = plan_figure(plan)
    fig.canvas.draw()
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_ylim()[0] == 0, ax.get_title()
        assert ax.get_legend() is not None and _outside(fig, ax.get_legend(), ax)
    users = _colours(axes[0])
    assert users["forecast users"] == palette.SERIES["forecast"].lower()
    assert users["users the plan serves"] == palette.SERIES["capacity"].lower()
    replicas = [_colours(axes[1]), _colours(axes[3])]
    assert replicas[0]["web"] == replicas[1]["web"] == palette.COMPONENTS["web"].lower()
    assert not set(users.values()) & {replicas[0][c] for c in ("web", "api", "auth", "messaging")}
    # the users kept out at 08:00 on 6 April (Seine-Maritime's budget) are drawn, at their height
    seine = plan.plaques[1]
    out = kept_out(seine)
    assert out[8] > 1000
    bars = [p for p in axes[2].patches if to_hex(p.get_facecolor()) == palette.SERIES["shortfall"].lower()]
    assert max(b.get_height() for b in bars) == pytest.approx(out.max())
    matplotlib.pyplot.close(fig)


@pytest.fixture(scope="module")
def week(policies: Policies, calendar: SchoolCalendar, rates: UsageRates):  # type: ignore[no-untyped-def]
    first, last = date(2021, 4, 19), date(2021, 4, 27)
    plaques = [policies.topology.plaque("seine-maritime")]
    trace = synth_trace(calendar, plaques, first, last, 300)
    scenario = build(trace, first, last, policies, calendar, rates, startup_s=600)
    results, desired = replay(scenario, 600)
    return scenario, results, desired


def test_simulate_focus_days_come_from_the_data(week) -> None:  # type: ignore[no-untyped-def]
    scenario, _, desired = week
    served = served_by_strategy(scenario, desired, 2)
    days = focus_days(scenario, served)
    assert len(days) == 2 and date(2021, 4, 26) in days  # the rentrée (distanciel), the week's largest shortfall
    demand = scenario.trace.users.sum(axis=0)
    day_of_step = np.asarray(scenario.local_day, dtype=object)[scenario.slot_of_step]
    unserved = {d: sum(float(np.maximum(demand - s, 0)[day_of_step == d].sum()) for s in served.values())
                for d in set(day_of_step)}  # fmt: skip
    assert min(unserved[d] for d in days) >= max(v for d, v in unserved.items() if d not in days)


def test_simulate_plot_keeps_one_colour_per_strategy(week) -> None:  # type: ignore[no-untyped-def]
    scenario, results, desired = week
    fig = replay_figure(scenario, results, desired, 2, "test")
    fig.canvas.draw()
    scatter, *mornings = fig.axes
    assert len(mornings) == 2
    dots = [to_hex(c.get_facecolor()[0]) for c in scatter.collections]
    assert dots == [palette.strategy_colour(r.strategy).lower() for r in results]
    for ax in mornings:
        lines = [to_hex(line.get_color()) for line in ax.get_lines()]
        assert lines[: len(results)] == dots  # same strategy, same colour, in every panel
        assert lines[-1] == palette.SERIES["demand"].lower() and lines[-1] not in dots
        assert ax.get_ylim()[0] == 0 and ax.collections  # the demand nobody served is shaded
    (legend,) = fig.legends
    assert all(_outside(fig, legend, ax) for ax in fig.axes)
    assert len(set(dots)) == len(dots)
    matplotlib.pyplot.close(fig)
