"""`capctl plan` and `capctl calendar` as a user runs them: output shapes, widths, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.cli import capctl

REPO = Path(__file__).resolve().parents[2]


def test_plan_json_has_the_documented_shape():
    res = capctl("plan", "--date", "2021-04-26", "--plaque", "grand-est", "--step", "1h", "--output", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["date"] == "2021-04-26"
    (pl,) = data["plaques"]
    assert pl["plaque"] == "grand-est" and pl["zone"] == "B"
    assert pl["levels"]["college"]["state"] == "distanciel" and pl["levels"]["college"]["rentree"] is True
    web = next(c for c in pl["components"] if c["component"] == "web")
    assert web["target"] == {"namespace": "ent-grand-est", "kind": "Deployment", "name": "web", "hpa": "web"}
    assert len(web["slots"]) == 24
    first = web["slots"][7]
    assert first["start"] == "2021-04-26T07:00:00+02:00"
    assert set(first) >= {"start", "demand", "wish", "replicas", "reasons"}
    assert first["reasons"][0] in ("forecast", "prewarm")
    assert all(s["replicas"] <= s["ceiling"] for c in pl["components"] for s in c["slots"])


def test_plan_yaml_and_15_minute_slots_on_a_dst_day():
    res = capctl("plan", "--date", "2021-03-28", "--plaque", "occitanie", "--step", "15m", "-o", "yaml")
    assert res.returncode == 0, res.stderr
    data = yaml.safe_load(res.stdout)
    slots = data["plaques"][0]["components"][0]["slots"]
    assert len(slots) == 23 * 4
    assert slots[8]["start"] == "2021-03-28T03:00:00+02:00"  # 02:00 does not exist that night


def test_plan_table_fits_100_columns_and_shows_every_plaque():
    res = capctl("plan", "--date", "2021-04-26")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    for plaque in ("grand-est", "occitanie", "auvergne-rhone-alpes", "bourgogne-franche-comte", "seine-maritime"):
        assert any(line.startswith(plaque) for line in lines)
    assert "distanciel*" in res.stdout


def test_plan_plot_writes_a_png(tmp_path):
    out = tmp_path / "plan.png"
    res = capctl("plan", "--date", "2021-04-06", "--plaque", "grand-est", "--plot", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calendar_json_lists_the_three_zones():
    res = capctl("calendar", "--date", "2021-04-26", "--output", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [p["zone"] for p in data["places"]] == ["A", "B", "C"]
    for place in data["places"]:
        assert place["levels"]["ecole"]["state"] == "presentiel"
        assert place["levels"]["college"]["state"] == "distanciel"
        assert place["levels"]["lycee"]["rentree"] is True
        assert place["levels"]["lycee"]["because"]


def test_calendar_for_a_departement_names_its_academie_and_zone():
    res = capctl("calendar", "--date", "2021-04-02", "--departement", "57", "-o", "json")
    assert res.returncode == 0, res.stderr
    (place,) = json.loads(res.stdout)["places"]
    assert place["zone"] == "B" and place["departement"] == "57"
    assert place["levels"]["college"]["state"] == "ferie"  # Good Friday in Moselle


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["plan", "--date", "2021-13-01"], "invalid date"),
        (["plan", "--date", "1990-01-01"], "supported range"),
        (["plan", "--date", "2021-04-26", "--plaque", "bretagne"], "unknown plaque"),
        (["plan", "--date", "2021-04-26", "--step", "7m"], "invalid step"),
        (["calendar", "--date", "2021-04-26", "--academie", "gotham"], "gotham"),
    ],
)
def test_bad_input_ends_with_exit_2_and_one_clear_line(args, needle):
    res = capctl(*args)
    assert res.returncode == 2
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_broken_policy_file_is_named_with_its_line(tmp_path):
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    target = tmp_path / "policies" / "mandats" / "region-occitanie.yaml"
    text = target.read_text().replace("plafond:", "plafond: [", 1)
    target.write_text(text)
    res = capctl("plan", "--date", "2021-04-26", "--policies", str(tmp_path / "policies"))
    assert res.returncode == 2
    assert "region-occitanie.yaml:" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
