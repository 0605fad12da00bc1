"""The shape of real2sim_perception's imports, read from the source (AST, nothing imported):
no module imports itself back through others, and no name starting with ``_`` is imported
from another module (the package's own code, its tests and the benchmarks that use it)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "real2sim_perception"
PKG_DIR = REPO / "src" / PACKAGE / PACKAGE
USERS = [REPO / "tests" / "perception", REPO / "benchmarks"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """``(imported module, imported names, line)`` for every import of a file (nested ones
    included: a cycle through a function-level import is still a cycle)."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((_resolve(module, is_package, node), [a.name for a in node.names],
                        node.lineno))
    return out


def _package_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG_DIR.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from pkg import mod`` counts as ``pkg.mod``;
    importing ``a.b.c`` also runs ``a`` and ``a.b``)."""
    mods = _package_modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for target, names, _ in _imports(path, mod):
            hits = {target} | {f"{target}.{n}" for n in names}
            for h in hits:
                parts = h.split(".")
                for i in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:i])
                    if prefix in mods and prefix != mod and not mod.startswith(prefix + "."):
                        graph[mod].add(prefix)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_cycle():
    graph = import_graph()
    assert "real2sim_perception.detectors.base" in graph  # the walk found the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_name_imported_across_modules():
    files = sorted(PKG_DIR.rglob("*.py"))
    for folder in USERS:
        files += [p for p in sorted(folder.rglob("*.py")) if PACKAGE in p.read_text()]
    bad = []
    for path in files:
        mod = _module_name(path) if PKG_DIR in path.parents else path.stem
        for target, names, line in _imports(path, mod):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    bad.append(f"{path.relative_to(REPO)}:{line}: {n} from {target}")
    assert len(files) > 40 and any(p.name == "estimate_speed.py" for p in files)
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)
