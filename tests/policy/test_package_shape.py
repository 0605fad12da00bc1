"""The policy package's import graph: no cycles, and no private name imported across modules
(an AST check of every ``import`` statement, those inside functions included; registry entries
such as ``"real2sim_policy.scripted:ScriptedPolicy"`` are strings, not imports)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "real2sim_policy" / "real2sim_policy"
NAME = "real2sim_policy"


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.glob("*.py"))}


def _imports(tree: ast.Module):
    """``(module stem or None, [imported names])`` of each import of a package module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1:
                target = mod.split(".")[0] if mod else None
            elif node.level == 0 and (mod == NAME or mod.startswith(NAME + ".")):
                target = mod.split(".")[1] if "." in mod else None
            else:
                continue
            names = [a.name for a in node.names]
            if target is None:  # "from . import x" / "from real2sim_policy import x"
                for n in names:
                    yield n, []
            else:
                yield target, names
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(NAME + "."):
                    yield a.name.split(".")[1], []


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: {t for t, _ in _imports(tree) if t in mods and t != m}
            for m, tree in mods.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_checker_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_policy_package_has_no_import_cycle():
    graph = _graph()
    assert {"train", "policies", "benchmark", "network"} <= set(graph)  # it read the package
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_private_name_is_imported_across_modules():
    roots = [PACKAGE, REPO / "tests" / "policy", REPO / "benchmarks", REPO / "scripts"]
    bad = []
    for root in roots:
        for path in sorted(root.glob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for target, names in _imports(tree):
                bad += [f"{path.relative_to(REPO)}: {target}.{n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
    assert not bad, bad
