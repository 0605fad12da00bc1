"""The launch files, the Gazebo xacro and the Dockerfiles against ``docker/upstream.json``, the
listing ``scripts/make_upstream_listing.py`` makes from the upstream repositories at the pinned
versions (no ROS distribution needed here)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import upstream_refs  # noqa: E402
from make_upstream_listing import FIXTURE_INTERFACES, PINS, normalize_interface  # noqa: E402

LISTING = json.loads((REPO / "docker" / "upstream.json").read_text())
REFS = upstream_refs.all_refs()


@pytest.mark.parametrize("distro", sorted(REFS))
def test_every_named_file_executable_and_argument_is_listed_and_found_upstream(distro):
    img = LISTING["images"][distro]
    files = {(e["package"], e["path"]): e for e in img["files"]}
    for ref in REFS[distro]["files"]:
        assert ref in files, f"{ref} is not in docker/upstream.json: rerun " \
                             "scripts/make_upstream_listing.py"
        assert files[ref]["found"], f"{ref} does not exist in {files[ref]['source']} at the pin"
    exes = {(e["package"], e["executable"]): e for e in img["executables"]}
    for ref in REFS[distro]["executables"]:
        assert ref in exes and exes[ref]["found"], f"executable {ref} not found upstream"
    args = {(e["launch_file"], e["argument"]): e for e in img["launch_arguments"]}
    for target, names in REFS[distro]["launch_arguments"].items():
        for a in names:
            assert (target, a) in args and args[(target, a)]["found"], \
                f"{target} declares no launch argument {a!r}"
    for name in REFS[distro]["packages"]:
        assert name in img["packages"], f"package {name} is not in docker/upstream.json"
        assert img["packages"][name]["found"], f"package {name} not found in the pinned sources"
    # files the named xacro files include are in the listing too (and exist)
    assert all(e["found"] for e in img["files"])


def test_listing_sources_are_the_pins_of_the_images_and_the_readme():
    for distro, pins in PINS.items():
        sources = LISTING["images"][distro]["sources"]
        assert {k: v["ref"] for k, v in sources.items()} == pins
    args = upstream_refs.dockerfile_refs(REPO / "docker" / "Dockerfile.panda")["args"]
    humble = LISTING["images"]["humble"]["sources"]
    assert args["FRANKA_ROS2_COMMIT"] == humble["frankaemika/franka_ros2"]["commit"]
    assert args["MOVEIT2_COMMIT"] == humble["moveit/moveit2"]["commit"]
    assert args["LIBFRANKA_VERSION"].startswith("0.9.")  # the FER's FCI
    assert "ARG ROS_DISTRO=jazzy" in (REPO / "docker" / "Dockerfile").read_text()
    assert "ARG ROS_DISTRO=humble" in (REPO / "docker" / "Dockerfile.panda").read_text()
    readme = (REPO / "docker" / "README.md").read_text()
    for pins in PINS.values():
        for slug, ref in pins.items():
            assert slug in readme and ref[:9] in readme, f"docker/README.md lacks {slug} {ref}"


def test_test_fixture_interfaces_are_the_upstream_definitions():
    for fixture, (_, _, files) in FIXTURE_INTERFACES.items():
        upstream = LISTING["interfaces"][fixture]["files"]
        for f in files:
            ours = (REPO / "tests" / "fixtures" / "ros_interfaces" / fixture / f).read_text()
            assert normalize_interface(ours) == upstream[f], f"{fixture}/{f} differs upstream"


def test_launch_files_use_the_controller_and_action_names_of_the_pinned_configs():
    """The executor's action names agree with the controllers the launch files start."""
    sim = (REPO / "launch" / "sim_demo.launch.py").read_text()
    gz = (REPO / "launch" / "gazebo_demo.launch.py").read_text()
    for text in (sim, gz):
        assert '"/panda_hand_controller/gripper_cmd"' in text
        for c in ("joint_state_broadcaster", "panda_arm_controller", "panda_hand_controller"):
            assert f'"{c}"' in text
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "executor.yaml").read_text())
    robot = cfg["panda_executor"]["ros__parameters"]["robot"]
    assert robot["arm_action"] == "/panda_arm_controller/follow_joint_trajectory"
    assert robot["gripper_namespace"] == "/panda_gripper"


def test_gazebo_xacro_is_well_formed_and_names_the_gz_plugin():
    import xml.dom.minidom

    text = (REPO / "config" / "panda_gz.urdf.xacro").read_text()
    xml.dom.minidom.parseString(text)
    assert "<plugin>gz_ros2_control/GazeboSimSystem</plugin>" in text
    assert 'filename="gz_ros2_control-system"' in text
    assert 'name="gz_ros2_control::GazeboSimROS2ControlPlugin"' in text
    joints = re.findall(r'<joint name="(panda_(?:finger_)?joint\d)">', text)
    assert joints == [f"panda_joint{i}" for i in range(1, 8)] + ["panda_finger_joint1",
                                                                  "panda_finger_joint2"]


def test_robot_descriptions_expand_with_the_pinned_upstream_files():
    """The generator ran xacro on what the launch files build, against the pinned packages."""
    from panda_executor.config import MoveItConfig

    from panda_executor import panda

    movable = sorted(panda.ARM_JOINT_NAMES + panda.FINGER_JOINT_NAMES)
    runs = {r["what"]: r for img in LISTING["images"].values() for r in img["xacro"]}
    assert all(r["expanded"] for r in runs.values()), runs
    gz = runs["gazebo robot"]
    assert gz["movable_joints"] == movable
    assert gz["plugins"] == ["gz_ros2_control-system", "gz_ros2_control/GazeboSimSystem"]
    mock = runs["mock-hardware robot (MoveItConfigsBuilder mapping)"]
    assert mock["movable_joints"] == movable
    assert mock["plugins"] == ["mock_components/GenericSystem"]
    real = runs["franka robot (panda_real.launch.py)"]
    assert real["movable_joints"] == movable
    assert real["plugins"] == ["franka_hardware/FrankaHardwareInterface"]
    assert MoveItConfig().arm_group in runs["franka SRDF"]["groups"]
