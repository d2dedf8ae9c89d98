"""The architecture a newcomer sees: layers as packages, no import cycles, few loose modules.

The layer order itself is checked by import-linter (pyproject.toml, run by scripts/test); these tests hold what
import-linter's contracts do not express.
"""

from __future__ import annotations

from pathlib import Path

import grimp

import capacity

PACKAGE = Path(capacity.__file__).parent


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(component)
    return out


def test_no_import_cycle_outside_the_cli_command_registration() -> None:
    graph = grimp.build_graph("capacity")
    cycles = [c for c in _cycles(graph) if not all(m == "capacity.cli" or m.startswith("capacity.cli.") for m in c)]
    assert cycles == []


def test_the_top_of_the_package_holds_layers_not_loose_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= 4, loose
    layers = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert {"common", "calendar", "policy", "planning", "learning", "operator", "simulate", "present", "cli"} <= layers


def test_every_folder_of_the_package_is_a_package() -> None:
    missing = [
        str(d.relative_to(PACKAGE))
        for d in PACKAGE.rglob("*")
        if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert missing == []
