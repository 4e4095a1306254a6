"""The package layout holds: the pipeline names no vendor, and no import goes in a circle.

`codestand/http/` serves any contract and `codestand/core/` holds neutral pieces; neither may
import a vendor package or the control plane, at module level or inside a function. The import
graph of the whole package, module-level imports only, has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "codestand"
# storage/ holds every vendor's records, so that a write stays one transaction; it may read a
# vendor's constants (a token's lifetime) and is not checked here.
NEUTRAL = ("http", "core")
VENDORS = ("codestand.thoughtindustries", "codestand.moltin", "codestand.control")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules `path` imports (absolute `codestand...` names; `from X import y` counts y as X.y)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("codestand")}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


@pytest.mark.parametrize("package", NEUTRAL)
def test_neutral_packages_import_no_vendor(package):
    offending = {
        name: sorted(i for i in imports(path, top_level_only=False) if i.startswith(VENDORS))
        for name, path in MODULES.items()
        if name.startswith(f"codestand.{package}")
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_no_import_cycle():
    graph = {
        name: {i for i in imports(path, top_level_only=True) if i in MODULES and i != name} for name, path in MODULES.items()
    }
    # A package's __init__ importing its own modules is how a package is built, not a cycle.
    for name in graph:
        graph[name] = {i for i in graph[name] if not (MODULES[name].name == "__init__.py" and i.startswith(name + "."))}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_vendor_plugs_in_through_its_package():
    from codestand import control, moltin, thoughtindustries

    roots = [root for v in (thoughtindustries.VENDOR, moltin.VENDOR, control.VENDOR) for root in v.roots]
    assert roots == ["/incoming", "/v2", "/oauth", "/__codestand"]
