from setuptools import find_packages, setup

package_name = "real2sim_core"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
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
        ],
    },
)
