"""The shape of the code, read from the source (AST, nothing is imported).

* The import graph of the project's Python modules has no cycle, within a package or across
  packages. Every import counts, also one inside a function (a lazy import that closes a cycle
  is still a cycle for the reader); only imports under ``if TYPE_CHECKING:`` are left out.
  Importing a submodule is an edge to that submodule, not to its package's ``__init__``.
* Imports run downward through the layers::

      real2sim_interfaces (generated messages)
      real2sim_core
      real2sim_perception | real2sim_policy | panda_executor
      real2sim_bringup (and the launch files)

  ``real2sim_core`` imports no other project package, the three middle packages import only
  the core (and the interfaces), ``real2sim_bringup`` may import all.
* No name starting with one underscore is imported from another module (tests, benchmarks,
  scripts and launch files included): what another module needs is public.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTERFACES = "real2sim_interfaces"
#: package -> the project packages it may import (itself always)
ALLOWED = {
    "real2sim_core": {INTERFACES},
    "real2sim_perception": {"real2sim_core", INTERFACES},
    "real2sim_policy": {"real2sim_core", INTERFACES},
    "panda_executor": {"real2sim_core", INTERFACES},
    "real2sim_bringup": {"real2sim_core", "real2sim_perception", "real2sim_policy",
                         "panda_executor", INTERFACES},
}
PACKAGES = tuple(ALLOWED)
#: folders outside src/ whose files are checked for private imports (not part of the layers)
OTHER_TREES = ("tests", "benchmarks", "scripts", "launch")


def _module_name(path: Path) -> str:
    """Dotted module name of a file under src/<pkg>/ or the repository root."""
    rel = path.relative_to(REPO)
    parts = list(rel.parts)
    if parts[0] == "src":
        parts = parts[2:]  # src/<pkg>/<pkg>/... -> <pkg>/...
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _project_files() -> dict[str, Path]:
    files = {}
    for pkg in PACKAGES:
        for f in sorted((REPO / "src" / pkg / pkg).rglob("*.py")):
            files[_module_name(f)] = f
    return files


def _other_files() -> dict[str, Path]:
    files = {}
    for tree in OTHER_TREES:
        for f in sorted((REPO / tree).rglob("*.py")):
            if "__pycache__" not in f.parts:
                files[str(f.relative_to(REPO))] = f
    return files


def _type_checking_nodes(tree) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                out.update(id(n) for n in ast.walk(stmt))
    return out


def _is_package(name: str, files: dict[str, Path]) -> bool:
    f = files.get(name)
    return f is not None and f.name == "__init__.py"


def _imports(name: str, path: Path, files: dict[str, Path]):
    """``(line, imported module, imported names)`` of every import in ``path``; relative
    imports are resolved against module ``name``."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module, [a.name for a in node.names]


def _edges(files: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported project module: line}; ``from pkg import sub`` is an edge to the
    submodule ``pkg.sub`` when it exists, else to ``pkg``."""
    graph: dict[str, dict[str, int]] = {m: {} for m in files}
    for name, path in files.items():
        for line, module, names in _imports(name, path, files):
            targets = []
            for n in names:
                if f"{module}.{n}" in files:
                    targets.append(f"{module}.{n}")
                elif module in files:
                    targets.append(module)
            if not names and module in files:
                targets.append(module)
            for t in targets:
                if t != name:
                    graph[name].setdefault(t, line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _describe(cycle: list[str], graph) -> str:
    members = set(cycle)
    links = [f"{a} -> {b} (line {graph[a][b]})" for a in cycle for b in sorted(graph[a])
             if b in members]
    return "cycle of " + ", ".join(cycle) + ":\n    " + "\n    ".join(links)


def test_the_checker_sees_cycles_layers_and_private_imports(tmp_path):
    """The helpers find what the real tests rely on (a tiny hand-made package)."""
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("from .b import _helper\nA = 1\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n_helper = 2\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .a import A\n")
    files = {"p": pkg / "__init__.py", "p.a": pkg / "a.py", "p.b": pkg / "b.py",
             "p.c": pkg / "c.py"}
    graph = _edges(files)
    assert graph == {"p": {"p.a": 1}, "p.a": {"p.b": 1}, "p.b": {"p.a": 2}, "p.c": {}}
    assert _cycles(graph) == [["p.a", "p.b"]]
    assert _private_imports({"p/a.py": pkg / "a.py"}, files) == [
        "p/a.py:1: from p.b import _helper"]


def test_no_import_cycles():
    files = _project_files()
    graph = _edges(files)
    cycles = _cycles(graph)
    assert not cycles, "\n".join(_describe(c, graph) for c in cycles)


def test_imports_run_downward():
    files = _project_files()
    bad = []
    for name, path in files.items():
        pkg = name.split(".")[0]
        for line, module, _ in _imports(name, path, files):
            other = module.split(".")[0]
            if other == pkg or other not in (*PACKAGES, INTERFACES):
                continue
            if other not in ALLOWED[pkg]:
                bad.append(f"{path.relative_to(REPO)}:{line}: {pkg} imports {module}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_launch_files_import_only_downward():
    """The launch files stand above everything: they may use the bringup package."""
    files = _project_files()
    for path in sorted((REPO / "launch").glob("*.py")):
        for _line, module, _ in _imports("launch_file", path, files):
            assert module.split(".")[0] != "tests", f"{path.name} imports {module}"


def _private_imports(checked: dict[str, Path], files: dict[str, Path]) -> list[str]:
    """``file:line: from module import _name`` for every private name imported from a
    project or test module."""
    own_roots = {m.split(".")[0] for m in files} | {"tests", "benchmarks", "scripts"}
    out = []
    for label, path in checked.items():
        name = _module_name(path) if path.is_relative_to(REPO) else label[:-3].replace("/", ".")
        for line, module, names in _imports(name, path, files):
            root = module.split(".")[0]
            if root not in own_roots and module not in files:
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    out.append(f"{label}:{line}: from {module} import {n}")
            last = module.rpartition(".")[2]
            if not names and last.startswith("_") and not last.startswith("__"):
                out.append(f"{label}:{line}: import {module}")
    return out


def test_no_private_names_imported_across_modules():
    files = _project_files()
    checked = {str(p.relative_to(REPO)): p for p in files.values()} | _other_files()
    bad = _private_imports(checked, files)
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)
