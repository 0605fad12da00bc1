from setuptools import find_packages, setup

package_name = "real2sim_policy"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools", "real2sim_core"],
    zip_safe=True,
    maintainer="Real2Sim maintainers",
    maintainer_email="real2sim@example.org",
    description="Real2Sim policy learning: the pybullet gripper world, video rewards, PPO with "
    "ADR, benchmark",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "policy_node = real2sim_policy.policy_node:main",
        ],
        "real2sim.commands": [
            "benchmark = real2sim_policy.cli:register_benchmark",
            "rollout = real2sim_policy.cli:register_rollout",
            "train = real2sim_policy.cli:register_train",
        ],
    },
)
