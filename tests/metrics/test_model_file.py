"""The model file: round trip, readable layout, clear errors, and what plan and the operator do with it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from capacity.common.errors import ConfigError
from capacity.learning.components import ComponentFit
from capacity.learning.model_file import Model, PlaqueFit, load_model, save_model
from capacity.operator.reload import ConfigSource
from capacity.planning.demand import default_rates
from capacity.planning.plans import plan_day
from tests.support.cli import assert_one_line_error, capctl


def a_model() -> Model:
    prior = default_rates()
    rng = np.random.default_rng(1)
    rates = replace(prior, rates=prior.rates * rng.uniform(0.8, 1.2, prior.rates.shape), source="test")
    occ = PlaqueFit(
        fitted=True,
        level=np.array([1.2, 0.9, 1.0]),
        state_factors=np.array([1.1, 1.0, 1.3, 1.0, 1.0, 1.0]),
        components={"web": ComponentFit(0.05, 200.0, 0.005, 900, "")},
    )
    return Model(rates, {"occitanie": occ}, (date(2019, 9, 2), date(2021, 7, 6)), {"prometheus": "http://p:9090"})


def test_round_trip_keeps_every_number_to_six_digits(tmp_path):
    path = tmp_path / "model.json"
    save_model(a_model(), path)
    back = load_model(path)
    np.testing.assert_allclose(back.rates.rates, a_model().rates.rates, rtol=1e-5)
    np.testing.assert_allclose(back.rates.surge, a_model().rates.surge, rtol=1e-5)
    assert back.fit_window == (date(2019, 9, 2), date(2021, 7, 6))
    assert back.plaques["occitanie"].components["web"].rps_per_replica == 200.0
    assert str(path) in back.rates.source


def test_the_file_is_versioned_and_one_curve_per_line(tmp_path):
    path = tmp_path / "model.json"
    save_model(a_model(), path)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["version"] == 1 and doc["kind"] == "capctl-usage-model"
    assert len(doc["rates"]["eleves"]["distanciel"]["mon"]) == 288
    curve_lines = [line for line in text.splitlines() if line.strip().startswith('"mon": [')]
    assert len(curve_lines) == 3 * 6  # profiles × states, each Monday curve on one line


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version=2), "version 2 is not supported"),
        (lambda d: d.update(kind="other"), "not a capctl model file"),
        (lambda d: d["rates"]["parents"]["ferie"]["sun"].pop(), "rates.parents.ferie.sun: expected 288 numbers"),
        (lambda d: d["surges"]["rentree"]["presentiel"].__setitem__(3, -1), "surges.rentree.presentiel"),
        (lambda d: d["plaques"]["occitanie"]["level"].pop("eleves"), "plaques.occitanie.level.eleves"),
        (lambda d: d.pop("fit_window"), "fit_window"),
    ],
)
def test_broken_files_name_the_field(tmp_path, edit, message):
    path = tmp_path / "model.json"
    save_model(a_model(), path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as exc:
        load_model(path)
    assert str(path) in str(exc.value)


def test_invalid_json_gives_the_line(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{\n "version": 1,\n "kind": oops\n}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"model\.json:3: invalid JSON"):
        load_model(path)


def test_plaque_rates_apply_level_and_state_factors():
    model = a_model()
    occ = model.rates_for("occitanie").rates
    shared = model.rates.rates
    np.testing.assert_allclose(occ[0, 2], shared[0, 2] * 1.2 * 1.3)  # pupils at a distance
    np.testing.assert_allclose(occ[1, 0], shared[1, 0] * 0.9 * 1.1)  # teachers in class
    assert model.rates_for("unknown-plaque") is model.rates


def test_plan_uses_fitted_capacity(policies, calendar):
    model = a_model()
    pol = model.apply(policies)
    web = pol.topology.plaque("occitanie").component("web")
    assert (web.requests_per_user_s, web.rps_per_replica) == (0.05, 200.0)
    api = pol.topology.plaque("occitanie").component("api")
    assert api == policies.topology.plaque("occitanie").component("api")  # not measured: unchanged
    plan = plan_day(date(2021, 4, 26), 3600, pol, calendar, model.rates_by_plaque(["occitanie"]), ["occitanie"])
    assert plan.rates_source == model.rates.source


def test_plan_cli_with_a_broken_model_is_one_line(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"kind": "capctl-usage-model", "version": 7}', encoding="utf-8")
    assert_one_line_error(capctl("plan", "--date", "2021-04-26", "--model", str(bad)), "version 7")


def test_the_operator_reads_a_fitted_model(tmp_path, policies):
    path = tmp_path / "model.json"
    save_model(a_model(), path)
    root = Path(policies.root)
    config, _ = ConfigSource(root, model=path).poll()
    assert isinstance(config.rates, dict) and set(config.rates) == {p.id for p in policies.topology.plaques}
    np.testing.assert_allclose(config.rates["occitanie"].rates, a_model().rates_for("occitanie").rates, rtol=1e-5)
    assert config.policies.topology.plaque("occitanie").component("web").rps_per_replica == 200.0
