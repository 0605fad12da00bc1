"""Shared fixtures of the executor tests (small and fast: 2 shared CPU cores)."""

from __future__ import annotations

import numpy as np
import pytest
from real2sim_core.plan import GripperPlan

from real2sim_core import frames


@pytest.fixture(scope="session")
def kin():
    from panda_executor.kinematics import PandaKinematics

    return PandaKinematics()


@pytest.fixture(scope="session")
def executor():
    from panda_executor import Executor

    return Executor()


def make_plan(pos, az, el, n=5, action="push_left_to_right", fps=12.0):
    """A plan holding one aligned-frame pose for ``n`` waypoints."""
    t = np.arange(n) / fps
    p = np.repeat(np.asarray(pos, dtype=float)[None], n, axis=0)
    q = np.repeat(frames.gripper_quat_from_hand_angles(az, el)[None], n, axis=0)
    return GripperPlan(t, p, q, np.zeros(n), action=action)


@pytest.fixture()
def plan_at():
    return make_plan
