"""Cartesian gripper plans: timed gripper poses plus the opening of the fingers.

A :class:`GripperPlan` is what a policy rollout produces and what the Panda executor consumes.

* ``times``     ``(T,)``    seconds from the start of the plan, strictly increasing
* ``positions`` ``(T, 3)``  fingertip centre (between the finger pads), m
* ``quats``     ``(T, 4)``  gripper orientation, x, y, z, w; +z points from the wrist to the
  fingertips, the fingers open along +y (see
  :func:`real2sim_core.frames.gripper_quat_from_hand_angles`)
* ``openings``  ``(T,)``    distance of each finger from the centre, m (width = 2 * opening),
  at most :data:`MAX_PLAN_OPENING` (the gripper world's finger travel)
* ``frame_id``  the frame of the poses (``"real2sim_aligned"`` or ``"panda_link0"``)

Plans are stored as JSON (``plan.json``) with the same field names as the ROS message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import frames
from .actions import get_action
from .errors import InputError, UnknownNameError
from .textio import read_json
from .trajectory import ALIGNED_FRAME_ID

__all__ = ["GripperPlan", "read_plan_json", "write_plan_json", "MAX_PLAN_OPENING"]

MAX_PLAN_OPENING = 0.075
"""The widest opening of each finger from the centre a plan can hold, m: the finger travel of
the gripper world the plans are rolled out in (``real2sim_policy.env.FINGER_OPEN``). An
executor maps it onto its own hand (the Franka hand opens 0.08 m in all)."""


@dataclass
class GripperPlan:
    """A timed Cartesian gripper path (see the module docstring for shapes and units)."""

    times: np.ndarray
    positions: np.ndarray
    quats: np.ndarray
    openings: np.ndarray
    frame_id: str = ALIGNED_FRAME_ID
    action: str = ""

    def __post_init__(self):
        self.times = np.asarray(self.times, dtype=float).reshape(-1)
        n = len(self.times)
        self.positions = np.asarray(self.positions, dtype=float).reshape(n, 3)
        self.quats = np.asarray(self.quats, dtype=float).reshape(n, 4)
        self.openings = np.asarray(self.openings, dtype=float).reshape(n)
        self.validate()

    def validate(self, source: str = "gripper plan") -> None:
        """Raise :class:`InputError` naming the offending waypoints."""
        if len(self.times) == 0:
            raise InputError(f"{source}: has no waypoints")
        for name in ("times", "positions", "quats", "openings"):
            arr = getattr(self, name)
            bad = ~np.isfinite(arr.reshape(len(self.times), -1)).all(axis=1)
            if bad.any():
                idx = np.flatnonzero(bad)
                raise InputError(
                    f"{source}: {name} is NaN/inf at waypoint(s) {_fmt_idx(idx)}"
                )
        norms = np.linalg.norm(self.quats, axis=1)
        bad = np.abs(norms - 1.0) > 1e-3
        if bad.any():
            raise InputError(
                f"{source}: orientation quaternions are not unit length at waypoint(s) "
                f"{_fmt_idx(np.flatnonzero(bad))} (norm {norms[bad][0]:.4g})"
            )
        self.quats = self.quats / norms[:, None]
        if len(self.times) > 1 and (np.diff(self.times) <= 0).any():
            k = int(np.argmax(np.diff(self.times) <= 0)) + 1
            raise InputError(f"{source}: time is not strictly increasing at waypoint {k}")
        if (self.openings < 0).any():
            raise InputError(
                f"{source}: negative gripper opening at waypoint(s) "
                f"{_fmt_idx(np.flatnonzero(self.openings < 0))}"
            )
        if self.action:
            try:
                self.action = get_action(self.action).name
            except UnknownNameError as e:
                raise InputError(f"{source}: {e}") from None

    @property
    def num_waypoints(self) -> int:
        return len(self.times)

    def hand_angles(self) -> tuple[np.ndarray, np.ndarray]:
        """Hand (azimuth, elevation) of each waypoint, rad."""
        return frames.hand_angles_from_gripper_quat(self.quats)

    def transformed(self, pose: frames.Pose2D, frame_id: str, height: float = 0.0) -> GripperPlan:
        """This plan with its frame placed at planar ``pose`` of ``frame_id``, raised by
        ``height`` (m) along z (e.g. the table surface's height in ``panda_link0``)."""
        p, q = frames.compose_planar(pose, self.positions, self.quats)
        if height:
            p = p + np.array([0.0, 0.0, height])
        return replace(self, positions=p, quats=q, frame_id=frame_id)

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "frame_id": self.frame_id,
            "waypoints": [
                {
                    "time_from_start": float(self.times[k]),
                    "position": [float(v) for v in self.positions[k]],
                    "orientation_xyzw": [float(v) for v in self.quats[k]],
                    "opening": float(self.openings[k]),
                }
                for k in range(self.num_waypoints)
            ],
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "gripper plan") -> GripperPlan:
        try:
            wps = d["waypoints"]
            return cls(
                times=[w["time_from_start"] for w in wps],
                positions=[w["position"] for w in wps],
                quats=[w["orientation_xyzw"] for w in wps],
                openings=[w["opening"] for w in wps],
                frame_id=d.get("frame_id", ALIGNED_FRAME_ID),
                action=d.get("action", ""),
            )
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, InputError):
                raise InputError(f"{source}: {e}") from None
            raise InputError(
                f"{source}: malformed plan ({type(e).__name__}: {e}); expected "
                "{'frame_id', 'action', 'waypoints': [{'time_from_start', 'position', "
                "'orientation_xyzw', 'opening'}]}"
            ) from None


def _fmt_idx(idx) -> str:
    idx = list(map(int, idx))
    return ", ".join(map(str, idx[:10])) + (f" ... ({len(idx)} in all)" if len(idx) > 10 else "")


def write_plan_json(plan: GripperPlan, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan.to_dict(), indent=1))
    return path


def read_plan_json(path) -> GripperPlan:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such plan file")
    d = read_json(path, "gripper plan JSON")
    return GripperPlan.from_dict(d, source=str(path))


