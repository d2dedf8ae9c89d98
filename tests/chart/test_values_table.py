"""charts/capctl/README.md's values table is the one generated from values.yaml's `# --` comments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.chart_values import CHART, END, START, documented_keys, readme_with_table, values_table

REPO = CHART.parents[1]
RBAC_KEYS = {"rbac", "serviceAccount", "watchNamespaces"}  # documented by the RBAC rework, not here


def test_readme_values_table_is_up_to_date() -> None:
    readme = (CHART / "README.md").read_text()
    table = readme.split(START, 1)[1].split(END, 1)[0].strip("\n")
    assert table == values_table().strip("\n"), "run scripts/chart-values-table"


def test_the_script_reports_and_fixes_a_stale_table(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CHART, repo / "charts" / "capctl")
    (repo / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "chart-values-table", repo / "scripts")
    shutil.copytree(REPO / "tests" / "support", repo / "tests" / "support", ignore=shutil.ignore_patterns("fake_kube"))
    (repo / "tests" / "__init__.py").write_text("")
    values = repo / "charts" / "capctl" / "values.yaml"
    values.write_text(values.read_text().replace("# -- Seconds between two control-loop ticks.", "# -- Tick period."))
    script = [str(repo / "scripts" / "chart-values-table")]
    env = {**os.environ, "PYTHON": sys.executable}
    stale = subprocess.run([*script, "--check"], capture_output=True, text=True, timeout=60, check=False, env=env)
    assert stale.returncode == 1 and "out of date" in stale.stderr
    subprocess.run(script, check=True, timeout=60, env=env)
    assert subprocess.run([*script, "--check"], timeout=60, check=False, env=env).returncode == 0
    assert "| `tick` | integer | `60` | Tick period. |" in (repo / "charts" / "capctl" / "README.md").read_text()


def test_every_value_has_a_description_of_its_own_or_of_a_parent() -> None:
    docs = documented_keys((CHART / "values.yaml").read_text())
    parents = {path[:n] for path in docs for n in range(1, len(path))}
    for path in docs:
        if path[0] in RBAC_KEYS or path in parents:
            continue
        described = [docs.get(path[:n], "") for n in range(1, len(path) + 1)]
        assert any(described), f"{'.'.join(path)} has no `# --` comment, nor has any parent"


def test_table_rows_follow_values_yaml() -> None:
    table = values_table()
    assert '| `mode` | `recommend` \\| `floor` \\| `direct` | `"recommend"` |' in table
    assert "| `networkPolicy.apiServer.ports` | array | `[443, 6443]` |" in table
    assert readme_with_table(f"a\n{START}\nold\n{END}\nb\n", "new\n") == f"a\n{START}\nnew\n{END}\nb\n"


def test_the_operator_yaml_example_in_values_is_one_the_operator_loads(tmp_path: Path) -> None:
    """The commented example a site copies into `policies.files` must not be refused at load."""
    from capacity.operator.reload import load_settings

    lines = (CHART / "values.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "#      operator.yaml: |")
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("  #        "):
            break
        body.append(line.removeprefix("  #        "))
    assert body, "the example has at least one setting"
    (tmp_path / "operator.yaml").write_text("\n".join(body) + "\n")
    settings = load_settings(tmp_path / "operator.yaml")
    assert settings.nowcast_most == 1.3
