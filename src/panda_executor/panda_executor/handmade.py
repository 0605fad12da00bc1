"""Hand-made gripper plans for push/pull (tests, benchmarks, demos without a policy).

All plans are in the aligned frame (object 0 starts at the origin, table at z = 0) and sampled
at 12 Hz like the policy rollouts. Push: the closed fingers come down behind the object and push
it along x. Pull: the hand stands beyond the object on the far side of the motion, points back
at it (azimuth opposite to the motion) and nearly straight down, and drags the object towards
itself by hooking the fingertips behind it.
"""

from __future__ import annotations

import math

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.errors import InputError
from real2sim_core.plan import GripperPlan

from real2sim_core import frames

__all__ = ["push_pull_plan"]


def _lerp_segments(keys, fps):
    """Piecewise smooth (cosine-eased) interpolation of ``(time, value)`` keyframes."""
    times = np.arange(0.0, keys[-1][0] + 1e-9, 1.0 / fps)
    out = np.zeros((len(times), len(keys[0][1])))
    for k, t in enumerate(times):
        for (t0, v0), (t1, v1) in zip(keys[:-1], keys[1:]):
            if t0 <= t <= t1:
                u = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                u = 0.5 - 0.5 * math.cos(math.pi * u)
                out[k] = (1 - u) * np.asarray(v0) + u * np.asarray(v1)
                break
    return times, out


def push_pull_plan(action: str = "push_left_to_right", height: float = 0.07,
                   radius: float = 0.045, distance: float = 0.15, push_time: float = 4.0,
                   elevation_deg: float | None = None, fps: float = 12.0) -> GripperPlan:
    """A push or pull plan: approach behind the object, move it ``distance`` along x, retreat.

    Args:
        action: a push or pull action name.
        height, radius: the cylinder, m.
        distance: how far the object is moved along x, m.
        push_time: duration of the pushing phase, s.
        elevation_deg: hand elevation (default 45 for push, 75 for pull), deg.
        fps: waypoint rate, Hz.
    """
    spec = get_action(action)
    if spec.kind not in ("push", "pull"):
        raise InputError(f"push_pull_plan: {spec.name} is not a push or pull action")
    s = float(spec.direction)
    pull = spec.kind == "pull"
    el = math.radians(elevation_deg if elevation_deg is not None else (75.0 if pull else 45.0))
    az = (math.pi if s > 0 else 0.0) if pull else (0.0 if s > 0 else math.pi)
    # fingertip height at contact; a pull hooks the fingertips behind the object, low enough to
    # catch it and high enough that the hand body (4.5 cm above the fingertips) clears its top
    z_c = max(0.3 * height, height - 0.025) if pull else 0.5 * height
    gap = 0.02  # fingertip centre behind the object's surface at contact
    x_c = -s * (radius + gap)
    above = max(height + 0.06, 0.12)
    keys = [
        (0.0, [x_c - s * 0.05, 0.0, above]),
        (1.0, [x_c - s * 0.05, 0.0, above]),
        (2.0, [x_c, 0.0, above]),
        (3.0, [x_c, 0.0, z_c]),
        (3.0 + push_time, [x_c + s * distance, 0.0, z_c]),
        (4.0 + push_time, [x_c + s * (distance - 0.03), 0.0, z_c]),
        (5.0 + push_time, [x_c + s * (distance - 0.03), 0.0, above]),
    ]
    times, pos = _lerp_segments(keys, fps)
    quat = np.repeat(frames.gripper_quat_from_hand_angles(az, el)[None], len(times), axis=0)
    return GripperPlan(times=times, positions=pos, quats=quat, openings=np.zeros(len(times)),
                       action=spec.name)
