"""real2sim_bringup installs the repository's top-level launch/ and config/ into its share
directory, so `ros2 launch real2sim_bringup <file>` finds them after a colcon build."""

import os
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

package_name = "real2sim_bringup"
_repo = Path(__file__).resolve().parents[2]


def _rel(pattern):
    here = Path(__file__).resolve().parent
    return [os.path.relpath(p, here) for p in sorted(glob(str(_repo / pattern)))]


setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", _rel("launch/*.launch.py")),
        ("share/" + package_name + "/config", _rel("config/*.yaml") + _rel("config/*.rviz")
         + _rel("config/*.xml") + _rel("config/*.xacro")),
        ("share/" + package_name + "/config/panda_real", _rel("config/panda_real/*.yaml")),
    ],
    install_requires=["setuptools", "real2sim_core"],
    zip_safe=True,
    maintainer="Real2Sim maintainers",
    maintainer_email="real2sim@example.org",
    description="Launch files, bag recording, report and the embedded demo of Real2Sim.",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": ["pipeline_client = real2sim_bringup.pipeline_client:main"],
        "real2sim.commands": ["demo = real2sim_bringup.demo:register"],
    },
)
