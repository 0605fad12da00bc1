"""Aligned frame -> panda_link0 placement and the workspace checks."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.config import WorkspaceConfig
from panda_executor.errors import WorkspaceError
from panda_executor.transform import (
    check_object_pose,
    flip_fingers,
    plan_to_tcp_path,
    tcp_path_to_aligned,
)

from real2sim_core import frames


def test_plan_is_placed_at_the_object_pose(plan_at):
    ws = WorkspaceConfig(table_height=0.02)
    plan = plan_at([0.1, 0.0, 0.05], 0.0, 0.5)
    path = plan_to_tcp_path(plan, (0.5, 0.1, np.pi / 2), ws)
    assert np.allclose(path.positions[0], [0.5, 0.2, 0.07])
    # the hand azimuth turns with the object yaw: +x of the aligned frame = +y of panda_link0
    az, el = frames.hand_angles_from_gripper_quat(path.quats[0])
    assert az == pytest.approx(np.pi / 2) and el == pytest.approx(0.5)
    back, q = tcp_path_to_aligned(path.positions, path.quats, path.object_pose, 0.02)
    assert np.allclose(back, plan.positions)
    assert frames.quat_angle(q, plan.quats).max() < 1e-9


def test_flip_keeps_the_hand_direction(plan_at):
    q = plan_at([0, 0, 0.1], 0.3, 0.7).quats
    f = flip_fingers(q)
    assert np.allclose(frames.quat_to_matrix(f)[:, :, 2], frames.quat_to_matrix(q)[:, :, 2])
    assert np.allclose(frames.quat_to_matrix(f)[:, :, 1], -frames.quat_to_matrix(q)[:, :, 1])


@pytest.mark.parametrize("pose, text", [
    ((1.5, 0.0, 0.0), "off the table"),
    ((0.5, 0.7, 0.0), "off the table"),
    ((float("nan"), 0.0, 0.0), "NaN"),
    ((0.3, 0.0, 0.0), "from the robot base"),
])
def test_object_pose_refused(pose, text):
    with pytest.raises(WorkspaceError, match=text):
        check_object_pose(pose, WorkspaceConfig(min_radius=0.4))


def test_waypoints_below_the_table_are_named(plan_at):
    plan = plan_at([0.0, 0.0, 0.05], 0.0, 0.5, n=8)
    plan.positions[3:5, 2] = -0.01
    with pytest.raises(WorkspaceError, match=r"below .* at waypoint\(s\) 3, 4"):
        plan_to_tcp_path(plan, (0.5, 0.0, 0.0), WorkspaceConfig())


def test_waypoints_out_of_reach_are_named(plan_at):
    plan = plan_at([0.0, 0.0, 0.05], 0.0, 0.5, n=6)
    plan.positions[5, 0] = 0.45
    with pytest.raises(WorkspaceError, match=r"farther than 0.8 m .* waypoint\(s\) 5"):
        plan_to_tcp_path(plan, (0.5, 0.0, 0.0), WorkspaceConfig())
