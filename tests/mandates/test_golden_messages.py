"""What a collectivité contact reads when a mandate is wrong, pinned word for word (French and English).

Golden files live in tests/mandates/golden/; after an intended change of wording, regenerate them with
CAPCTL_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.cli import app
from tests.mandates.conftest import BUNDLE, CASES, REPO

GOLDEN = Path(__file__).resolve().parent / "golden"
TODAY = "2021-04-26"  # inside the test bundle's mandates: golden output does not depend on the clock
FILES = sorted(p.stem for p in (CASES / "files").glob("*.yaml"))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CAPCTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with CAPCTL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["policy", "validate", "--today", TODAY, *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("case", FILES)
def test_one_broken_file(case: str, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out = validate(
        f"tests/mandates/cases/files/{case}.yaml", "--policies", str(BUNDLE.relative_to(REPO)), "--lang", lang
    )
    assert code == 1
    check_golden(f"{case}.{lang}.txt", out)


def break_bundle(root: Path) -> None:
    """Every cross-file problem at once, in a copy of the test bundle."""
    m = root / "mandats"
    region = (m / "region-essai.yaml").read_text(encoding="utf-8")
    (m / "region-essai.yaml").write_text(
        region.replace("mensuel_eur: 2000", "mensuel_eur: 100")
        .replace("plancher_utilisateurs: 3000", "plancher_utilisateurs: 60000")
        .replace("au: 2022-08-31", "au: 2021-08-31"),
        encoding="utf-8",
    )
    bis = region.replace("du: 2020-09-01", "du: 2021-06-01").replace("au: 2022-08-31", "au: 2022-03-31")
    (m / "region-essai-bis.yaml").write_text(bis, encoding="utf-8")
    d54 = (m / "departement-54.yaml").read_text(encoding="utf-8")
    (m / "departement-54.yaml").write_text(d54.replace("web: {", "webb: {"), encoding="utf-8")
    d57 = (m / "departement-57.yaml").read_text(encoding="utf-8")
    (m / "departement-57.yaml").write_text(
        d57.replace("departements: ['57']", "departements: ['54', '57']"), encoding="utf-8"
    )
    (m / "departement-88.yaml").write_text(
        d57.replace("57", "88").replace("Moselle", "Vosges").replace("plaque: lorraine", "plaque: lorrain"),
        encoding="utf-8",
    )
    (m / "departement-55.yaml").write_text(
        d54.replace("54", "55").replace("Meurthe-et-Moselle", "Meuse").replace("['55']", "['57']"), encoding="utf-8"
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_cross_file_problems(lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(BUNDLE, tmp_path / "bundle")
    break_bundle(tmp_path / "bundle")
    monkeypatch.chdir(tmp_path)
    code, out = validate("bundle", "--lang", lang)
    assert code == 1
    check_golden(f"cross-file.{lang}.txt", out)


def test_the_typo_of_the_issue_reads_as_promised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    case = "tests/mandates/cases/files/typos.yaml"
    _, fr = validate(case, "--policies", str(BUNDLE))
    _, en = validate(case, "--policies", str(BUNDLE), "--lang", "en")
    where = "typos.yaml:14:26: erreur : finance[0].composants.web.plafnd : "
    assert where + "clé inconnue plafnd : vouliez-vous dire plafond ?" in fr
    assert "plafnd: did you mean plafond?" in en
