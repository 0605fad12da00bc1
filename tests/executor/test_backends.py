"""Backends: registry, moveit requests (no MoveIt needed), the simulated Panda."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.backends.moveit import build_requests, to_joint_trajectory_msg
from panda_executor.handmade import push_pull_plan
from real2sim_core.errors import UnknownNameError

from panda_executor import ExecutionStatus, ExecutorConfig, make_backend


@pytest.fixture(scope="module")
def push_xplan():
    from panda_executor import Executor

    return Executor().plan_joint_trajectory(push_pull_plan("push_left_to_right"),
                                            (0.5, 0.0, 0.0))


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="known backends: moveit, sim"):
        make_backend("gazebo", ExecutorConfig())


def test_moveit_requests_contents(push_xplan):
    cfg = ExecutorConfig()
    steps = build_requests(push_xplan, cfg.moveit)
    kinds = [s["kind"] for s in steps]
    assert kinds[0] == "plan_to_joints" and kinds[1] == "gripper" and "trajectory" in kinds
    first = steps[0]
    assert first["group"] == "panda_arm"
    assert list(first["joint_positions"]) == [f"panda_joint{i}" for i in range(1, 8)]
    assert np.allclose(list(first["joint_positions"].values()), push_xplan.main.positions[0])
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
        for p in jt["points"]:
            assert len(p["positions"]) == len(p["velocities"]) == len(p["accelerations"]) == 7
            assert 0 <= p["time_from_start"]["nanosec"] < 1_000_000_000
        assert np.allclose(jt["points"][0]["velocities"], 0.0)  # starts and ends at rest
        assert np.allclose(jt["points"][-1]["velocities"], 0.0)
    total = sum(len(s["joint_trajectory"]["points"]) for s in steps if s["kind"] == "trajectory")
    assert total >= len(push_xplan.main)


def test_moveit_requests_without_planning_include_the_move_to_start(push_xplan):
    cfg = ExecutorConfig()
    cfg.moveit.plan_to_start = False
    steps = build_requests(push_xplan, cfg.moveit)
    assert steps[0]["kind"] == "trajectory" and steps[0]["name"] == "move_to_start"
    assert np.allclose(steps[0]["joint_trajectory"]["points"][0]["positions"], push_xplan.home)


def test_joint_trajectory_message_built_when_trajectory_msgs_exist(push_xplan):
    pytest.importorskip("trajectory_msgs.msg")
    steps = [s for s in build_requests(push_xplan, ExecutorConfig().moveit)
             if s["kind"] == "trajectory"]
    msg = to_joint_trajectory_msg(steps[0]["joint_trajectory"])
    assert list(msg.joint_names)[0] == "panda_joint1"
    assert len(msg.points) == len(steps[0]["joint_trajectory"]["points"])
    last = msg.points[-1]
    d = steps[0]["joint_trajectory"]["points"][-1]["time_from_start"]
    assert (last.time_from_start.sec, last.time_from_start.nanosec) == (d["sec"], d["nanosec"])


def test_moveit_backend_reports_unavailable_instead_of_raising(push_xplan):
    try:
        import moveit  # noqa: F401

        pytest.skip("moveit_py is installed here")
    except ImportError:
        pass
    res = make_backend("moveit", ExecutorConfig()).execute(push_xplan)
    assert res.status is ExecutionStatus.FAILED and "moveit" in res.message.lower()


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
