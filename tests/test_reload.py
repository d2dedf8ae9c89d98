"""Hot reload of the operator's files: each part on its own, a broken one keeps the last good version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capacity.common.errors import ConfigError
from capacity.learning.model_file import read_model as load_model
from capacity.operator.reload import ConfigSource, load_settings
from capacity.planning.demand import default_rates

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
EVENT = """\
events:
  - id: fermeture-locale
    name: "Fermeture exceptionnelle"
    from: 2021-05-17
    to: 2021-05-17
    state: vacances
    scope: {zones: [B]}
"""


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


def test_unchanged_files_are_not_reloaded(policies: Path) -> None:
    source = ConfigSource(policies)
    first, reloads = source.poll()
    assert {r.part for r in reloads} == {"policies", "settings", "events", "model"}
    again, reloads = source.poll()
    assert reloads == [] and again is first


def test_settings_file_tunes_pacing_and_reports_file_and_line(policies: Path) -> None:
    (policies / "operator.yaml").write_text(
        "stabilisation_window_s: 900\nmax_step_down: 0.5\nanticipation_s: 600\nnowcast_most: 1\n"
    )
    settings = load_settings(policies / "operator.yaml")
    assert (settings.decide.stabilisation_window_s, settings.decide.max_step_down) == (900, 0.5)
    assert settings.anticipation_s == 600 and settings.nowcast_most == 1.0  # 1: the nowcast is off
    (policies / "operator.yaml").write_text("stabilisation_window_s: 900\nmax_step_down: 2\n")
    with pytest.raises(ConfigError, match=r"operator\.yaml:2(:\d+)?: max_step_down: must be in \(0, 1\]"):
        load_settings(policies / "operator.yaml")
    (policies / "operator.yaml").write_text("stabilisation_window: 900\n")
    with pytest.raises(ConfigError, match=r"operator\.yaml:1(:\d+)?: stabilisation_window: unknown setting"):
        load_settings(policies / "operator.yaml")


def test_a_broken_part_keeps_its_last_good_version_while_others_reload(policies: Path, tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    source = ConfigSource(policies, [events])
    good, _ = source.poll()
    (policies / "operator.yaml").write_text("max_step_down: [0.5\n")
    (events / "local.yaml").write_text(EVENT)
    cfg, reloads = source.poll()
    assert [(r.part, r.error is not None) for r in reloads] == [("settings", True), ("events", False)]
    assert cfg.settings == good.settings  # the last good one
    assert cfg.calendar is not good.calendar and cfg.version != good.version
    _, reloads = source.poll()
    assert reloads == []  # still broken: reported once


def test_a_broken_file_at_start_up_is_fatal(policies: Path) -> None:
    (policies / "mandats" / "departement-76.yaml").write_text("collectivite: {id: departement-76\n")
    with pytest.raises(ConfigError, match=r"departement-76\.yaml"):
        ConfigSource(policies).poll()


def test_a_model_file_in_the_rates_spec_format_loads(tmp_path: Path) -> None:
    spec = (REPO / "capacity" / "planning" / "data" / "default_rates.yaml").read_text()
    assert "relative_error: {ordinary: 0.12, event: 0.3}" in spec
    model = tmp_path / "model.yaml"
    model.write_text(spec.replace("relative_error: {ordinary: 0.12, event: 0.3}", "relative_error: {ordinary: 0.2}"))
    rates = load_model(model)
    assert rates.rates.shape == default_rates().rates.shape
    assert rates.relative_error[0] == 0.2 and rates.source == str(model)
    model.write_text('{"states": {}}')
    with pytest.raises(ConfigError, match=r"model\.yaml: not a usage-rate model"):
        load_model(model)
