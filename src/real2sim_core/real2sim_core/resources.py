"""Where the project's bundled resources live: ``config/``, ``data/``, ``models/``, ``examples/``.

One lookup for every package, in this order:

1. an environment override (``REAL2SIM_CONFIG``, ``REAL2SIM_DATA``, ``REAL2SIM_MODELS``,
   ``REAL2SIM_EXAMPLES``), when set;
2. a source checkout (editable install): ``<repo>/<kind>`` next to ``<repo>/src/real2sim_core``;
3. an installed build: ``share/real2sim_core/<kind>`` of the install prefix this module lives in
   (``<prefix>/lib/pythonX.Y/site-packages/real2sim_core`` -> ``<prefix>/share``: pip, pip
   ``--prefix``, colcon), of the ament index, or of the running Python's prefix; the package's
   ``setup.py`` installs them there.

Nothing outside the repository (or the installed share directory) is ever looked at.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import InputError

__all__ = ["RESOURCE_KINDS", "resource_dir", "resource_file", "source_root", "data_dir",
           "config_dir", "models_dir", "examples_dir"]

PACKAGE = "real2sim_core"
#: resource kind -> the environment variable that overrides its directory
RESOURCE_KINDS = {
    "config": "REAL2SIM_CONFIG",
    "data": "REAL2SIM_DATA",
    "models": "REAL2SIM_MODELS",
    "examples": "REAL2SIM_EXAMPLES",
}


def source_root() -> Path | None:
    """The repository root when this package runs from a source checkout, else ``None``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "src" / PACKAGE / "setup.py").is_file():
            return parent
    return None


def _installed_share() -> list[Path]:
    here = Path(__file__).resolve()
    cands = []
    if len(here.parents) > 4 and here.parents[1].name in ("site-packages", "dist-packages"):
        cands.append(here.parents[4] / "share" / PACKAGE)
    try:  # colcon / ament: the package's share directory
        from ament_index_python.packages import get_package_share_directory

        cands.append(Path(get_package_share_directory(PACKAGE)))
    except Exception:  # noqa: BLE001 - no ament index here, or the package is not indexed
        pass
    cands.append(Path(sys.prefix) / "share" / PACKAGE)
    return cands


def _candidates(kind: str) -> list[Path]:
    if kind not in RESOURCE_KINDS:
        raise InputError(f"unknown resource kind {kind!r}; known: {', '.join(RESOURCE_KINDS)}")
    cands = []
    env = os.environ.get(RESOURCE_KINDS[kind])
    if env:
        return [Path(env).expanduser()]
    root = source_root()
    if root is not None:
        cands.append(root / kind)
    cands += [share / kind for share in _installed_share()]
    return cands


def resource_dir(kind: str) -> Path:
    """The directory of resource ``kind`` (one of :data:`RESOURCE_KINDS`).

    Raises:
        InputError: no such directory; the message lists where it looked and the override.
    """
    cands = _candidates(kind)
    for c in cands:
        if c.is_dir():
            return c
    raise InputError(
        f"cannot find the {kind}/ directory (looked in {', '.join(map(str, cands))}); set "
        f"{RESOURCE_KINDS[kind]} to it, or reinstall the real2sim_core package"
    )


def resource_file(kind: str, *parts: str) -> Path:
    """A file inside resource ``kind``, e.g. ``resource_file("data", "benchmark", "x.csv")``.

    Raises:
        InputError: the directory or the file is missing (the message names both).
    """
    base = resource_dir(kind)
    path = base.joinpath(*parts)
    if not path.is_file():
        raise InputError(
            f"{Path(*parts)} not found in {base}; set {RESOURCE_KINDS[kind]} to a {kind}/ "
            "directory that has it, or pass the file's path"
        )
    return path


def data_dir() -> Path:
    """``data/``: benchmark start states and the Something-Else annotations."""
    return resource_dir("data")


def config_dir() -> Path:
    """``config/``: the ROS 2 parameter files, also read by the CLI."""
    return resource_dir("config")


def models_dir() -> Path:
    """``models/``: the shipped policies and estimated demonstrations."""
    return resource_dir("models")


def examples_dir() -> Path:
    """``examples/``: the bundled example of the demo."""
    return resource_dir("examples")
