"""`capctl run --refit weekly`: the leader refits on schedule, keeps the last good model when a refit is
worse or fails, and hot-reloads an accepted one — wired as `capctl run` wires it, against the fake API."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from capacity.common.errors import DataSourceError
from capacity.common.timegrid import PARIS
from capacity.learning.history import History
from capacity.learning.model_file import Model, load_model, save_model
from capacity.learning.refit import RefitOptions, history_between, refit
from capacity.learning.synth import SynthOptions, generate
from capacity.operator.decide import Mode
from capacity.operator.kube.api import KubeSettings
from capacity.operator.refit import RefitSettings
from capacity.operator.wiring import Operator, OperatorOptions, build_operator, build_runner
from capacity.planning.demand import default_rates
from tests.kube.conftest import HOME, POLICIES, cached_calendar
from tests.support.cli import assert_one_line_error, capctl
from tests.support.fake_kube import FakeKube

NOW = datetime(2020, 12, 13, 3, 0, tzinfo=PARIS)  # a Sunday, the scheduled hour
OPTIONS = RefitOptions(history_days=300)


@pytest.fixture(scope="module")
def history(calendar, policies) -> History:
    plaques = list(policies.topology.plaques)
    return generate(calendar, plaques, date(2020, 2, 1), NOW.date(), SynthOptions(metrics=("sessions",))).history()


@pytest.fixture(scope="module")
def broken(history: History) -> History:
    """A synthetic-monitoring probe triples weekend logins for five weeks (see tests/metrics/test_refit.py)."""
    t = history.start_s + np.arange(history.n) * history.step_s
    local = [datetime.fromtimestamp(int(s), PARIS) for s in t]
    weekend = np.array([d.weekday() >= 5 and d.date() >= NOW.date() - timedelta(days=35) for d in local])
    return replace(history, sessions={p: np.where(weekend[None, :], r * 3.0, r) for p, r in history.sessions.items()})


@pytest.fixture(scope="module")
def good_model(history: History, calendar, policies) -> Model:
    return refit(history, calendar, list(policies.topology.plaques), default_rates(), NOW.date(), OPTIONS).model


def operator(fake: FakeKube, tmp_path: Path, model_path: Path, source: History | Exception) -> Operator:
    def fetch(_plaques, first: date, last: date) -> History:
        if isinstance(source, Exception):
            raise source
        return history_between(source, first, last)

    options = OperatorOptions(
        policies=POLICIES,
        mode=Mode.RECOMMEND,
        identity="capctl-a",
        namespace=HOME,
        kube=KubeSettings(kubeconfig=fake.kubeconfig(tmp_path / "kubeconfig"), timeout_s=(2.0, 2.0)),
        self_ref={"apiVersion": "v1", "kind": "Pod", "name": "capctl-a", "namespace": HOME},
        timeout_s=(2.0, 2.0),
        refit=RefitSettings(path=model_path, options=OPTIONS),
    )
    return build_operator(
        options, calendar_loader=cached_calendar, sleep=lambda _s: fake.wait_idle(), refit_fetch=fetch,
        refit_spawn=lambda work: work(),  # the thread's work, synchronously
    )  # fmt: skip


def run_ticks(op: Operator, n: int) -> None:
    """What `Runner.run_forever` does per tick: the controller's tick, then the refit hook."""
    runner, _health = build_runner(op, 60.0, lambda: NOW)
    for _ in range(n):
        op.controller.tick(NOW)
        assert runner.after_tick is not None
        runner.after_tick(NOW)


def refits(op: Operator, result: str) -> float:
    return op.metrics.registry.get_sample_value("capctl_refit_total", {"result": result}) or 0.0


def events(fake: FakeKube, reason: str) -> list[dict]:
    return [w.body for w in fake.writes(r"/events$") if w.body["reason"] == reason]


def test_a_good_refit_is_written_and_hot_reloaded(seeded: FakeKube, tmp_path: Path, history: History) -> None:
    path = tmp_path / "state" / "model.json"
    op = operator(seeded, tmp_path, path, history)
    assert not isinstance(op.source.rates.value, Model)  # the shipped prior: no model yet
    run_ticks(op, 3)
    assert refits(op, "accepted") == 1
    assert load_model(path).fit_window == (date(2020, 2, 17), date(2020, 12, 12))
    assert isinstance(op.source.rates.value, Model) and op.source.rates.value.path == str(path)  # hot-reloaded
    assert events(seeded, "ModelRefitted")
    assert not list(path.parent.glob(".*tmp"))  # written atomically, no temporary file left


def test_a_worse_refit_is_rejected_and_the_last_good_model_kept(
    seeded: FakeKube, tmp_path: Path, broken: History, good_model: Model
) -> None:
    path = tmp_path / "model.json"
    save_model(good_model, path)
    before = path.read_bytes()
    op = operator(seeded, tmp_path, path, broken)
    run_ticks(op, 2)
    assert refits(op, "rejected") == 1 and refits(op, "accepted") == 0
    assert path.read_bytes() == before
    warned = events(seeded, "ModelRefitRejected")
    assert warned and warned[0]["type"] == "Warning" and "kept" in warned[0]["message"]


def test_a_failed_fetch_keeps_the_model_and_says_so(seeded: FakeKube, tmp_path: Path, good_model: Model) -> None:
    path = tmp_path / "model.json"
    save_model(good_model, path)
    before = path.read_bytes()
    op = operator(seeded, tmp_path, path, DataSourceError("Prometheus unreachable"))
    run_ticks(op, 2)
    assert refits(op, "failed") == 1
    assert path.read_bytes() == before
    assert "Prometheus unreachable" in events(seeded, "ModelRefitFailed")[0]["message"]


def test_the_next_refit_waits_for_the_schedule(seeded: FakeKube, tmp_path: Path, history: History) -> None:
    op = operator(seeded, tmp_path, tmp_path / "model.json", history)
    run_ticks(op, 4)  # same instant: refitted once, then not again before next Sunday
    assert refits(op, "accepted") == 1
    assert op.refitter is not None and op.refitter.next_at == NOW + timedelta(days=7)


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--refit", "weekly"], "needs --prometheus-url"), (["--refit", "daily"], "weekly or never")],
)
def test_run_refuses_a_refit_it_cannot_do(args: list[str], needle: str) -> None:
    assert_one_line_error(capctl("run", "--once", *args), needle)
