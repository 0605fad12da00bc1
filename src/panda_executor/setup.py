from setuptools import find_packages, setup

package_name = "panda_executor"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools", "numpy", "pybullet", "imageio", "imageio-ffmpeg",
                      "real2sim_core"],
    zip_safe=True,
    maintainer="Real2Sim maintainers",
    maintainer_email="real2sim@example.org",
    description="Panda executor: gripper plans -> joint trajectories (numerical IK), "
    "quantized gripper, simulated Panda and MoveIt/franka_ros2 backends.",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "executor_node = panda_executor.executor_node:main",
        ],
        "real2sim.commands": ["execute = panda_executor.cli:register"],
    },
)
