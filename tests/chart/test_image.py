"""The Dockerfile and the chart agree, and the build context holds what the wheel needs and nothing else.

No container engine runs in CI: these checks read the Dockerfile and evaluate .dockerignore with Docker's
own rule (a pattern excludes a path when it matches the path or one of its parent directories; the last
matching pattern wins, `!` re-includes).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from tests.support.tools import tool_path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Docker's path glob: `*` and `?` stay within one path segment, `**/` spans any number of them."""
    regex = re.escape(pattern.strip("/"))
    for glob, replacement in ((r"\*\*/", "(?:.*/)?"), (r"\*\*", ".*"), (r"\*", "[^/]*"), (r"\?", "[^/]")):
        regex = regex.replace(glob, replacement)
    return re.compile(regex)


def in_context(path: str) -> bool:
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((glob_regex(line.lstrip("!")), negated))
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for regex, negated in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            included = negated
    return included


def test_both_stages_start_from_python_311_slim() -> None:
    steps = instructions()
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for k, a in steps if k == "ARG" and "=" in a}
    froms = [a.split()[0] for k, a in steps if k == "FROM"]
    assert len(froms) == 2
    assert {args.get(f.strip("${}"), f) for f in froms} == {"python:3.11-slim"}
    copies = [a for k, a in final_stage() if k == "COPY"]
    assert copies == ["--from=builder /opt/capctl /opt/capctl"], "the final image gets the venv and nothing else"


def test_image_and_chart_agree_on_entrypoint_and_user() -> None:
    final = dict((k, a) for k, a in final_stage() if k in {"ENTRYPOINT", "CMD"})
    assert json.loads(final["ENTRYPOINT"]) == ["capctl"]
    cmd = json.loads(final["CMD"])
    helm = tool_path("helm")
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "capctl",
            str(REPO / "charts" / "capctl"),
            "--show-only",
            "templates/deployment.yaml",
            "--set",
            "watchNamespaces={ent-grand-est}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    (c,) = yaml.safe_load(rendered)["spec"]["template"]["spec"]["containers"]
    assert "command" not in c, "a command would bypass the image's ENTRYPOINT"
    assert c["args"][0] == cmd[0] == "run"
    chart_flags = {a for a in c["args"] if a.startswith("--")}
    assert {a for a in cmd if a.startswith("--")} <= chart_flags
    users = [a for k, a in final_stage() if k == "USER"]
    assert users[-1].split(":")[0] == str(c["securityContext"]["runAsUser"]) == "10001"


def test_build_context_holds_the_package_and_nothing_else() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    package = [p for p in tracked if p.startswith("capacity/")]
    assert package and all(in_context(p) for p in package)
    assert in_context("pyproject.toml") and in_context("README.md")
    for outside in (
        "tests/chart/test_chart.py",
        "charts/capctl/values.yaml",
        ".git/config",
        ".tools/bin/helm",
        ".venv/bin/python",
        "kubeconfig",
        "capacity/__pycache__/errors.cpython-311.pyc",
    ):
        assert not in_context(outside), outside
