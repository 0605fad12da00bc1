"""real2sim_core also installs the repository's bundled resources (config/, data/, models/,
examples/) into share/real2sim_core/, where real2sim_core.resources finds them in an installed
(non-editable, or colcon) build."""

import os
from pathlib import Path

from setuptools import find_packages, setup

package_name = "real2sim_core"
_here = Path(__file__).resolve().parent
_repo = _here.parents[1]
RESOURCES = ("config", "data", "models", "examples")
_SKIP_DIRS = {"checkpoints", "tb", "__pycache__"}


def _tree(kind):
    """data_files entries (share/real2sim_core/<kind>/<sub>, [files]) for one resource tree."""
    out = []
    root = _repo / kind
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in _SKIP_DIRS)
        if files:
            rel = Path(d).relative_to(_repo)
            out.append((f"share/{package_name}/{rel.as_posix()}",
                        [os.path.relpath(Path(d) / f, _here) for f in sorted(files)]))
    return out


setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ] + [entry for kind in RESOURCES for entry in _tree(kind)],
    install_requires=["setuptools", "numpy", "scipy", "pyyaml"],
    zip_safe=True,
    maintainer="Real2Sim maintainers",
    maintainer_email="real2sim@example.org",
    description="Shared data model, actions, frames, config and CLI of the Real2Sim stack.",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": ["real2sim = real2sim_core.cli:main"],
        "real2sim.commands": [
            "doctor = real2sim_core.doctor:register",
            "evaluate-states = real2sim_core.metrics:register",
            "sweep = real2sim_core.sweep.cli:register",
        ],
    },
)
