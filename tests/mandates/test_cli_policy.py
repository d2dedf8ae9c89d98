"""`capctl policy validate | explain | diff` and the shortfall lines of `capctl plan`, as a contact runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from capacity.cli import app
from tests.mandates.conftest import BUNDLE, REPO
from tests.support.cli import capctl

runner = CliRunner()


def test_the_shipped_mandates_are_all_valid():
    res = capctl("policy", "validate", "--today", "2021-04-26")  # the shipped mandates run 2019 to 2023
    assert res.returncode == 0, res.stdout
    assert "0 erreur(s), 0 avertissement(s)" in res.stdout
    shipped = sorted(p.name for p in (REPO / "policies" / "mandats").glob("*.yaml"))
    assert len(shipped) == 23


def test_validate_json_lists_every_problem_with_its_place(tmp_path: Path):
    broken = tmp_path / "departement-57.yaml"
    text = (BUNDLE / "mandats" / "departement-57.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("plafond: 4", "plafnd: 4").replace("'57'", "'5'"), encoding="utf-8")
    res = runner.invoke(app, ["policy", "validate", str(broken), "--policies", str(BUNDLE), "-o", "json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["ok"] is False
    first = data["problems"][0]
    assert set(first) == {
        "file",
        "line",
        "column",
        "severity",
        "code",
        "field",
        "message",
        "found",
        "expected",
        "example",
    }
    codes = {p["code"]: p for p in data["problems"]}
    assert codes["unknown_key"]["field"] == "finance[0].composants.web.plafnd"
    assert codes["unknown_key"]["message"] == "clé inconnue plafnd : vouliez-vous dire plafond ?"
    assert codes["bad_format"]["found"] == "'5'"


def test_validate_in_english_and_yaml(tmp_path: Path):
    broken = tmp_path / "x.yaml"
    broken.write_text("collectivite: {id: x}\n", encoding="utf-8")
    res = runner.invoke(
        app, ["policy", "validate", str(broken), "--lang", "en", "-o", "yaml", "--policies", str(BUNDLE)]
    )
    assert res.exit_code == 1
    data = yaml.safe_load(res.output)
    messages = [p["message"] for p in data["problems"]]
    assert "required field missing: finance" in messages
    assert "no validity dates: the mandate applies at any date" in messages
    assert any(p["code"] == "schema_header_missing" and p["severity"] == "warning" for p in data["problems"])


def test_validate_a_folder_of_drafts_and_a_missing_path(tmp_path: Path):
    drafts = tmp_path / "brouillons"
    drafts.mkdir()
    shutil.copy(BUNDLE / "mandats" / "departement-54.yaml", drafts / "departement-54.yaml")
    ok = runner.invoke(app, ["policy", "validate", str(drafts), "--policies", str(BUNDLE)])
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["policy", "validate", str(tmp_path / "nope.yaml"), "--policies", str(BUNDLE)])
    assert missing.exit_code == 1 and "fichier introuvable" in missing.output


def test_warnings_alone_do_not_fail(tmp_path: Path):
    text = (BUNDLE / "mandats" / "departement-54.yaml").read_text(encoding="utf-8")
    draft = tmp_path / "departement-54.yaml"
    draft.write_text(text.split("\n", 1)[1], encoding="utf-8")  # without the schema line
    res = runner.invoke(app, ["policy", "validate", str(draft), "--policies", str(BUNDLE)])
    assert res.exit_code == 0
    assert "avertissement : la première ligne devrait référencer le schéma" in res.output


def test_explain_says_in_french_what_the_mandate_did_that_day():
    res = capctl("policy", "explain", "--collectivite", "departement-76", "--date", "2021-04-06")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("Mandat departement-76 (Département de la Seine-Maritime) — mardi 6 avril 2021")
    assert "collèges à distance" in out
    assert "Pénurie : jusqu'à" in out and "utilisateurs tenus à l'écart à 08:00" in out
    assert "Quota : parents non admis pendant les plages de fermeture" in out
    assert "Cause : budget du mandat departement-76" in out
    assert "Budget d'avril 2021 : 1 200,00 €" in out
    assert "Jours où le budget réduit la capacité : 6, 26 avril 2021." in out
    assert max(len(line) for line in out.splitlines()) <= 200


def test_explain_json_and_a_quiet_day():
    res = runner.invoke(
        app, ["policy", "explain", "--collectivite", "region-grand-est", "--date", "2021-04-19", "-o", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    (pl,) = data["plaques"]
    assert pl["plaque"] == "grand-est" and pl["shortfall"] is None
    assert {c["component"] for c in pl["components"]} == {"web", "api", "auth", "messaging"}
    assert pl["eur"] > 0 and data["budget"]["binding"] is False
    assert len(data["file_sha256"]) == 64


def test_explain_an_unknown_collectivite_is_one_line_exit_2():
    res = capctl("policy", "explain", "--collectivite", "region-bretagne", "--date", "2021-04-06")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "region-bretagne" in res.stderr and "Traceback" not in res.stderr


def test_diff_shows_what_a_bigger_budget_buys(tmp_path: Path):
    edited = tmp_path / "departement-76.yaml"
    text = (REPO / "policies" / "mandats" / "departement-76.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("mensuel_eur: 1200", "mensuel_eur: 1400"), encoding="utf-8")
    old = REPO / "policies"
    res = runner.invoke(
        app, ["policy", "diff", str(old), str(edited), "--from", "2021-04-01", "--to", "2021-04-30", "-o", "json"]
    )
    assert res.exit_code == 0, res.output
    rows = {r["collectivite"]: r for r in json.loads(res.output)["collectivites"]}
    row = rows["departement-76"]
    assert row["changed"]
    assert row["eur"]["change"] > 0
    assert row["user_hours_kept_out"]["change"] < 0
    assert row["hours_cut_by_budget"]["new"] == 0
    assert not rows["region-grand-est"]["changed"]
    table = runner.invoke(app, ["policy", "diff", str(old), str(edited), "--from", "2021-04-01", "--to", "2021-04-30"])
    assert "departement-76" in table.output and "heures limitées par le budget" in table.output
    assert "22 autre(s) collectivité(s) sans changement." in table.output


def test_diff_rejects_a_reversed_period():
    res = capctl("policy", "diff", "policies", "policies", "--from", "2021-04-30", "--to", "2021-04-01")
    assert res.returncode == 2 and "before --from" in res.stderr


def test_plan_names_who_falls_short_and_why():
    res = capctl("plan", "--date", "2021-04-06")
    assert res.returncode == 0, res.stderr
    assert "Short of capacity" in res.stdout
    assert "grand-est / region-grand-est:" in res.stdout and "ceiling:region-grand-est" in res.stdout
    assert "seine-maritime / departement-76:" in res.stdout and "budget:departement-76" in res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 100
    data = json.loads(capctl("plan", "--date", "2021-04-06", "--plaque", "seine-maritime", "-o", "json").stdout)
    (pl,) = data["plaques"]
    assert pl["shortfall"][0]["collectivite"] == "departement-76"
    assert pl["cost_eur"]["departement-76"] > 0
    assert data["budget_levels"]["departement-76"] < 1
    assert set(data["policy_files"]) >= {"topology.yaml", "prices.yaml", "mandats/departement-76.yaml"}


def test_a_broken_mandate_stops_plan_with_one_french_line(tmp_path: Path):
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    target = tmp_path / "policies" / "mandats" / "region-occitanie.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("plafond: 26", "plafnd: 26"), encoding="utf-8")
    res = capctl("plan", "--date", "2021-04-06", "--policies", str(tmp_path / "policies"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1
    assert "region-occitanie.yaml:" in res.stderr and "vouliez-vous dire plafond ?" in res.stderr
