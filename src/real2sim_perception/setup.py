from setuptools import find_packages, setup

package_name = "real2sim_perception"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools", "real2sim_core", "numpy", "scipy", "torch",
                      "opencv-python-headless", "imageio", "matplotlib", "tqdm"],
    zip_safe=True,
    maintainer="Real2Sim maintainers",
    maintainer_email="real2sim@example.org",
    description="Real2Sim perception: differentiable-rendering estimation of coarse 3D "
    "hand-object state trajectories from masks",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "perception_node = real2sim_perception.perception_node:main",
            "states_publisher = real2sim_perception.states_publisher_node:main",
        ],
        "real2sim.commands": [
            "estimate = real2sim_perception.cli:register",
        ],
    },
)
