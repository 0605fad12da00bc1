"""Executor: plan -> checked, timed ExecutionPlan; refusals before any motion."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.config import TimingConfig
from panda_executor.errors import LimitError, UnreachableError, WorkspaceError
from panda_executor.handmade import push_pull_plan
from real2sim_core.errors import InputError
from real2sim_core.plan import GripperPlan

from panda_executor import Executor, ExecutorConfig
from real2sim_core import frames


@pytest.mark.parametrize("action", ["push_left_to_right", "pull_right_to_left"])
def test_handmade_plans_track_within_tolerance(executor, action):
    xp = executor.plan_joint_trajectory(push_pull_plan(action), (0.5, 0.0, 0.0))
    s = xp.summary()
    assert s["ik"]["plan_only"]["position_error_max_mm"] < 1.0
    assert s["ik"]["plan_only"]["orientation_error_max_deg"] < 1.0
    assert s["joint_limit_margins"]["min_rad"] > 0.0
    assert max(s["timing"]["velocity_usage"]) <= 0.8 + 1e-6
    assert max(s["timing"]["acceleration_usage"]) <= 0.5 + 1e-6
    assert s["gripper_commands"][0]["action"] == "grasp"  # the push plan keeps fingers closed
    # chunks are continuous: each starts where the previous one ended
    chunks = xp.chunks()
    assert chunks[0].name == "move_to_start"
    assert np.allclose(chunks[0].trajectory.positions[0], xp.home)
    for a, b in zip(chunks[:-1], chunks[1:]):
        assert np.allclose(a.trajectory.positions[-1], b.trajectory.positions[0])
    # the plan's own waypoints are reached at the end of the approach
    assert (xp.plan_index >= 0).sum() == len(push_pull_plan(action).times)


def test_unreachable_plan_is_refused_with_waypoints(executor, plan_at):
    plan = plan_at([0.25, 0.0, 0.05], np.pi, np.radians(-60), n=5)
    with pytest.raises(UnreachableError) as e:
        executor.plan_joint_trajectory(plan, (0.5, 0.0, 0.0))
    msg = str(e.value)
    assert "plan waypoint(s) 0, 1, 2, 3, 4" in msg
    assert "tolerance 1 mm / 1 deg" in msg


def test_nan_pose_refused():
    with pytest.raises(InputError, match="NaN"):
        GripperPlan(np.arange(3) / 12, [[0, 0, 0.1], [np.nan, 0, 0.1], [0, 0, 0.1]],
                    np.tile([0, 0, 0, 1.0], (3, 1)), np.zeros(3))


def test_object_off_the_table_refused(executor):
    with pytest.raises(WorkspaceError, match="off the table"):
        executor.plan_joint_trajectory(push_pull_plan("push_left_to_right"), (1.2, 0.0, 0.0))


def test_too_fast_plan_refused_in_strict_mode():
    ex = Executor(ExecutorConfig(timing=TimingConfig(mode="strict")))
    plan = push_pull_plan("push_left_to_right")
    plan = GripperPlan(plan.times / 5.0, plan.positions, plan.quats, plan.openings,
                       action=plan.action)  # same path, five times faster
    with pytest.raises(LimitError) as e:
        ex.plan_joint_trajectory(plan, (0.5, 0.0, 0.0))
    assert "plan" in str(e.value) and "limit" in str(e.value)


def test_joint_jump_is_refused_with_waypoints():
    """A joint step above ik.max_joint_step between waypoints is refused, not followed."""
    from panda_executor.config import IKConfig

    ex = Executor(ExecutorConfig(ik=IKConfig(max_joint_step=0.005)))
    with pytest.raises(UnreachableError, match=r"jumps between waypoints at .*max_joint_step"):
        ex.plan_joint_trajectory(push_pull_plan("push_left_to_right"), (0.5, 0.0, 0.0))


def test_sudden_half_turn_is_resampled_not_skipped(executor):
    """A half turn of the hand within one plan step is tracked through inserted waypoints."""
    n = 12
    t = np.arange(n) / 12.0
    p = np.tile([0.0, 0.0, 0.12], (n, 1))
    az = np.where(np.arange(n) < 6, 0.0, np.pi / 2)
    q = frames.gripper_quat_from_hand_angles(az, np.full(n, np.radians(45.0)))
    plan = GripperPlan(t, p, q, np.zeros(n), action="push_left_to_right")
    xp = executor.plan_joint_trajectory(plan, (0.5, 0.0, 0.0))
    assert (xp.plan_index == -2).sum() >= 10  # 90 deg in <= 0.1 rad steps
    assert xp.ik.joint_steps.max() <= executor.config.ik.max_joint_step
    assert xp.timing["duration_s"] > xp.timing["duration_requested_s"]  # slowed down


def test_home_outside_limits_refused(executor):
    with pytest.raises(LimitError, match="panda_joint4"):
        executor.plan_joint_trajectory(push_pull_plan("push_left_to_right"), (0.5, 0.0, 0.0),
                                       home=[0, 0, 0, 0.5, 0, 1.5, 0.7])
