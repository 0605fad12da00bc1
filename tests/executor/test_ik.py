"""DLS IK: accuracy, limits, continuity over paths."""

from __future__ import annotations

import numpy as np
from panda_executor.config import IKConfig
from panda_executor.ik import IKSolver, track_path

from panda_executor import panda
from real2sim_core import frames


def test_reachable_poses_converge_below_1mm_1deg(kin):
    solver = IKSolver(kin)
    rng = np.random.default_rng(0)
    for _ in range(30):
        q = rng.uniform(panda.Q_MIN + 0.15, panda.Q_MAX - 0.15)
        T = kin.fk(q)
        sol = solver.solve(T[:3, 3], T[:3, :3], q + rng.normal(0, 0.1, 7))
        assert sol.converged
        assert sol.position_error < 1e-3 and np.degrees(sol.orientation_error) < 1.0
        assert np.all(sol.q >= panda.Q_MIN) and np.all(sol.q <= panda.Q_MAX)


def test_restarts_find_far_configurations(kin):
    solver = IKSolver(kin)
    rng = np.random.default_rng(3)
    q = np.array([0.8, 0.3, -0.5, -1.6, 0.4, 1.9, 0.2])
    T = kin.fk(q)
    sol = solver.solve_with_restarts(T[:3, 3], T[:3, :3], [panda.Q_READY], rng)
    assert sol.converged


def _line(n=60, el=60.0):
    P = np.stack([np.linspace(0.45, 0.65, n), np.linspace(-0.05, 0.05, n), np.full(n, 0.06)], 1)
    Q = np.repeat(frames.gripper_quat_from_hand_angles(0.0, np.radians(el))[None], n, 0)
    return P, Q


def test_path_tracking_is_accurate_and_continuous(kin):
    P, Q = _line()
    res = track_path(IKSolver(kin), P, Q)
    assert res.converged.all()
    assert res.position_errors.max() < 1e-3
    assert np.degrees(res.orientation_errors.max()) < 1.0
    assert res.joint_steps.max() < 0.1  # 3.7 mm steps: small joint steps, no flips
    assert res.interpolation_deviation.max() < 1e-3
    s = res.summary()
    assert s["converged"] == len(P) and s["restarted_waypoints"] == []


def test_joint_limits_are_respected_with_margin(kin):
    cfg = IKConfig(limit_margin=0.05)
    solver = IKSolver(kin, cfg)
    P, Q = _line(30, el=80.0)
    res = track_path(solver, P, Q)
    assert np.all(res.q >= panda.Q_MIN + 0.05 - 1e-9)
    assert np.all(res.q <= panda.Q_MAX - 0.05 + 1e-9)


def test_unreachable_pose_is_reported_not_converged(kin):
    solver = IKSolver(kin, IKConfig(restarts=2))
    R = frames.quat_to_matrix(frames.gripper_quat_from_hand_angles(0.0, 0.5))
    sol = solver.solve_with_restarts(np.array([1.2, 0.0, 0.3]), R, [panda.Q_READY],
                                     np.random.default_rng(0))
    assert not sol.converged and sol.position_error > 0.1


def test_warm_start_keeps_the_branch(kin):
    """The first waypoint stays near the given start; consecutive solutions stay on its branch."""
    q_known = np.array([0.2, 0.3, -0.1, -2.0, 0.1, 2.3, 0.9])
    T = kin.fk(q_known)
    n = 40
    P = T[:3, 3] + np.linspace(0.0, 1.0, n)[:, None] * np.array([0.1, 0.05, 0.0])
    Q = np.repeat(frames.matrix_to_quat(T[:3, :3])[None], n, axis=0)
    res = track_path(IKSolver(kin), P, Q, q_start=q_known)
    assert res.converged.all()
    assert np.abs(res.q[0] - q_known).max() < 0.05
    assert np.abs(np.diff(res.q, axis=0)).max() < 0.1
