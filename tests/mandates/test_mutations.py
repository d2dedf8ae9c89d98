"""Random edits of valid mandate files: always precise problems (file:line:column, field), never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from capacity.common.yamlio import load_yaml_text
from capacity.policy.bundle import read_bundle
from capacity.policy.mandates.loader import read_mandate_text
from capacity.policy.mandates.problems import MESSAGES, Problem, headline, render, suggest
from capacity.policy.mandates.schema import schema
from tests.mandates.conftest import BUNDLE, REPO

SOURCES = [
    BUNDLE / "mandats" / "region-essai.yaml",
    BUNDLE / "mandats" / "departement-57.yaml",
    REPO / "policies" / "mandats" / "region-grand-est.yaml",
    REPO / "policies" / "mandats" / "departement-76.yaml",
]
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SOURCES}
JUNK = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "[1, 2]",
            "{a: 1}",
            "~",
            "yes",
            "'2021-02-30'",
            "2021-13-01",
            "-",
            "*x",
            "&a b",
            "!!python/object x",
            "'",
            '"',
            "[",
            "{",
            "|",
            ">",
            "@",
            "`",
            "%",
            "07:30-17:30",
            "plafond",
            "lycee",
            "''",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)


def assert_precise(problems: tuple[Problem, ...] | list[Problem], path: str, root: Path | None = None) -> None:
    """Each problem is known, worded in both languages and placed in a file (line, and column when known)."""
    for p in problems:
        assert p.code in MESSAGES
        if root is None:
            assert p.path.endswith(Path(path).name)
        else:  # a cross-file problem may be reported at the other file of a pair, or at the topology
            assert Path(p.path).resolve().is_relative_to(root.resolve())
        for lang in ("fr", "en"):
            assert headline(p, lang).strip()
            assert render(p, lang).startswith(p.path)
        if p.code not in ("yaml_too_large", "yaml_unreadable", "yaml_not_found"):
            assert p.line is not None and p.line >= 1, p


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_replacing_a_value_gives_positioned_problems(name: str, data: st.DataObject) -> None:
    lines = TEXTS[name].splitlines()
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    i = data.draw(st.sampled_from(candidates))
    key, _, _ = lines[i].partition(": ")
    lines[i] = f"{key}: {data.draw(JUNK)}"
    read = read_mandate_text("\n".join(lines) + "\n", f"mandats/{name}")
    assert_precise(read.problems, name)
    if read.mandate is None:
        assert any(p.is_error for p in read.problems)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_deleting_or_inserting_characters_never_raises(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(min_value=1, max_value=40))
        text = text[:at] + text[at + cut :]
    else:
        text = text[:at] + data.draw(st.text(max_size=8)) + text[at:]
    read = read_mandate_text(text, f"mandats/{name}")
    assert_precise(read.problems, name)


def known_keys() -> set[str]:
    out: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            out.update(node.get("properties", {}))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema())
    return out


KEYS = known_keys()
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_a_mistyped_key_is_named_at_its_line_with_a_suggestion(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    doc = load_yaml_text(text, name)
    spots = [k for k in doc.lines if k and isinstance(k[-1], str) and k[-1] in KEYS]
    key = data.draw(st.sampled_from(spots))
    word = str(key[-1])
    j = data.draw(st.integers(min_value=0, max_value=len(word) - 1))
    typo = data.draw(
        st.sampled_from([word[:j] + word[j + 1 :], word[:j] + word[j] + word[j:], word[:j] + "x" + word[j + 1 :]])
    )
    assume(typo not in KEYS and typo)
    line, column = doc.position(key)
    assert line is not None and column is not None
    lines = text.splitlines()
    row = lines[line - 1]
    assert row[column - 1 : column - 1 + len(word)] == word
    lines[line - 1] = row[: column - 1] + typo + row[column - 1 + len(word) :]
    read = read_mandate_text("\n".join(lines) + "\n", f"mandats/{name}")
    typos = [p for p in read.problems if p.code == "unknown_key"]
    assert len(typos) == 1, [render(p) for p in read.problems]
    (p,) = typos
    assert (p.line, p.column) == (line, column)
    assert p.found == typo and p.field.endswith(typo)
    siblings = p.params["allowed"].split(", ")
    if suggest(typo, siblings) == word:
        assert f"vouliez-vous dire {word} ?" in headline(p, "fr")
        assert f"did you mean {word}?" in headline(p, "en")
    assert read.mandate is None


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_cross_checks_of_a_mutated_file_never_raise(tmp_path_factory, data: st.DataObject) -> None:
    root = tmp_path_factory.mktemp("bundle")
    shutil.copytree(BUNDLE, root, dirs_exist_ok=True)
    name = data.draw(st.sampled_from(["region-essai.yaml", "departement-57.yaml", "departement-54.yaml"]))
    lines = (BUNDLE / "mandats" / name).read_text(encoding="utf-8").splitlines()
    i = data.draw(st.sampled_from([k for k, line in enumerate(lines) if ": " in line]))
    key, _, _ = lines[i].partition(": ")
    value = data.draw(
        st.sampled_from(
            [
                "lorrain",
                "lorraine",
                "'54'",
                "[college, lycee]",
                "0",
                "999",
                "2019-01-01",
                "2030-01-01",
                "web",
                "webb",
                "region-essai",
                "departement-54",
                "1",
            ]
        )
    )
    lines[i] = f"{key}: {value}"
    (root / "mandats" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    bundle = read_bundle(root)
    assert_precise(list(bundle.problems), name, root)
    assert (bundle.policies is None) == any(p.is_error for p in bundle.problems)
