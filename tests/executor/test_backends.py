"""Backends: registry, moveit requests (no MoveIt needed), the simulated Panda."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.backends import backend_names
from panda_executor.backends.ros2_control import (
    build_requests,
    step_label,
    to_joint_trajectory_msg,
)
from panda_executor.config import BACKEND_NAMES
from panda_executor.handmade import push_pull_plan
from real2sim_core.config import ConfigError
from real2sim_core.errors import InputError, UnknownNameError

from panda_executor import ExecutionStatus, ExecutorConfig, make_backend


@pytest.fixture(scope="module")
def push_xplan():
    from panda_executor import Executor

    return Executor().plan_joint_trajectory(push_pull_plan("push_left_to_right"),
                                            (0.5, 0.0, 0.0))


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="known backends: moveit, ros2_control, sim"):
        make_backend("gazebo", ExecutorConfig())


def test_backend_names_are_checked_by_the_config():
    with pytest.raises(ConfigError, match="'moveit', 'ros2_control', 'sim'"):
        ExecutorConfig(backend="bogus")
    assert tuple(backend_names()) == BACKEND_NAMES


def test_ros_backends_need_the_node():
    for name in ("ros2_control", "moveit"):
        with pytest.raises(InputError, match=f"runs inside a node .*backend:={name}"):
            make_backend(name, ExecutorConfig())


def test_requests_contents(push_xplan):
    cfg = ExecutorConfig()
    steps = build_requests(push_xplan, cfg)
    kinds = [s["kind"] for s in steps]
    assert kinds[0] == "move_to_start" and kinds[1] == "gripper" and "trajectory" in kinds
    assert np.allclose(steps[0]["joint_positions"], push_xplan.main.positions[0])
    g = steps[1]
    assert g["action_name"] == "/panda_gripper/grasp"
    assert g["action_type"] == "franka_msgs/action/Grasp"
    assert set(g["goal"]) == {"width", "epsilon", "speed", "force"}
    assert set(g["goal"]["epsilon"]) == {"inner", "outer"}
    for s in steps:
        if s["kind"] != "trajectory":
            continue
        jt = s["joint_trajectory"]
        assert jt["joint_names"] == [f"panda_joint{i}" for i in range(1, 8)]
        t = [p["time_from_start"]["sec"] + 1e-9 * p["time_from_start"]["nanosec"]
             for p in jt["points"]]
        assert t[0] == 0.0 and np.all(np.diff(t) > 0)
        assert s["duration"] == pytest.approx(t[-1], abs=1e-9)
        for p in jt["points"]:
            assert len(p["positions"]) == len(p["velocities"]) == len(p["accelerations"]) == 7
            assert 0 <= p["time_from_start"]["nanosec"] < 1_000_000_000
        assert np.allclose(jt["points"][0]["velocities"], 0.0)  # starts and ends at rest
        assert np.allclose(jt["points"][-1]["velocities"], 0.0)
    total = sum(len(s["joint_trajectory"]["points"]) for s in steps if s["kind"] == "trajectory")
    assert total >= len(push_xplan.main)
    labels = [step_label(i, len(steps), s) for i, s in enumerate(steps)]
    assert labels[0] == f"step 1/{len(steps)} (move to the start configuration)"
    assert labels[1] == f"step 2/{len(steps)} (gripper grasp via /panda_gripper/grasp)"


def test_gripper_command_requests_for_simulated_hands(push_xplan):
    cfg = ExecutorConfig()
    cfg.robot.gripper_interface = "gripper_command"
    grip = [s for s in build_requests(push_xplan, cfg) if s["kind"] == "gripper"]
    assert grip and all(s["action_name"] == "/panda_hand_controller/gripper_cmd" for s in grip)
    assert all(s["action_type"] == "control_msgs/action/GripperCommand" for s in grip)
    for s in grip:  # one finger joint: half the width
        assert s["goal"]["command"]["position"] == pytest.approx(s["width"] / 2)


def test_joint_trajectory_message_built_when_trajectory_msgs_exist(push_xplan):
    pytest.importorskip("trajectory_msgs.msg")
    steps = [s for s in build_requests(push_xplan, ExecutorConfig()) if s["kind"] == "trajectory"]
    msg = to_joint_trajectory_msg(steps[0]["joint_trajectory"])
    assert list(msg.joint_names)[0] == "panda_joint1"
    assert len(msg.points) == len(steps[0]["joint_trajectory"]["points"])
    last = msg.points[-1]
    d = steps[0]["joint_trajectory"]["points"][-1]["time_from_start"]
    assert (last.time_from_start.sec, last.time_from_start.nanosec) == (d["sec"], d["nanosec"])


def test_moveit_scene_has_the_table_under_the_workspace_and_the_standing_object(push_xplan):
    from panda_executor.backends.moveit import TABLE_ID, object_id, scene_objects

    cfg = ExecutorConfig()
    objs = scene_objects(push_xplan, cfg)
    assert [o["id"] for o in objs] == [TABLE_ID, object_id(0)]
    table, obj = objs
    ws, mc = cfg.workspace, cfg.moveit
    assert table["type"] == "box"
    width = ws.table_x[1] - ws.table_x[0] + 2 * mc.table_margin
    assert table["dimensions"][0] == pytest.approx(width)
    assert table["position"][2] + table["dimensions"][2] / 2 == pytest.approx(ws.table_height)
    assert obj["type"] == "cylinder"
    h, r = obj["dimensions"]
    assert (h, r) == (push_xplan.objects[0].height, push_xplan.objects[0].radius)
    np.testing.assert_allclose(obj["position"], [0.5, 0.0, ws.table_height + h / 2])


def test_moveit_backend_without_moveit_py_fails_the_goal_with_the_reason(push_xplan):
    """The moveit backend inside a node, where moveit_py is not installed: a FAILED result
    saying where it comes from (nothing raised)."""
    try:
        import moveit  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("moveit_py is installed here")
    import rclpy

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("moveit_backend_test", context=ctx)
    try:
        backend = make_backend("moveit", ExecutorConfig(), node=node)
        res = backend.execute(push_xplan)
        backend.close()
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
    assert res.status is ExecutionStatus.FAILED
    assert res.message.startswith("preparing the scene: moveit_py is not importable here")
    assert "docker/README.md" in res.message


def test_sim_push_moves_the_object_and_passes_the_check(push_xplan):
    seen = []
    res = make_backend("sim", ExecutorConfig()).execute(push_xplan, progress=seen.append)
    assert res.ok, res.message
    assert res.details["object_final_aligned"][0][0] > 0.05
    assert res.check is not None and res.check["success"], res.check
    assert res.details["max_joint_tracking_error_rad"] < 0.05
    assert seen and seen[-1].fraction > 0.9


def test_sim_cancellation_stops_early(push_xplan):
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 20

    res = make_backend("sim", ExecutorConfig()).execute(push_xplan, cancel=cancel)
    assert res.status is ExecutionStatus.CANCELED
    assert res.details["object_final_aligned"][0][0] < 0.01  # stopped before the push


def test_no_hand_skips_the_gripper_commands_with_a_note(push_xplan):
    cfg = ExecutorConfig()
    cfg.robot.gripper_interface = "none"
    steps = build_requests(push_xplan, cfg)
    skipped = [s for s in steps if s["kind"] == "skip"]
    assert skipped and not [s for s in steps if s["kind"] == "gripper"]
    assert skipped[0]["note"] == "gripper grasp skipped (robot.gripper_interface = none)"
