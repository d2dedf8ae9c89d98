"""What the documentation promises about the files holds: the editor's schema and the French example."""

from __future__ import annotations

import re
from pathlib import Path

from capacity.policy.bundle import read_bundle
from capacity.policy.mandates.loader import read_mandate_text
from capacity.policy.mandates.schema import SCHEMA_HEADER
from tests.mandates.conftest import REPO


def test_the_editor_schema_is_the_one_capctl_validates_with():
    shipped = (REPO / "policies" / "mandat.schema.json").read_bytes()
    assert shipped == (REPO / "capacity" / "policy" / "mandates" / "mandat.schema.json").read_bytes()


def test_every_shipped_mandate_starts_with_the_schema_line():
    for path in sorted((REPO / "policies" / "mandats").glob("*.yaml")):
        assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_HEADER, path.name


def test_the_example_of_the_lisezmoi_is_a_valid_mandate(tmp_path: Path):
    text = (REPO / "policies" / "LISEZMOI.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "collectivite:" in b]
    assert len(blocks) == 1
    example = blocks[0]
    read = read_mandate_text(example, "exemple.yaml")
    assert read.mandate is not None and not read.problems, read.problems
    draft = tmp_path / "departement-57.yaml"  # replaces the shipped one: checked against all the others
    draft.write_text(example, encoding="utf-8")
    bundle = read_bundle(REPO / "policies", [draft])
    assert bundle.ok, [p.code for p in bundle.problems]
