"""Plan (aligned frame) + object pose -> Panda TCP poses in ``panda_link0``.

The aligned frame (METHOD section 4) has its origin at the first object's start position on the
table, z up, table at z = 0. Its placement in the robot base frame is the object's planar pose
``(x, y, yaw)`` on the table, whose surface is at ``z = table_height`` in ``panda_link0``.

The plan's gripper frame (+z from the wrist to the fingertips, fingers opening along +y, origin at
the fingertip centre) coincides with the Panda's TCP frame (``panda_hand`` moved
:data:`panda.TCP_OFFSET_FROM_HAND` along z), so the orientation maps 1:1. A parallel gripper is
symmetric under a half turn about its z axis; :func:`flip_fingers` gives that alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from real2sim_core.plan import GripperPlan
from real2sim_core.trajectory import ALIGNED_FRAME_ID

from real2sim_core import frames

from . import panda
from .config import WorkspaceConfig
from .errors import WorkspaceError

__all__ = [
    "aligned_frame_pose",
    "TcpPath",
    "check_object_pose",
    "plan_to_tcp_path",
    "tcp_path_to_aligned",
    "flip_fingers",
    "check_workspace",
    "format_indices",
]


@dataclass
class TcpPath(GripperPlan):
    """A gripper plan placed in ``panda_link0``: timed TCP poses (see :class:`GripperPlan`).

    Attributes (beyond the plan's ``times``, ``positions``, ``quats``, ``openings``, with
    ``frame_id`` = ``panda_link0``):
        object_pose: the aligned frame's planar pose in ``panda_link0``.
        table_height: z of the table in ``panda_link0``, m.
        flipped: whether the fingers were turned by half a turn about the TCP z axis.
    """

    frame_id: str = panda.BASE_LINK
    object_pose: frames.Pose2D = frames.Pose2D(0.0, 0.0, 0.0)
    table_height: float = 0.0
    flipped: bool = False

    def __len__(self) -> int:
        return self.num_waypoints


def format_indices(idx, limit: int = 10) -> str:
    """``"3, 4, 5 ... (12 in all)"`` for a list of waypoint indices."""
    idx = [int(i) for i in idx]
    s = ", ".join(map(str, idx[:limit]))
    return s + (f" ... ({len(idx)} in all)" if len(idx) > limit else "")


def check_object_pose(pose, ws: WorkspaceConfig) -> frames.Pose2D:
    """Validate an object pose ``(x, y, yaw)`` in ``panda_link0`` against the table.

    Raises:
        WorkspaceError: NaN values, off the table area, or outside the reachable ring.
    """
    vals = np.asarray(pose, dtype=float).reshape(-1)
    if vals.shape != (3,):
        raise WorkspaceError(f"object pose must be (x, y, yaw), got {list(vals)}")
    if not np.isfinite(vals).all():
        raise WorkspaceError(f"object pose {list(vals)} contains NaN/inf")
    x, y, yaw = vals
    (x0, x1), (y0, y1) = ws.table_x, ws.table_y
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        raise WorkspaceError(
            f"object pose ({x:.3f}, {y:.3f}) m is off the table: the table area in "
            f"{panda.BASE_LINK} is x in [{x0}, {x1}] m, y in [{y0}, {y1}] m"
        )
    r = float(np.hypot(x, y))
    if not ws.min_radius <= r <= ws.max_radius:
        raise WorkspaceError(
            f"object pose ({x:.3f}, {y:.3f}) m is {r:.3f} m from the robot base; allowed "
            f"[{ws.min_radius}, {ws.max_radius}] m"
        )
    return frames.Pose2D(x, y, yaw)


def flip_fingers(quats) -> np.ndarray:
    """Orientations ``(T, 4)`` turned by pi about their own z (same gripper, fingers swapped)."""
    m = frames.quat_to_matrix(quats) @ frames.rot_z(np.pi)
    return frames.matrix_to_quat(m)


def plan_to_tcp_path(plan: GripperPlan, object_pose, ws: WorkspaceConfig,
                     flip: bool = False) -> TcpPath:
    """Place an aligned-frame plan at the object pose and express it in ``panda_link0``.

    Args:
        plan: the gripper plan; its ``frame_id`` must be the aligned frame (or ``panda_link0``,
            then ``object_pose`` is ignored and the poses are used as they are).
        object_pose: ``(x, y, yaw)`` of the aligned frame's origin in ``panda_link0``, m, rad.
        ws: table and workspace limits.
        flip: turn the fingers by half a turn about the TCP z axis.

    Raises:
        WorkspaceError: bad object pose, or waypoints outside the workspace (named).
    """
    plan.validate()
    pose = check_object_pose(object_pose, ws)
    if plan.frame_id == ALIGNED_FRAME_ID:
        plan = plan.transformed(pose, panda.BASE_LINK, height=ws.table_height)
    elif plan.frame_id != panda.BASE_LINK:
        raise WorkspaceError(
            f"plan frame_id {plan.frame_id!r} is not supported; use {ALIGNED_FRAME_ID!r} "
            f"or {panda.BASE_LINK!r}"
        )
    quat = flip_fingers(plan.quats) if flip else plan.quats.copy()
    path = TcpPath(plan.times.copy(), plan.positions.copy(), quat, plan.openings.copy(),
                   action=plan.action, object_pose=pose, table_height=ws.table_height,
                   flipped=flip)
    check_workspace(path.positions, ws, what="plan")
    return path


def check_workspace(positions, ws: WorkspaceConfig, what: str = "plan") -> None:
    """Refuse TCP positions ``(T, 3)`` in ``panda_link0`` outside the workspace.

    Raises:
        WorkspaceError: naming the waypoints and the limit they break.
    """
    p = np.asarray(positions, dtype=float)
    bad = ~np.isfinite(p).all(axis=1)
    if bad.any():
        raise WorkspaceError(f"{what}: NaN/inf TCP position at waypoint(s) "
                             f"{format_indices(np.flatnonzero(bad))}")
    h = p[:, 2] - ws.table_height
    r = np.hypot(p[:, 0], p[:, 1])
    checks = [
        (h < ws.min_tcp_height, f"TCP below {ws.min_tcp_height} m above the table",
         h, "height above table"),
        (h > ws.max_tcp_height, f"TCP above {ws.max_tcp_height} m over the table",
         h, "height above table"),
        (r < ws.min_radius, f"TCP closer than {ws.min_radius} m to the base axis", r, "radius"),
        (r > ws.max_radius, f"TCP farther than {ws.max_radius} m from the base axis", r,
         "radius"),
    ]
    for mask, text, val, name in checks:
        if mask.any():
            idx = np.flatnonzero(mask)
            raise WorkspaceError(
                f"{what} leaves the workspace: {text} at waypoint(s) {format_indices(idx)} "
                f"(worst {name} {val[idx][np.argmax(np.abs(val[idx]))]:.3f} m)"
            )


def tcp_path_to_aligned(positions, quats, object_pose: frames.Pose2D,
                        table_height: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`plan_to_tcp_path`'s placement: ``panda_link0`` -> aligned frame.

    Args:
        positions: ``(T, 3)`` in ``panda_link0``, m.
        quats: ``(T, 4)`` (x, y, z, w) in ``panda_link0`` or None.
        object_pose: the aligned frame's planar pose in ``panda_link0``.
        table_height: z of the table in ``panda_link0``, m.
    """
    p = np.asarray(positions, dtype=float) - np.array([0.0, 0.0, table_height])
    return frames.relative_planar(object_pose, p, quats)


def aligned_frame_pose(object_pose, table_height: float):
    """The aligned frame in ``panda_link0`` as a :class:`real2sim_core.tf_broadcast.FramePose`:
    origin at the object's foot point ``(x, y, table_height)``, turned by ``yaw`` about z (the
    static transform ``panda_link0 -> real2sim_aligned`` that RViz needs to show plans and
    estimates next to the robot)."""
    from real2sim_core.tf_broadcast import FramePose

    pose = frames.Pose2D(*object_pose)
    half = pose.yaw / 2
    return FramePose(panda.BASE_LINK, ALIGNED_FRAME_ID,
                     np.array([pose.x, pose.y, float(table_height)]),
                     np.array([0.0, 0.0, np.sin(half), np.cos(half)]))
