"""What a collectivité contact does with a mandate, exactly as policies/LISEZMOI.md tells them to.

The draft workflow of §5 (copy one's mandate, edit it, `validate` it, `diff` it), every problem in
one run, files saved by any editor (BOM, CRLF, Latin-1), and French a contact reads without wincing.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mandates.conftest import REPO

LISEZMOI = REPO / "policies" / "LISEZMOI.md"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`capctl ARGS` from `cwd`, as a contact types it in their own folder."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CAPCTL_POLICIES", None)
    return subprocess.run(
        [sys.executable, "-m", "capacity", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def documented(command: str) -> list[str]:
    """The arguments of the §5 line of LISEZMOI that starts with `capctl policy COMMAND`, comment dropped."""
    for line in LISEZMOI.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"capctl policy {command} ") and "mon-brouillon.yaml" in line:
            return shlex.split(line.split("#")[0])[1:]
    raise AssertionError(f"LISEZMOI no longer shows `capctl policy {command} … mon-brouillon.yaml`")


@pytest.fixture()
def contact(tmp_path: Path) -> Path:
    """A contact's folder: the installed policies/ and a draft copied from their own mandate, budget raised."""
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    mine = (REPO / "policies" / "mandats" / "departement-76.yaml").read_text(encoding="utf-8")
    assert "mensuel_eur: 1200" in mine
    (tmp_path / "mon-brouillon.yaml").write_text(mine.replace("mensuel_eur: 1200", "mensuel_eur: 2000"), "utf-8")
    return tmp_path


def test_the_draft_workflow_works_as_lisezmoi_words_it(contact: Path) -> None:
    checked = run(contact, *documented("validate"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith("0 erreur(s), 0 avertissement(s)")
    assert "déjà un mandat" not in checked.stdout
    diff = run(contact, *documented("diff"))
    assert diff.returncode == 0, diff.stderr
    lines = diff.stdout.splitlines()
    assert "departement-76" in lines  # the one collectivité the draft changes…
    budget_hours = next(line for line in lines if "heures limitées par le budget" in line)
    assert budget_hours.split()[-3:] == ["10", "0", "-10"]  # …no longer cut by its budget in April 2021
    assert "22 autre(s) collectivité(s) sans changement." in diff.stdout


def test_a_draft_for_the_next_period_is_checked_next_to_the_installed_mandate(contact: Path) -> None:
    draft = contact / "mon-brouillon.yaml"
    text = draft.read_text(encoding="utf-8").replace("du: 2019-09-01", "du: 2028-09-01")
    draft.write_text(text.replace("au: 2028-08-31", "au: 2032-08-31"), encoding="utf-8")
    res = run(contact, "policy", "validate", "mon-brouillon.yaml")
    assert res.returncode == 0, res.stdout
    assert res.stdout.strip().splitlines()[-1].startswith("26 fichier(s)")  # added, not swapped


def test_every_problem_in_one_run(contact: Path) -> None:
    """Four structure errors do not hide the budget that cannot pay the floors (a cross-file check)."""
    draft = contact / "mon-brouillon.yaml"
    text = (
        draft.read_text(encoding="utf-8")
        .replace("web:       {plancher: 1, plafond: 8}", "web:       {plancher: 1, plafnd: 8}")
        .replace("heures_de_cours: 08:00-18:00", "heures_de_cours: 8h-18h")
        .replace("fonction: Chef de projet ENT", "fonction: [Chef]")
        .replace("niveaux: [college]", "niveaux: [college, colege]")
        .replace("mensuel_eur: 2000", "mensuel_eur: 10")
    )
    draft.write_text(text, encoding="utf-8")
    res = run(contact, "policy", "validate", "mon-brouillon.yaml")
    assert res.returncode == 1
    fields = re.findall(r"^mon-brouillon\.yaml:\d+:\d+: erreur : (\S+) :", res.stdout, flags=re.M)
    assert sorted(fields) == sorted(
        [
            "finance[0].composants.web.plafnd",
            "heures_de_cours",
            "collectivite.contacts[0].fonction",
            "finance[0].niveaux[1]",
            "budget.mensuel_eur",
        ]
    ), res.stdout
    assert "ne paie pas les planchers" in res.stdout
    assert "aucun plafond pour le composant web" not in res.stdout  # the typo already says so
    assert "sans mandat" not in res.stdout and "n'ont pas de mandat" not in res.stdout


def test_files_saved_by_any_editor(contact: Path) -> None:
    text = (contact / "mon-brouillon.yaml").read_text(encoding="utf-8")
    bom = contact / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    res = run(contact, "policy", "validate", "bom.yaml")
    assert res.returncode == 0 and "0 erreur(s), 0 avertissement(s)" in res.stdout, res.stdout
    latin = contact / "latin.yaml"
    latin.write_bytes(text.encode("cp1252"))
    res = run(contact, "policy", "validate", "latin.yaml")
    assert res.returncode == 0, res.stdout
    assert "Windows-1252" in res.stdout and "UTF-8" in res.stdout and "1 avertissement(s)" in res.stdout


@pytest.mark.parametrize(
    ("name", "before", "after", "said"),
    [
        ("topology.yaml", "    academies: [", "    academie: [", "did you mean `academies`?"),
        ("topology.yaml", "version: 1\n", "version: 1\nplaque: {}\n", "unknown key `plaque`"),
        ("prices.yaml", "eur_per_gib_hour:", "eur_per_gb_hour:", "unknown key"),
    ],
)
def test_an_unknown_key_is_refused_in_every_policy_file(
    contact: Path, name: str, before: str, after: str, said: str
) -> None:
    path = contact / "policies" / name
    text = path.read_text(encoding="utf-8")
    assert before in text
    path.write_text(text.replace(before, after, 1), encoding="utf-8")
    res = run(contact, "policy", "validate", "--policies", "policies")
    assert res.returncode == 1 and said in res.stdout, res.stdout


def test_french_a_contact_reads_without_wincing(contact: Path) -> None:
    draft = contact / "mon-brouillon.yaml"
    text = draft.read_text(encoding="utf-8").replace("departements: ['76']", "departements: ['27']")
    draft.write_text(text, encoding="utf-8")
    res = run(contact, "policy", "validate", "mon-brouillon.yaml")
    assert "de la plaque seine-maritime : collèges du 76" in res.stdout, res.stdout
    assert "les collèges du département 76 n'ont pas de mandat" in res.stdout, res.stdout
    assert not re.search(r"\bde [aeiouyéè]|\bcollege \d|\blycee \d", res.stdout), res.stdout


def _fields(node: object, where: str = "") -> list[tuple[str, dict[str, object]]]:
    """Every field of the schema an editor can hover: properties, list items, map values."""
    out: list[tuple[str, dict[str, object]]] = []
    if not isinstance(node, dict):
        return out
    for name, sub in (node.get("properties") or {}).items():
        out.append((f"{where}.{name}", sub))
        out.extend(_fields(sub, f"{where}.{name}"))
    for key in ("items", "additionalProperties"):
        sub = node.get(key)
        if isinstance(sub, dict):
            out.append((f"{where}[{key}]", sub))
            out.extend(_fields(sub, f"{where}[{key}]"))
    return out


def test_the_editor_schema_speaks_draft_07_describes_every_field_and_offers_valid_snippets() -> None:
    import json

    from jsonschema import Draft7Validator

    schema = json.loads((REPO / "policies" / "mandat.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    fields = _fields(schema)
    for name, d in schema["definitions"].items():
        fields += [(f"#{name}", d), *_fields(d, f"#{name}")]

    def described(sub: dict[str, object]) -> bool:
        target = str(sub.get("$ref", "")).removeprefix("#/definitions/")
        return bool(str(sub.get("description", "")).strip()) or (target and described(schema["definitions"][target]))

    undescribed = [where for where, sub in fields if not described(sub)]
    assert not undescribed, undescribed
    for where in (".validite.du", ".validite.au", "#examen.du", "#maintenance.debut", ".finance[items]"):
        assert any(w == where for w, _ in fields), where
    snippets = [(schema, s) for s in schema["defaultSnippets"]]
    snippets += [(d, s) for d in schema["definitions"].values() for s in d.get("defaultSnippets", [])]
    assert len(snippets) >= 5
    for sub, snippet in snippets:
        part = {**sub, "definitions": schema["definitions"]}
        errors = [e.message for e in Draft7Validator(part).iter_errors(snippet["body"])]
        assert not errors, (snippet["label"], errors)


def test_explain_speaks_french_reasons_only(contact: Path) -> None:
    res = run(contact, "policy", "explain", "--collectivite", "departement-76", "--date", "2021-04-06")
    assert res.returncode == 0, res.stderr
    assert "Cause : budget du mandat departement-76" in res.stdout
    assert not re.search(r"\b(floor|ceiling|budget|maintenance):|\bprewarm\b|\bforecast\b", res.stdout), res.stdout
