"""Time-parameterisation within the Panda's joint velocity/acceleration limits."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.errors import LimitError
from panda_executor.timing import time_parameterize, trapezoid_move

from panda_executor import panda

VMAX = 0.8 * panda.DQ_MAX
AMAX = 0.5 * panda.DDQ_MAX


def _path(n=40, amp=0.6, fps=12.0):
    t = np.arange(n) / fps
    q = np.tile(panda.Q_READY, (n, 1))
    q[:, 0] += amp * np.sin(2.5 * t)
    q[:, 3] += 0.2 * t
    return t, q


def _dense(traj, dt=0.002):
    ts = np.arange(traj.times[0], traj.times[-1], dt)
    v = np.array([traj.sample(x)[1] for x in ts])
    a = np.gradient(v, ts, axis=0)
    return v, a


def test_stretched_trajectory_respects_limits():
    t, q = _path()
    traj, rep = time_parameterize(t, q, vel_limits=VMAX, acc_limits=AMAX, stops=[20])
    v, a = _dense(traj)
    assert (np.abs(v) <= VMAX * 1.001).all()
    assert (np.abs(a) <= AMAX * 1.02).all()  # numerical gradient across knots
    assert rep["duration_s"] >= rep["duration_requested_s"]
    assert np.allclose(traj.velocities[[0, 20, -1]], 0.0)  # rest at the ends and the stop
    assert np.allclose(traj.positions, q)  # same path


def test_feasible_timing_is_kept():
    t = np.arange(40) / 12.0
    q = np.tile(panda.Q_READY, (40, 1))
    q[:, 0] += 0.1 * (1 - np.cos(np.pi * t / t[-1]))  # starts and ends at rest
    traj, rep = time_parameterize(t, q, vel_limits=VMAX, acc_limits=AMAX)
    assert rep["stretched_segments"] == 0
    assert np.allclose(traj.times, t)


def test_strict_mode_refuses_with_waypoints_and_limits():
    t, q = _path(amp=2.0)
    with pytest.raises(LimitError) as e:
        time_parameterize(t, q, vel_limits=VMAX, acc_limits=AMAX, mode="strict")
    msg = str(e.value)
    assert "between waypoints" in msg and "rad/s" in msg and "limit" in msg
    assert "panda_joint1" in msg


def test_max_stretch_refusal():
    t, q = _path(amp=2.0)
    with pytest.raises(LimitError, match="max_stretch"):
        time_parameterize(t, q, vel_limits=VMAX, acc_limits=AMAX, max_stretch=1.05)


def test_trapezoid_move_limits_and_endpoints():
    q0 = panda.Q_READY
    q1 = q0 + np.array([0.5, -0.3, 0.2, 0.4, -0.6, 0.3, 1.0])
    m = trapezoid_move(q0, q1, 0.3 * panda.DQ_MAX, 0.5 * panda.DDQ_MAX)
    assert np.allclose(m.positions[0], q0) and np.allclose(m.positions[-1], q1)
    assert (np.abs(m.velocities) <= 0.3 * panda.DQ_MAX + 1e-9).all()
    assert (np.abs(m.accelerations) <= 0.5 * panda.DDQ_MAX + 1e-9).all()
