"""What can be checked of the launch files, Docker files and bag/report writers without a ROS
distribution: launch_ros is not installable here, so the launch files are checked statically."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.py"))
OUR_PACKAGES = ("real2sim_perception", "real2sim_policy", "panda_executor", "real2sim_bringup")


def _console_scripts(pkg: str) -> set[str]:
    text = (REPO / "src" / pkg / "setup.py").read_text()
    return set(re.findall(r'"([a-z_]+) = [a-z0-9_.]+:main"', text))


def _calls(tree, name):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def _kw(call, key):
    for k in call.keywords:
        if k.arg == key:
            return k.value
    return None


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_is_well_formed(path):
    tree = ast.parse(path.read_text())
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description"
               for n in tree.body)
    args = _calls(tree, "DeclareLaunchArgument")
    assert args, "no launch arguments"
    for a in args:
        desc = _kw(a, "description")
        assert isinstance(desc, ast.Constant) and desc.value, (
            f"argument {ast.unparse(a.args[0])} has no description")
    declared = {a.args[0].value for a in args}
    used = {c.args[0].value for c in _calls(tree, "LaunchConfiguration")}
    assert used <= declared, f"undeclared launch arguments used: {used - declared}"
    for node in _calls(tree, "Node"):
        pkg, exe = _kw(node, "package").value, _kw(node, "executable").value
        if pkg in OUR_PACKAGES:
            assert exe in _console_scripts(pkg), f"{pkg} has no console script {exe!r}"
    for c in _calls(tree, "_config"):
        assert (REPO / "config" / c.args[0].value).is_file(), f"config/{c.args[0].value} missing"


def test_docker_files_reference_existing_paths():
    text = (REPO / "docker" / "Dockerfile").read_text()
    assert "FROM ros:${ROS_DISTRO}" in text and "ARG ROS_DISTRO=jazzy" in text
    assert "moveit-py" in text and "franka_ros2" in text
    for src in re.findall(r"^COPY (\S+) ", text, flags=re.M):
        assert (REPO / src).exists(), f"Dockerfile copies missing {src}"
    compose = (REPO / "docker" / "compose.yaml").read_text()
    launches = set(re.findall(r'"([a-z_]+\.launch\.py)"', compose))
    assert launches and all((REPO / "launch" / name).is_file() for name in launches)


def test_bag_round_trip_decodes_with_rclpy(tmp_path):
    from rclpy.serialization import deserialize_message
    from real2sim_bringup.bag import BagWriter, read_bag
    from real2sim_core.ros_msgs import trajectory_from_msg, trajectory_markers, trajectory_to_msg
    from visualization_msgs.msg import MarkerArray

    from real2sim_core import align
    from real2sim_interfaces.msg import StateTrajectory

    from ..core.test_trajectory import make_traj

    tr = align(make_traj(6, 2, "put_onto"))
    with BagWriter(tmp_path / "bag") as bag:
        bag.write_message("/real2sim/state_trajectory", trajectory_to_msg(tr), 1_000)
        bag.write_message("/real2sim/estimate_markers", trajectory_markers(tr), 2_000)
    assert (tmp_path / "bag" / "metadata.yaml").is_file()
    assert list((tmp_path / "bag").glob("*.mcap"))
    content = read_bag(tmp_path / "bag")
    mtype, stamp, raw = content["/real2sim/state_trajectory"][0]
    assert mtype == "real2sim_interfaces/msg/StateTrajectory" and stamp == 1_000
    assert trajectory_from_msg(deserialize_message(raw, StateTrajectory)).allclose(tr)
    ma = deserialize_message(content["/real2sim/estimate_markers"][0][2], MarkerArray)
    assert len(ma.markers) > 3
    with pytest.raises(FileExistsError, match="bag directory exists"):
        BagWriter(tmp_path / "bag")


def test_report_lists_artefacts_and_missing_ones(tmp_path):
    from real2sim_bringup.report import Failure, Page, Section, Stage, figure, write_page

    (tmp_path / "top.png").write_bytes(b"\x89PNG\r\n")
    body = figure(tmp_path, "top.png", "top view") + figure(tmp_path, "absent.gif", "overlay")
    page = Page(title="run", facts=[("action", "push_left_to_right")],
                stages=[Stage("estimate", "passed", "1/1 videos fitted", 2.0),
                        Stage("rollout", "failed", "row 9 is outside the spec"),
                        Stage("execute", "skipped", "not run: the rollout stage failed")],
                failures=[Failure("rollout", "row 9 is outside the spec")],
                sections=[Section("Estimate", body)])
    assert page.verdict == "failed"
    text = write_page(page, tmp_path / "report.html").read_text()
    assert '<img src="top.png"' in text and "missing: absent.gif" in text
    assert '<span class="badge passed">passed</span>' in text
    assert '<div class="failure"><b>rollout</b>: row 9 is outside the spec</div>' in text
    assert '<span class="badge skipped">not run</span>' in text
    with pytest.raises(ValueError, match="not a relative path"):
        figure(tmp_path, "/etc/top.png")
