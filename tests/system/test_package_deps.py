"""Every ROS package and core Python library a package imports (or, for real2sim_bringup, its
launch files start or include) is declared in its package.xml, so that rosdep and colcon in the
images install and order them."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import upstream_refs  # noqa: E402

PY_PACKAGES = ["real2sim_core", "real2sim_perception", "real2sim_policy", "panda_executor",
               "real2sim_bringup"]
#: Python module -> the ROS package / rosdep key that provides it
MODULE_KEYS = {"moveit": "moveit_py", "numpy": "python3-numpy", "scipy": "python3-scipy",
               "yaml": "python3-yaml", "ament_index_python": "ament_index_python"}
ROS_MODULES = {"rclpy", "rcl_interfaces", "launch", "launch_ros", "tf2_ros",
               "moveit_configs_utils", "builtin_interfaces", "rosidl_runtime_py"}


def _ros_key(module: str) -> str | None:
    if module in MODULE_KEYS:
        return MODULE_KEYS[module]
    if module in ROS_MODULES or module.endswith(("_msgs", "_srvs", "_interfaces")) or \
            module.startswith("real2sim_") or module == "panda_executor":
        return module
    return None


def _optional(tree) -> set[int]:
    """ids of import nodes inside ``try: ... except ImportError`` (optional components,
    reported by ``real2sim doctor``)."""
    out = set()
    for t in ast.walk(tree):
        if isinstance(t, ast.Try) and any(
                h.type is not None and any(getattr(n, "id", "") in ("ImportError",
                                                                    "ModuleNotFoundError")
                                           for n in ast.walk(h.type)) for h in t.handlers):
            for stmt in t.body:
                out.update(id(n) for n in ast.walk(stmt))
    return out


def imports_of(files) -> dict[str, str]:
    """Top-level imported module -> first file importing it (absolute imports only; optional
    ones guarded by ``except ImportError`` left out)."""
    out: dict[str, str] = {}
    for f in files:
        tree = ast.parse(f.read_text())
        optional = _optional(tree)
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                out.setdefault(n.split(".")[0], str(f.relative_to(REPO)))
    return out


def declared(pkg: str) -> dict[str, str | None]:
    """Dependency -> its condition (None: unconditional) in src/<pkg>/package.xml."""
    text = (REPO / "src" / pkg / "package.xml").read_text()
    out = {}
    for m in re.finditer(r"<(exec_depend|depend|build_depend)(?:\s+condition=\"([^\"]+)\")?>"
                         r"\s*([^<\s]+)\s*</\1>", text):
        out[m.group(3)] = m.group(2)
    return out


@pytest.mark.parametrize("pkg", PY_PACKAGES)
def test_imports_are_declared_in_package_xml(pkg):
    # real2sim doctor probes optional components by importing them: not dependencies
    files = sorted(f for f in (REPO / "src" / pkg / pkg).rglob("*.py") if f.name != "doctor.py")
    deps = declared(pkg)
    missing = []
    for module, where in sorted(imports_of(files).items()):
        key = _ros_key(module)
        if key is None or key == pkg:
            continue
        if key not in deps:
            missing.append(f"{key} (import {module} in {where})")
    assert not missing, f"src/{pkg}/package.xml lacks: {', '.join(missing)}"


def test_bringup_declares_what_its_launch_files_start():
    deps = declared("real2sim_bringup")
    launch_imports = imports_of(sorted((REPO / "launch").glob("*.launch.py")))
    missing = [f"{_ros_key(m)} (import {m} in {w})" for m, w in launch_imports.items()
               if _ros_key(m) not in (None, "real2sim_bringup") and _ros_key(m) not in deps]
    refs = upstream_refs.all_refs()
    for distro, r in refs.items():
        for name in sorted({p for p, _ in r["files"]} | {p for p, _ in r["executables"]}
                           | {k.split("/")[0] for k in r["launch_arguments"]}):
            if name not in deps:
                missing.append(f"{name} ({distro} launch files)")
            elif deps[name] not in (None, f"$ROS_DISTRO == {distro}"):
                missing.append(f"{name} has condition {deps[name]!r}, used on {distro}")
    assert not missing, f"src/real2sim_bringup/package.xml lacks: {', '.join(missing)}"


def test_executor_declares_the_interfaces_its_backends_talk_to():
    deps = declared("panda_executor")
    for key in ("control_msgs", "franka_msgs", "moveit_py", "moveit_msgs", "shape_msgs",
                "sensor_msgs", "rclpy"):
        assert key in deps, key
