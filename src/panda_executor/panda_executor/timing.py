"""Time-parameterisation of joint waypoints within the Panda's velocity/acceleration limits.

The joint trajectory is what a ``joint_trajectory_controller`` reproduces from positions and
velocities: a cubic Hermite spline through the waypoints. Knot velocities are the three-point
(non-uniform) finite-difference estimates, zero at the ends and at every *stop* (gripper events).
On a cubic segment the acceleration is linear (its extremes are at the knots) and the velocity
is quadratic (extreme at a knot or at the vertex), so the limits are checked exactly.

``stretch`` mode keeps the plan's timing wherever that is feasible and slows down only the
segments that break a limit (iteratively, since knot velocities couple neighbouring segments);
the path is unchanged (a plan that would need more than ``max_stretch`` times its duration is
refused). ``strict`` mode refuses any excess instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import panda
from .errors import LimitError

__all__ = ["JointTrajectory", "time_parameterize", "hermite_extremes", "sample_hermite",
           "trapezoid_move"]


@dataclass
class JointTrajectory:
    """Timed joint waypoints (``N`` points).

    Attributes:
        times: ``(N,)`` time from the trajectory start, s.
        positions: ``(N, 7)`` rad.
        velocities: ``(N, 7)`` rad/s.
        accelerations: ``(N, 7)`` rad/s^2 (of the cubic spline at the knot, from the left
            segment's end where there is one).
        joint_names: the 7 arm joints.
    """

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray
    joint_names: tuple[str, ...] = panda.ARM_JOINT_NAMES

    def __len__(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0

    def sample(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities ``(7,)`` at time ``t`` (s), clamped to the ends."""
        return sample_hermite(self.times, self.positions, self.velocities, t)


def _knot_velocities(times, q, stops) -> np.ndarray:
    n = len(times)
    v = np.zeros_like(q)
    if n < 3:
        return v
    h = np.diff(times)
    slope = np.diff(q, axis=0) / h[:, None]
    h0, h1 = h[:-1, None], h[1:, None]
    v[1:-1] = (slope[:-1] * h1 + slope[1:] * h0) / (h0 + h1)
    # a knot where the joint reverses direction gets zero velocity (no overshoot)
    rev = slope[:-1] * slope[1:] <= 0
    v[1:-1][rev] = 0.0
    v[list(stops)] = 0.0
    return v


def hermite_extremes(times, q, v) -> tuple[np.ndarray, np.ndarray]:
    """Largest |velocity| and |acceleration| ``(N-1, 7)`` on each cubic Hermite segment."""
    h = np.diff(times)[:, None]
    dq = np.diff(q, axis=0)
    v0, v1 = v[:-1], v[1:]
    a0 = (6 * dq - h * (4 * v0 + 2 * v1)) / h**2
    a1 = (-6 * dq + h * (2 * v0 + 4 * v1)) / h**2
    acc = np.maximum(np.abs(a0), np.abs(a1))
    vel = np.maximum(np.abs(v0), np.abs(v1))
    # velocity vertex where the (linear) acceleration crosses zero inside the segment
    with np.errstate(divide="ignore", invalid="ignore"):
        s = a0 / (a0 - a1)
    inside = (s > 0) & (s < 1)
    vv = v0 + a0 * s * h + 0.5 * (a1 - a0) * s**2 * h
    vel = np.where(inside, np.maximum(vel, np.abs(vv)), vel)
    return vel, acc


def sample_hermite(times, q, v, t) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate the cubic Hermite spline (positions, velocities) at time ``t``."""
    times = np.asarray(times)
    if t <= times[0]:
        return q[0].copy(), v[0].copy()
    if t >= times[-1]:
        return q[-1].copy(), v[-1].copy()
    k = int(np.searchsorted(times, t, side="right")) - 1
    h = times[k + 1] - times[k]
    s = (t - times[k]) / h
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, \
        s**3 - s**2
    pos = h00 * q[k] + h10 * h * v[k] + h01 * q[k + 1] + h11 * h * v[k + 1]
    d00, d10 = 6 * s**2 - 6 * s, 3 * s**2 - 4 * s + 1
    d01, d11 = -6 * s**2 + 6 * s, 3 * s**2 - 2 * s
    vel = (d00 * q[k] + d01 * q[k + 1]) / h + d10 * v[k] + d11 * v[k + 1]
    return pos, vel


def time_parameterize(times, q, *, vel_limits=None, acc_limits=None, stops=(),
                      mode: str = "stretch", max_stretch: float = 6.0,
                      labels=None, max_iterations: int = 500):
    """Time a joint path so that no joint exceeds its velocity/acceleration limit.

    Args:
        times: ``(N,)`` requested times, s, strictly increasing.
        q: ``(N, 7)`` joint positions, rad.
        vel_limits, acc_limits: ``(7,)`` allowed |velocity| (rad/s) and |acceleration|
            (rad/s^2); default the datasheet limits.
        stops: indices where the robot must be at rest (besides the first and last).
        mode: ``"stretch"`` or ``"strict"`` (see the module docstring).
        max_stretch: refuse when the whole trajectory would have to last more than this many
            times its requested duration.
        labels: ``(N,)`` waypoint labels used in error messages (default the indices).

    Returns:
        ``(trajectory, report)``: the :class:`JointTrajectory` and a dict with the stretch
        factors and the limit usage.

    Raises:
        LimitError: in strict mode when a limit is exceeded, or when the needed stretch is
            larger than ``max_stretch``; names the waypoints, joints and limits.
    """
    t_req = np.asarray(times, dtype=float)
    q = np.asarray(q, dtype=float)
    vmax = panda.DQ_MAX if vel_limits is None else np.asarray(vel_limits, dtype=float)
    amax = panda.DDQ_MAX if acc_limits is None else np.asarray(acc_limits, dtype=float)
    labels = np.arange(len(t_req)) if labels is None else np.asarray(labels)
    stops = sorted({0, len(t_req) - 1, *[int(s) for s in stops]})
    h_req = np.diff(t_req)
    h = h_req.copy()
    for _ in range(max_iterations):
        tt = np.concatenate([[0.0], np.cumsum(h)]) + t_req[0]
        v = _knot_velocities(tt, q, stops)
        vel, acc = hermite_extremes(tt, q, v)
        rv = (vel / vmax).max(axis=1) if len(h) else np.zeros(0)
        ra = (acc / amax).max(axis=1) if len(h) else np.zeros(0)
        ratio = np.maximum(rv, np.sqrt(ra))
        bad = ratio > 1.0 + 1e-9
        if not bad.any():
            break
        if mode == "strict":
            _raise_limits(bad, vel, acc, vmax, amax, labels, "at the plan's own timing")
        h = np.where(bad, h * np.minimum(ratio, 2.0) * 1.01, h)
        if h.sum() > h_req.sum() * max_stretch:
            raise LimitError(
                f"the joint path needs more than max_stretch = {max_stretch} times the plan's "
                f"duration ({h_req.sum():.2f} s) to stay within the joint velocity/"
                f"acceleration limits; the segments still too fast are between waypoints "
                f"{_pairs(bad, labels)} ({_limit_text(vel, acc, vmax, amax, bad)})"
            )
    else:
        raise LimitError("time-parameterisation did not converge within the joint limits")
    a = np.zeros_like(q)
    if len(h):
        hh = h[:, None]
        dq = np.diff(q, axis=0)
        a[1:] = (-6 * dq + hh * (2 * v[:-1] + 4 * v[1:])) / hh**2
        a[0] = (6 * dq[0] - hh[0] * (4 * v[0] + 2 * v[1])) / hh[0] ** 2
    traj = JointTrajectory(tt, q, v, a)
    stretch = h / np.where(h_req > 0, h_req, 1.0)
    report = {
        "duration_requested_s": float(t_req[-1] - t_req[0]),
        "duration_s": float(tt[-1] - tt[0]),
        "stretched_segments": int((stretch > 1.0 + 1e-6).sum()),
        "max_segment_stretch": float(stretch.max()) if len(stretch) else 1.0,
        "velocity_usage": [float(x) for x in (vel.max(axis=0) / panda.DQ_MAX)] if len(h)
        else [0.0] * 7,
        "acceleration_usage": [float(x) for x in (acc.max(axis=0) / panda.DDQ_MAX)] if len(h)
        else [0.0] * 7,
    }
    return traj, report


def _pairs(mask, labels) -> str:
    idx = np.flatnonzero(mask)
    items = [f"{labels[i]}-{labels[i + 1]}" for i in idx[:8]]
    return ", ".join(items) + (f" ... ({len(idx)} in all)" if len(idx) > 8 else "")


def _limit_text(vel, acc, vmax, amax, mask) -> str:
    rv = (vel[mask] / vmax).max(axis=0)
    ra = (acc[mask] / amax).max(axis=0)
    jv, ja = int(np.argmax(rv)), int(np.argmax(ra))
    return (f"worst velocity {panda.ARM_JOINT_NAMES[jv]} {vel[mask][:, jv].max():.2f} rad/s vs "
            f"limit {vmax[jv]:.2f}; worst acceleration {panda.ARM_JOINT_NAMES[ja]} "
            f"{acc[mask][:, ja].max():.1f} rad/s^2 vs limit {amax[ja]:.1f}")


def _raise_limits(bad, vel, acc, vmax, amax, labels, when):
    raise LimitError(
        f"the joint trajectory exceeds the joint velocity/acceleration limits {when} between "
        f"waypoints {_pairs(bad, labels)} ({_limit_text(vel, acc, vmax, amax, bad)}); use "
        "timing.mode = stretch to slow these segments down"
    )


def trapezoid_move(q0, q1, vel_limits, acc_limits, dt: float = 0.05):
    """A synchronised trapezoidal joint move from ``q0`` to ``q1`` (rest to rest).

    Returns:
        :class:`JointTrajectory` sampled every ``dt`` s (at least 2 points).
    """
    q0 = np.asarray(q0, dtype=float)
    q1 = np.asarray(q1, dtype=float)
    d = q1 - q0
    # per joint minimum time of a trapezoid; the slowest joint sets the common time
    dist = np.abs(d)
    vmax = np.asarray(vel_limits, dtype=float)
    amax = np.asarray(acc_limits, dtype=float)
    t_tri = 2 * np.sqrt(dist / amax)
    t_trap = dist / vmax + vmax / amax
    t_j = np.where(dist <= vmax**2 / amax, t_tri, t_trap)
    T = float(max(t_j.max(), dt))
    # a common profile s(t) in [0, 1] with accel fraction 1/4 of T (scaled per joint)
    ta = T / 4.0
    n = max(2, int(np.ceil(T / dt)) + 1)
    ts = np.linspace(0.0, T, n)
    vpk = 1.0 / (T - ta)
    s = np.where(ts < ta, 0.5 * vpk / ta * ts**2,
                 np.where(ts > T - ta, 1 - 0.5 * vpk / ta * (T - ts) ** 2,
                          vpk * (ts - ta / 2)))
    sd = np.where(ts < ta, vpk / ta * ts, np.where(ts > T - ta, vpk / ta * (T - ts), vpk))
    sdd = np.where(ts < ta, vpk / ta, np.where(ts > T - ta, -vpk / ta, 0.0))
    # make sure the common profile respects every joint's limits (stretch if needed)
    scale = max(1.0, float((np.abs(d) * vpk / vmax).max()),
                float(np.sqrt((np.abs(d) * vpk / ta / amax).max())))
    ts = ts * scale
    sd, sdd = sd / scale, sdd / scale**2
    return JointTrajectory(ts, q0 + s[:, None] * d, sd[:, None] * d, sdd[:, None] * d)
