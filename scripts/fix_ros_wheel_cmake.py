"""Rewrite the ROS 2 wheels' exported CMake files so they point at this interpreter.

The Kilted wheels on PyPI were built with ``/opt/python/cp311-cp311`` and bake that
interpreter's include directory (and its numpy include directory) into
``share/**/*.cmake``. A colcon build of our own interface package then fails with
"includes non-existent path". This script replaces those paths with the local Python's
include directory and ``numpy.get_include()``. It is idempotent.

Usage: python scripts/fix_ros_wheel_cmake.py [PREFIX]   (PREFIX defaults to sys.prefix)
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy

_FOREIGN_PY_INCLUDE = re.compile(r"/opt/python/cp3\d+-cp3\d+m?/include/python3\.\d+")
_FOREIGN_NUMPY_INCLUDE = re.compile(
    r"/opt/python/cp3\d+-cp3\d+m?/lib/python3\.\d+/site-packages/numpy/(?:_core|core)/include"
)


def fix_prefix(prefix: Path) -> int:
    """Rewrite every exported CMake file under ``prefix/share``; return how many changed."""
    py_include = sysconfig.get_paths()["include"]
    np_include = numpy.get_include()
    changed = 0
    for path in (prefix / "share").rglob("*.cmake"):
        text = path.read_text(errors="surrogateescape")
        if "/opt/python/" not in text:
            continue
        new = _FOREIGN_NUMPY_INCLUDE.sub(np_include, text)
        new = _FOREIGN_PY_INCLUDE.sub(py_include, new)
        if new != text:
            path.write_text(new, errors="surrogateescape")
            changed += 1
    return changed


def main() -> None:
    prefix = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix)
    n = fix_prefix(prefix)
    print(f"fix_ros_wheel_cmake: rewrote {n} CMake file(s) under {prefix / 'share'}")


if __name__ == "__main__":
    main()
