"""scripts/panda_acceptance.py: the share of a policy's plans the Panda executor accepts."""

from __future__ import annotations

import numpy as np
from real2sim_policy.policies import POLICIES, Policy, register_policy

from tests.scripts_module import load_script


class PressDown(Policy):
    """Comes down onto the top of object 0 with the fingers closed and keeps pressing: what a
    kinematic hand can do and the Panda cannot (the table holds the object)."""

    name = "press_down"

    def __init__(self, action=None):
        self.action = action
        self.top = np.zeros(3)

    def reset(self, env):
        pos, _ = env.object_poses()
        self.top = pos[0] + np.array([0.0, 0.0, env.heights[0] / 2])

    def act(self, obs, env):
        hand, _ = env.hand_pose()
        d = self.top - hand
        v = np.zeros(3)
        if np.linalg.norm(d[:2]) > 0.005 and d[2] < 0:  # over the top, 2 cm above it
            v[:2], v[2] = 3 * d[:2], 3 * (d[2] + 0.02)
        elif d[2] < 0.015:                               # then down into it
            v[2] = -0.05
        a = np.zeros(7)
        a[:3] = np.arctanh(np.clip(v / 0.3, -0.99, 0.99))
        a[6] = -10.0
        return a


def test_plans_that_press_into_the_top_are_refused_and_side_pushes_accepted(capsys):
    mod = load_script("panda_acceptance")
    register_policy("press_down", PressDown)
    try:
        pressed = mod.acceptance("push_left_to_right", "press_down", "easy", 2)
    finally:
        POLICIES.pop("press_down")
    assert [r["accepted"] for r in pressed] == [False, False]
    assert all("presses" in r["reason"] and "into its top" in r["reason"] for r in pressed)
    # the scripted push comes from the side: the Panda executes it
    assert mod.main(["--action", "push_left_to_right", "--policy", "scripted", "--rows", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2:4] == ["| 0 | success | accepted |", "| 1 | success | accepted |"]
    assert out[-1] == "accepted 2 of 2 (2 of them succeed in the gripper world)"


def test_a_missing_policy_is_a_one_line_error(capsys):
    mod = load_script("panda_acceptance")
    assert mod.main(["--action", "push_left_to_right", "--policy", "/no/such.zip"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "/no/such.zip" in err


def _still_plan(position, azimuth, elevation):
    """Two waypoints 0.1 s apart at one TCP pose in ``panda_link0``, fingers open."""
    from real2sim_core.plan import GripperPlan

    from panda_executor import panda
    from real2sim_core import frames

    q = frames.gripper_quat_from_hand_angles(azimuth, elevation)
    return GripperPlan(times=[0.0, 0.1], positions=[position] * 2, quats=[q] * 2,
                       openings=[0.04, 0.04], frame_id=panda.BASE_LINK)


def test_explain_tells_a_pose_out_of_reach_from_a_reachable_one():
    from panda_executor import Executor, ExecutorConfig

    mod = load_script("panda_acceptance")
    executor = Executor(ExecutorConfig())
    # 9 cm above the table, 0.5 m out, the fingers pointing back at the base: no configuration
    back = mod.explain_unreachable(executor, _still_plan((0.5, 0.0, 0.09), np.pi, 0.0),
                                   executor.config.object_pose, restarts=20)
    assert "worst at plan waypoint" in back and "out of the arm's reach" in back
    assert "180 deg from pointing straight away from the base" in back
    assert "(-1.00, 0.00, 0.00)" in back
    # the same place with the fingers pointing down: tracked, nothing to explain
    assert mod.explain_unreachable(executor, _still_plan((0.5, 0.0, 0.09), 0.0, np.pi / 2),
                                   executor.config.object_pose, restarts=20) == ""
