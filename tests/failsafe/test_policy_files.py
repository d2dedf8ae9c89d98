"""Broken, hostile or surprising policy files: refused with file:line, never planned with, never a crash.

One test per fault of issue #9 (README "Failure behaviour" points here): a ceiling of 0, ceilings under
the topology's minimum, 600 levels of nesting, a huge file, a FIFO, a /dev/zero symlink, a private file
behind a symlink, YAML 1.1 numbers, and mandates expired, not yet valid or missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity.calendar import SchoolCalendar
from capacity.common import files
from capacity.common.errors import ConfigError
from capacity.common.yamlio import MAX_DEPTH, MAX_FILE_BYTES, load_yaml_text
from capacity.operator.reload import ConfigSource
from capacity.policy.bundle import load_policies, read_bundle
from capacity.policy.mandates.loader import read_mandate, read_mandate_text
from capacity.policy.mandates.problems import render
from tests.failsafe.conftest import TODAY, edit, validate
from tests.mandates.conftest import BUNDLE
from tests.support.cli import assert_one_line_error, capctl

D54 = Path("mandats") / "departement-54.yaml"


# ---- ceilings -------------------------------------------------------------------------------------------


def test_a_ceiling_of_zero_is_an_error_with_its_line_and_is_never_planned(bundle: Path) -> None:
    edit(bundle / D54, "web: {plancher: 1, plafond: 5}", "web: {plancher: 0, plafond: 0}")
    code, out = validate("--policies", str(bundle), "--today", TODAY, "--lang", "en")
    assert code == 1
    assert re.search(
        r"departement-54\.yaml:17:\d+: error: finance\[0\]\.composants\.web\.plafond: value too small", out
    )
    assert "a number ≥ 1" in out
    with pytest.raises(ConfigError, match="plafond"):
        load_policies(bundle)  # the bundle refuses it: the operator keeps its last good configuration
    res = capctl("plan", "--date", TODAY, "--policies", str(bundle))
    assert_one_line_error(res, "departement-54.yaml:17", "plafond")
    assert res.stdout == ""  # no plan at all, let alone one at zero replicas


def test_ceilings_adding_up_below_the_technical_minimum_are_an_error(bundle: Path) -> None:
    # web ceilings 8 + 5 + 4 = 17 replicas; a technical minimum of 20 cannot be met within them
    topology = bundle / "topology.yaml"
    text = topology.read_text(encoding="utf-8")
    topology.write_text(text.replace("min_replicas: 2", "min_replicas: 20", 1), encoding="utf-8")  # web's
    read = read_bundle(bundle)
    below = [p for p in read.problems if p.code == "ceiling_below_minimum"]
    assert read.policies is None
    assert {Path(p.path).name for p in below} == {"departement-54.yaml", "departement-57.yaml", "region-essai.yaml"}
    assert all(p.line is not None and p.field.endswith("web.plafond") for p in below)
    assert "totalisent 17 réplica(s) à partir du 2020-09-01, sous le minimum technique (20)" in render(below[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.integers(min_value=-3, max_value=12).map(str),
        st.sampled_from(["0x10", "010", "0o7", "1_0", "1:30", ".inf", "-.inf", ".nan", "1e1", "+3", "3.5", "'4'", ""]),
    )
)
def test_any_ceiling_value_either_plans_within_the_minimum_or_names_its_line(bundle: Path, value: str) -> None:
    path = bundle / D54
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("web: {plancher: 1, plafond: 5}", f"web: {{plancher: 0, plafond: {value}}}"))
        read = read_bundle(bundle)
        if read.policies is None:
            errors = [p for p in read.problems if p.is_error]
            assert errors and all(p.line is not None for p in errors if p.path.endswith("departement-54.yaml"))
            assert any(p.path.endswith("departement-54.yaml") for p in errors)
        else:
            ceilings = [m.limits["lorraine"]["web"].ceiling for m in read.policies.mandates]
            assert min(ceilings) >= 1 and sum(ceilings) >= 2
    finally:
        path.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("fault", ["ceiling 0", "fifo", "/dev/zero", "600 deep", "0x10"])
def test_the_operator_keeps_the_last_good_policies(bundle: Path, calendar: SchoolCalendar, fault: str) -> None:
    """A broken edit reaching a running operator: reload refused (without hanging), last good bundle kept."""
    source = ConfigSource(bundle, calendar_loader=lambda _: calendar)
    good, _ = source.poll()
    extra = bundle / "mandats" / "nouveau.yaml"
    if fault == "ceiling 0":
        edit(bundle / D54, "web: {plancher: 1, plafond: 5}", "web: {plancher: 0, plafond: 0}")
    elif fault == "fifo":
        os.mkfifo(extra)
    elif fault == "/dev/zero":
        extra.symlink_to("/dev/zero")
    elif fault == "600 deep":
        extra.write_text("collectivite: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    else:
        edit(bundle / D54, "plafond: 5", "plafond: 0x10")
    config, reloads = source.poll()
    assert config.policies.sha256 == good.policies.sha256
    assert [r.part for r in reloads if r.error is not None] == ["policies"]


# ---- files that are not what they seem --------------------------------------------------------------------


def test_nesting_600_levels_deep_is_refused_at_its_line(tmp_path: Path) -> None:
    deep = tmp_path / "profond.yaml"
    deep.write_text("collectivite: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    assert deep.stat().st_size < 1300
    (p,) = read_mandate(deep).problems
    assert p.code == "yaml_too_deep" and p.line == 1
    assert f"plus de {MAX_DEPTH} niveaux" in render(p)
    block = "".join("  " * i + "a:\n" for i in range(600))  # the block style too
    with pytest.raises(ConfigError, match="nested deeper than"):
        load_yaml_text(block, "bloc.yaml")


def test_a_huge_file_is_refused_after_reading_at_most_the_cap_plus_one_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "gros.yaml"
    with big.open("wb") as f:
        f.truncate(50 * MAX_FILE_BYTES)  # sparse: 50 MB of zeros
    read_sizes: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read_sizes.append(len(data))
        return data

    monkeypatch.setattr(files.os, "read", counting_read)
    (p,) = read_mandate(big).problems
    assert p.code == "yaml_too_large"
    assert sum(read_sizes) == MAX_FILE_BYTES + 1


def test_a_fifo_is_refused_without_waiting_for_a_writer(bundle: Path) -> None:
    fifo = bundle / "mandats" / "tube.yaml"
    os.mkfifo(fifo)
    (p,) = read_mandate(fifo).problems  # would block forever if opened the ordinary way
    assert p.code == "yaml_not_regular"
    res = capctl("policy", "validate", str(bundle), "--today", TODAY, timeout=120)
    assert res.returncode == 1 and "tube.yaml: erreur : ce n'est pas un fichier ordinaire" in res.stdout
    res = capctl("plan", "--date", TODAY, "--policies", str(bundle), timeout=120)
    assert_one_line_error(res, "tube.yaml", "pas un fichier ordinaire")


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(bundle: Path) -> None:
    zero = bundle / "mandats" / "zero.yaml"
    zero.symlink_to("/dev/zero")
    (p,) = read_mandate(zero).problems
    assert p.code == "yaml_not_regular"
    res = capctl("plan", "--date", TODAY, "--policies", str(bundle), timeout=120)
    assert_one_line_error(res, "zero.yaml", "pas un fichier ordinaire")


SECRET = "S3CR3T-4f9a"
PRIVATE_FILES = {
    "shadow": f"root:$6${SECRET}:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",
    "key-value": f"password: {SECRET}\nuser: admin\n",
    "list": f"- {SECRET}\n- other\n",
    "scalar": f"{SECRET}\n",
    "json": f'{{"token": "{SECRET}", "n": 1}}\n',
    "broken yaml": f"token: {SECRET}\n  bad: [\n",
    "tabs": f"token:\n\t{SECRET}\n",
    "pem": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
}


@pytest.mark.parametrize("shape", sorted(PRIVATE_FILES))
def test_a_private_file_behind_a_symlink_is_never_echoed(bundle: Path, tmp_path: Path, shape: str) -> None:
    private = tmp_path / "private"
    private.write_text(PRIVATE_FILES[shape], encoding="utf-8")
    private.chmod(0o600)
    link = bundle / "mandats" / "lien.yaml"
    link.symlink_to(private)
    read = read_mandate(link)
    assert read.mandate is None and read.problems
    for lang in ("fr", "en"):
        assert SECRET not in "\n".join(render(p, lang) for p in read.problems)
    code, out = validate("--policies", str(bundle), "--today", TODAY, "-o", "json")
    assert code == 1 and "lien.yaml" in out and SECRET not in out
    res = capctl("plan", "--date", TODAY, "--policies", str(bundle))
    assert_one_line_error(res, "lien.yaml")
    assert SECRET not in res.stderr + res.stdout


# ---- YAML 1.1 numbers ------------------------------------------------------------------------------------


def test_leading_zeros_are_decimal_as_in_yaml_1_2(bundle: Path) -> None:
    edit(bundle / D54, "web: {plancher: 1, plafond: 5}", "web: {plancher: 01, plafond: 010}")
    pol = load_policies(bundle)
    limits = next(m for m in pol.mandates if m.id == "departement-54").limits["lorraine"]["web"]
    assert (limits.floor, limits.ceiling) == (1, 10)  # YAML 1.1 would have read 010 as 8


@pytest.mark.parametrize("number", ["0x10", "0o17", "1_000", "1:30", ".inf", ".nan", "0b101"])
def test_yaml_1_1_number_forms_are_refused_with_their_line(bundle: Path, number: str) -> None:
    edit(bundle / D54, "mensuel_eur: 600", f"mensuel_eur: {number}")
    (p,) = [p for p in read_mandate(bundle / D54).problems if p.is_error]
    assert (p.code, p.line, p.column) == ("yaml_ambiguous_number", 11, 16)
    assert "nombre écrit à la mode YAML 1.1" in render(p)
    res = capctl("plan", "--date", TODAY, "--policies", str(bundle))
    assert_one_line_error(res, "departement-54.yaml:11:16", "YAML 1.1")


MANDATE = (BUNDLE / "mandats" / "region-essai.yaml").read_text(encoding="utf-8")
VALUE_LINES = [i for i, line in enumerate(MANDATE.splitlines()) if re.match(r"^\s*[a-z_]+: \S", line)]
YAML11 = st.sampled_from(["0x1F", "0o17", "0b11", "1_000", "1:30", "190:20:30", ".inf", "-.Inf", ".NaN", "+0x10"])
NUMBERS = st.one_of(YAML11, st.integers(-(10**6), 10**6).map(str), st.sampled_from(["010", "08", "1e3", "0.5"]))


@settings(max_examples=60, deadline=None)
@given(line=st.sampled_from(VALUE_LINES), token=NUMBERS)
def test_a_number_anywhere_either_reads_as_yaml_1_2_or_names_its_line(line: int, token: str) -> None:
    lines = MANDATE.splitlines()
    key = lines[line].split(":", 1)[0]
    lines[line] = f"{key}: {token}"
    read = read_mandate_text("\n".join(lines) + "\n", "m.yaml")
    assert all(p.line is not None for p in read.problems if p.is_error)
    ambiguous = [p for p in read.problems if p.code == "yaml_ambiguous_number"]
    if token.lstrip("+-") in {"0x1F", "0o17", "0b11", "1_000", "1:30", "190:20:30", ".inf", ".Inf", ".NaN", "0x10"}:
        assert [(p.line, p.column) for p in ambiguous] == [(line + 1, len(key) + 3)]
        assert read.mandate is None
    else:
        assert ambiguous == []


def test_the_same_forms_between_quotes_are_text(bundle: Path) -> None:
    doc = load_yaml_text("a: '0x10'\nb: \"1:30\"\nc: 08:00-18:00\n", "f.yaml")
    assert doc.data == {"a": "0x10", "b": "1:30", "c": "08:00-18:00"}


# ---- mandates in force ------------------------------------------------------------------------------------


def test_expired_mandates_are_warnings_with_their_dates(bundle: Path) -> None:
    code, out = validate("--policies", str(bundle), "--today", "2022-09-15")
    assert code == 0  # warnings only: the plan of a past day still works
    expired = "mandat expiré : valable du 2020-09-01 au 2022-08-31, nous sommes le 2022-09-15"
    assert f"departement-54.yaml:9:3: avertissement : validite.au : {expired}" in out
    assert "plaque lorraine : college du département 54 sans mandat en vigueur du 2022-09-15 au 2022-10-15" in out
    code, out = validate("--policies", str(bundle), "--now", "2022-09-15T08:00:00+02:00", "--lang", "en")
    assert "warning: validite.au: expired mandate: valid from 2020-09-01 to 2022-08-31, today is 2022-09-15" in out
    assert "lycee of département 57 has no mandate in force from 2022-09-15 to 2022-10-15" in out


def test_a_mandate_ending_within_the_horizon_warns_before_the_gap(bundle: Path) -> None:
    code, out = validate("--policies", str(bundle), "--today", "2022-08-20", "--lang", "en")
    assert code == 0
    assert "college of département 54 has no mandate in force from 2022-09-01 to 2022-09-19" in out
    assert "expired" not in out


def test_not_yet_valid_mandates_are_warnings(bundle: Path) -> None:
    code, out = validate("--policies", str(bundle), "--today", "2020-08-01", "--lang", "en")
    assert code == 0
    assert "mandate not in force yet: valid from 2020-09-01 to 2022-08-31, today is 2020-08-01" in out
    assert "has no mandate in force from 2020-08-01 to 2020-08-31" in out


def test_a_day_inside_every_mandate_gives_no_warning(bundle: Path) -> None:
    code, out = validate("--policies", str(bundle), "--today", TODAY)
    assert code == 0 and "0 erreur(s), 0 avertissement(s)" in out


def test_an_impossible_today_is_one_line(bundle: Path) -> None:
    res = capctl("policy", "validate", "--policies", str(bundle), "--today", "2021-02-30")
    assert_one_line_error(res, "2021-02-30: day is out of range for month")


def test_a_structurally_broken_mandate_still_reads(bundle: Path) -> None:
    """The in-force check runs on what could be read; a broken file is reported once, not crashed on."""
    (bundle / D54).write_text("collectivite: [\n", encoding="utf-8")
    read = read_mandate_text((bundle / D54).read_text(encoding="utf-8"), str(bundle / D54))
    assert [p.code for p in read.problems] == ["yaml_syntax"]
    code, _ = validate("--policies", str(bundle), "--today", "2023-01-01")
    assert code == 1


# ---- one seam ---------------------------------------------------------------------------------------------

CAPACITY = Path(__file__).resolve().parents[2] / "capacity"
PARSING = re.compile(r"\byaml\.(safe_load|load|full_load|unsafe_load|compose|parse|\w*Loader)\b|json\.load\(")


def test_every_yaml_reader_goes_through_the_one_seam() -> None:
    """Topology, prices, mandates, events, queries, settings, rates: only capacity/common/yamlio.py parses."""
    offenders = [
        f"{path.relative_to(CAPACITY)}:{n}"
        for path in sorted(CAPACITY.rglob("*.py"))
        if path.name != "yamlio.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PARSING.search(line)
    ]
    assert offenders == []
