"""The package's layers: imports only point down, and no two subpackages import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vad"

#: bottom to top; packages of one rank may import each other only without forming a cycle
RANKS = {
    "errors": 0,
    "utils": 0,
    "io": 1,
    "data": 2,
    "preprocessing": 3,
    "models": 4,
    "scoring": 5,
    "ensembles": 6,
    "inference": 6,
    "deploy": 6,
    "visualization": 6,
    "callbacks": 7,
    "tasks": 7,
    "cli": 8,
}


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "vad" and len(parts) > 1 else None


def import_edges(root: Path = PACKAGE) -> list[tuple[str, str, str]]:
    """``(from subpackage, to subpackage, file)`` of every import of another subpackage,
    including imports inside functions."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        if relative.parts == ("vad", "__init__"):  # the package root: vad.train ... (lazily)
            continue
        source = subpackage(".".join(relative.parts))
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                target = subpackage(name)
                if target is not None and target != source:
                    edges.append((source, target, str(path.relative_to(root.parent))))
    return edges


def upward(edges: list[tuple[str, str, str]]) -> list[str]:
    return [f"{f}: {a} imports {b}" for a, b, f in edges if RANKS[b] > RANKS[a]]


def cycles(edges: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Pairs of subpackages that reach each other through imports."""
    graph: dict[str, set[str]] = {}
    for a, b, _ in edges:
        graph.setdefault(a, set()).add(b)
    reached = {node: _reach(graph, node) for node in graph}
    pairs = {
        tuple(sorted((a, b)))
        for a in graph
        for b in reached[a]
        if a != b and a in reached.get(b, ())
    }
    return sorted(pairs)


def test_every_subpackage_has_a_rank() -> None:
    found = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert found <= set(RANKS), f"give {sorted(found - set(RANKS))} a rank in RANKS"


def test_imports_only_point_down() -> None:
    assert upward(import_edges()) == []


def test_no_import_cycle_between_subpackages() -> None:
    assert cycles(import_edges()) == []


def test_the_checks_find_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    root = tmp_path / "vad"
    for name, text in {
        "io/a.py": "from vad.tasks.x import y\n",
        "ensembles/b.py": "import vad.inference.c\n",
        "inference/c.py": "def f():\n    from vad.ensembles import b\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    edges = import_edges(root)
    assert upward(edges) == ["vad/io/a.py: io imports tasks"]
    assert cycles(edges) == [("ensembles", "inference")]


@pytest.mark.parametrize(("layer", "callers"), [("tasks", {"cli"}), ("cli", set())])
def test_nothing_imports_the_top_layers(layer: str, callers: set[str]) -> None:
    """Only the entry points (the scripts, ``vad.cli``'s console-script apps) run tasks."""
    assert {a for a, b, _ in import_edges() if b == layer} <= callers


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_edges(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the vad modules it imports (type-checking and function-level imports too);
    ``from package import name`` counts as importing the submodule ``name`` when it is one."""
    known = {module_of(p) for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        source = module_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in known] or [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in known and target != source:
                    graph.setdefault(source, set()).add(target)
    return graph


def test_no_import_cycle_between_modules_of_a_package() -> None:
    """No two modules reach each other through imports (a package's ``__init__`` re-exporting
    its own modules aside)."""
    graph = module_edges()
    reached = {module: _reach(graph, module) for module in graph}
    loops = {
        tuple(sorted((a, b)))
        for a in graph
        for b in reached[a]
        if a != b
        and a in reached.get(b, ())
        and not (a.startswith(b + ".") or b.startswith(a + "."))
    }
    assert sorted(loops) == []


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_two_modules_share_a_file_name() -> None:
    """A traceback's file name says which module it is (the per-model packages' own
    ``torch_model.py`` / ``lightning_model.py`` and the packages' ``__init__.py`` aside)."""
    shared = {"__init__.py", "torch_model.py", "lightning_model.py"}
    names: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name not in shared:
            names.setdefault(path.name, []).append(str(path.relative_to(PACKAGE.parent)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
