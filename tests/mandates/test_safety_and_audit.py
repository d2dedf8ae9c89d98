"""Files people edit cannot blow up the planner, and every plan says which files produced it."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from capacity.common.yamlio import MAX_FILE_BYTES
from capacity.planning.plans import plan_day
from capacity.policy.bundle import load_policies
from capacity.policy.mandates.loader import read_mandate, read_mandate_text

BOMB = """collectivite: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


def test_an_alias_bomb_is_refused_at_the_first_alias():
    read = read_mandate_text(BOMB, "bombe.yaml")
    (p,) = read.problems
    assert p.code == "yaml_alias" and (p.line, p.column) == (2, 8) and read.mandate is None


def test_a_huge_file_is_not_read(tmp_path: Path):
    big = tmp_path / "gros.yaml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    (p,) = read_mandate(big).problems
    assert p.code == "yaml_too_large"


def test_tags_merges_and_duplicate_keys_are_refused():
    for text, code in (
        ("collectivite: !!python/object:os.system [ls]\n", "yaml_bad_value"),
        ("a: {x: 1}\nb:\n  <<: {x: 2}\n", "yaml_merge"),
        ("collectivite: 1\ncollectivite: 2\n", "yaml_duplicate_key"),
        ("\ufeffcollectivite:\n  id: \x07\n", "yaml_syntax"),
    ):
        problems = read_mandate_text(text, "f.yaml").problems
        assert [p.code for p in problems] == [code], text
        assert problems[0].line is not None


def test_a_file_not_in_utf8_is_read_and_says_how_to_fix_it(tmp_path: Path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("collectivite:\n  nom: Département de la Moselle\n".encode("latin-1"))
    first, *rest = read_mandate(f).problems
    assert first.code == "yaml_legacy_encoding" and not first.is_error
    assert not any(p.code.endswith("utf8") for p in rest)  # read as text, "é" included


def test_every_plan_records_the_hash_of_each_policy_file(bundle_copy: Path, calendar, rates):
    pol = load_policies(bundle_copy)
    plan = plan_day(date(2021, 3, 15), 3600, pol, calendar, rates)
    assert plan.policy_sha256 == pol.sha256
    for name, sha in plan.policy_files.items():
        assert hashlib.sha256((bundle_copy / name).read_bytes()).hexdigest() == sha
    assert set(plan.policy_files) == {
        "topology.yaml",
        "prices.yaml",
        "mandats/departement-54.yaml",
        "mandats/departement-57.yaml",
        "mandats/region-essai.yaml",
    }
    # editing one mandate changes its hash and the bundle's, and nothing else
    f = bundle_copy / "mandats" / "departement-57.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("plafond: 7", "plafond: 6"), encoding="utf-8")
    again = plan_day(date(2021, 3, 15), 3600, load_policies(bundle_copy), calendar, rates)
    changed = {k for k in plan.policy_files if plan.policy_files[k] != again.policy_files[k]}
    assert changed == {"mandats/departement-57.yaml"} and again.policy_sha256 != plan.policy_sha256
    assert pol.mandate("departement-57").sha256 == plan.policy_files["mandats/departement-57.yaml"]


def test_a_mandate_acts_only_on_plaques_whose_topology_names_it(bundle_copy: Path):
    topo = bundle_copy / "topology.yaml"
    topo.write_text(topo.read_text(encoding="utf-8").replace(", departement-57]", "]"), encoding="utf-8")
    from capacity.policy.bundle import read_bundle

    bundle = read_bundle(bundle_copy)
    assert bundle.policies is None
    (p,) = [p for p in bundle.problems if p.code == "not_a_funder"]
    assert p.path.endswith("departement-57.yaml") and p.field == "finance[0].plaque"


def test_the_operator_reloads_the_bundle_when_prices_change(bundle_copy: Path):
    from capacity.operator.reload import ConfigSource

    source = ConfigSource(bundle_copy)
    first, _ = source.poll()
    assert first.policies.prices is not None and first.policies.prices.eur_per_vcpu_hour == 0.09
    prices = bundle_copy / "prices.yaml"
    prices.write_text(prices.read_text(encoding="utf-8").replace("0.09", "0.12"), encoding="utf-8")
    second, reloads = source.poll()
    assert [r.part for r in reloads] == ["policies"]
    assert second.policies.prices is not None and second.policies.prices.eur_per_vcpu_hour == 0.12
    assert second.policies.files["prices.yaml"] != first.policies.files["prices.yaml"]
