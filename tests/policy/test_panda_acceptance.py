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
