"""The values table of charts/capctl/README.md, generated from the `# --` comments of values.yaml.

Each documented key and each leaf value gets a row: key, type (from values.schema.json), default, and its
`# --` comment (continuation lines starting with `#` below it included). Regenerate with
`scripts/chart-values-table`; tests/chart/test_values_table.py fails when the README is out of date.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "capctl"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(\s.*)?$")


def documented_keys(text: str) -> dict[tuple[str, ...], str]:
    """Key path -> `# --` comment, in file order, for every key of values.yaml (comment "" when none)."""
    values = yaml.safe_load(text)
    out: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = None
            continue
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        match = KEY_LINE.match(line)
        if match is None:  # a list item: its content is part of a value, not a key of its own
            pending = None
            continue
        indent = len(match.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(2)))
        path = tuple(k for _, k in stack)
        if _exists(values, path):
            out[path] = " ".join(pending or [])
        pending = None
    return out


def _exists(values: Any, path: tuple[str, ...]) -> bool:
    node = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _value(values: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        values = values[key]
    return values


def _schema(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = schema
    for key in path:
        extra = node.get("additionalProperties")
        node = node.get("properties", {}).get(key) or (extra if isinstance(extra, dict) else {})
    return node


def _type(node: dict[str, Any]) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(_type(n) for n in node["oneOf"])
    kind = node.get("type", "")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


def values_table(chart: Path = CHART) -> str:
    text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((chart / "values.schema.json").read_text())
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for path, comment in documented_keys(text).items():
        default = _value(values, path)
        is_leaf = not isinstance(default, dict) or not default
        if not (is_leaf or comment):
            continue
        shown = f"`{json.dumps(default, ensure_ascii=False)}`" if is_leaf else ""
        rows.append(f"| `{'.'.join(path)}` | {_type(_schema(schema, path))} | {_cell(shown)} | {_cell(comment)} |")
    return "\n".join(rows) + "\n"


def readme_with_table(readme: str, table: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table}{END}{after}"


def main(argv: list[str]) -> int:
    readme_path = CHART / "README.md"
    readme = readme_path.read_text()
    updated = readme_with_table(readme, values_table())
    if "--check" in argv:
        if updated != readme:
            print(f"{readme_path} is out of date: run scripts/chart-values-table", file=sys.stderr)
            return 1
        return 0
    readme_path.write_text(updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
