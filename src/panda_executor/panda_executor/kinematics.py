"""Forward kinematics and the geometric Jacobian of the Panda, read from its URDF.

The serial chain ``panda_link0 -> panda_joint1..7 -> panda_link8 -> panda_hand`` is parsed from
pybullet_data's ``franka_panda/panda.urdf`` with :mod:`xml.etree`; a fixed tool offset (the TCP,
:data:`panda_executor.panda.TCP_OFFSET_FROM_HAND` along the hand's z) is appended. Everything is
plain numpy; rotations come from :mod:`real2sim_core.frames`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
from real2sim_core.errors import InputError

from real2sim_core import frames

from . import panda

__all__ = ["UrdfJoint", "PandaKinematics", "parse_chain"]


@dataclass(frozen=True)
class UrdfJoint:
    """One URDF joint of the chain.

    Attributes:
        name: joint name.
        type: ``"revolute"``, ``"prismatic"`` or ``"fixed"``.
        origin: ``(4, 4)`` transform parent link -> joint frame at zero position.
        axis: ``(3,)`` unit axis in the joint frame.
        lower, upper: URDF position limits (rad), 0 for fixed joints.
        child: the child link name.
    """

    name: str
    type: str
    origin: np.ndarray
    axis: np.ndarray
    lower: float
    upper: float
    child: str


def _origin(elem) -> np.ndarray:
    t = np.eye(4)
    if elem is None:
        return t
    xyz = [float(v) for v in elem.get("xyz", "0 0 0").split()]
    rpy = [float(v) for v in elem.get("rpy", "0 0 0").split()]
    # URDF rpy = fixed-axis roll about x, pitch about y, yaw about z (extrinsic x-y-z)
    t[:3, :3] = frames.quat_to_matrix(frames.euler_xyz_to_quat(rpy))
    t[:3, 3] = xyz
    return t


def parse_chain(urdf_file: str, base: str = panda.BASE_LINK,
                tip: str = panda.HAND_LINK) -> list[UrdfJoint]:
    """The joints from link ``base`` to link ``tip`` of a URDF, in order.

    Raises:
        ValueError: when no chain connects ``base`` to ``tip``.
    """
    root = ET.parse(urdf_file).getroot()
    by_child = {}
    for j in root.findall("joint"):
        axis = j.find("axis")
        limit = j.find("limit")
        uj = UrdfJoint(
            name=j.get("name"),
            type=j.get("type"),
            origin=_origin(j.find("origin")),
            axis=np.array([float(v) for v in (axis.get("xyz") if axis is not None
                                              else "1 0 0").split()]),
            lower=float(limit.get("lower", 0.0)) if limit is not None else 0.0,
            upper=float(limit.get("upper", 0.0)) if limit is not None else 0.0,
            child=j.find("child").get("link"),
        )
        by_child[uj.child] = (j.find("parent").get("link"), uj)
    chain = []
    link = tip
    while link != base:
        if link not in by_child:
            raise InputError(f"{urdf_file}: no joint chain from {base!r} to {tip!r}")
        link, uj = by_child[link]
        chain.append(uj)
    return chain[::-1]


class PandaKinematics:
    """FK and Jacobian of the Panda arm's TCP (or any fixed tool frame on ``panda_hand``).

    Args:
        urdf_file: the URDF; default pybullet_data's ``franka_panda/panda.urdf``.
        tool_offset: ``(4, 4)`` transform ``panda_hand -> tool``; default the TCP
            (:data:`panda.TCP_OFFSET_FROM_HAND` along z).

    All poses are in ``panda_link0``; joint vectors ``q`` are ``(7,)`` in rad.
    """

    def __init__(self, urdf_file: str | None = None, tool_offset: np.ndarray | None = None):
        self.urdf_file = urdf_file or panda.urdf_path()
        chain = parse_chain(self.urdf_file)
        moving = [j for j in chain if j.type != "fixed"]
        if [j.name for j in moving] != list(panda.ARM_JOINT_NAMES):
            raise InputError(
                f"{self.urdf_file}: expected movable joints {panda.ARM_JOINT_NAMES}, got "
                f"{[j.name for j in moving]}"
            )
        for j in moving:
            if not np.allclose(j.axis, [0, 0, 1]):
                raise InputError(f"{j.name}: only z-axis revolute joints are supported")
        if tool_offset is None:
            tool_offset = np.eye(4)
            tool_offset[2, 3] = panda.TCP_OFFSET_FROM_HAND
        # fold the fixed joints into the next movable joint's origin (or into the tool)
        self._origins = []  # (7, 4, 4): frame of joint i (at q_i = 0) relative to joint i-1
        acc = np.eye(4)
        for j in chain:
            acc = acc @ j.origin
            if j.type != "fixed":
                self._origins.append(acc)
                acc = np.eye(4)
        self._tool = acc @ np.asarray(tool_offset, dtype=float)
        self._origins = np.array(self._origins)
        self._R = self._origins[:, :3, :3].copy()
        self._t = self._origins[:, :3, 3].copy()
        self.urdf_lower = np.array([j.lower for j in moving])
        self.urdf_upper = np.array([j.upper for j in moving])

    @property
    def tool_offset_from_flange(self) -> np.ndarray:
        """``(4, 4)`` transform from joint 7's frame to the tool frame."""
        return self._tool.copy()

    def joint_frames(self, q) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Joint axes and origins plus the tool pose.

        Args:
            q: ``(7,)`` joint positions, rad.

        Returns:
            ``(z, o, R_tool, p_tool)``: joint axes ``(7, 3)`` and origins ``(7, 3)`` in
            ``panda_link0``; tool rotation ``(3, 3)`` and position ``(3,)`` in ``panda_link0``.
        """
        q = np.asarray(q, dtype=float)
        rz = frames.rot_z(q)  # (7, 3, 3)
        R = np.eye(3)
        p = np.zeros(3)
        z = np.empty((7, 3))
        o = np.empty((7, 3))
        for i in range(7):
            p = p + R @ self._t[i]
            R = R @ self._R[i]
            z[i] = R[:, 2]
            o[i] = p
            R = R @ rz[i]
        p_tool = p + R @ self._tool[:3, 3]
        R_tool = R @ self._tool[:3, :3]
        return z, o, R_tool, p_tool

    def fk(self, q) -> np.ndarray:
        """Tool pose ``(4, 4)`` in ``panda_link0`` for joints ``q`` ``(7,)`` rad."""
        _, _, R, p = self.joint_frames(q)
        t = np.eye(4)
        t[:3, :3] = R
        t[:3, 3] = p
        return t

    def fk_batch(self, qs) -> tuple[np.ndarray, np.ndarray]:
        """Tool positions ``(N, 3)`` and rotations ``(N, 3, 3)`` for ``qs`` ``(N, 7)``."""
        qs = np.atleast_2d(np.asarray(qs, dtype=float))
        n = len(qs)
        rz = frames.rot_z(qs)  # (N, 7, 3, 3)
        R = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
        p = np.zeros((n, 3))
        for i in range(7):
            p = p + R @ self._t[i]
            R = R @ self._R[i] @ rz[:, i]
        p = p + R @ self._tool[:3, 3]
        R = R @ self._tool[:3, :3]
        return p, R

    def jacobian(self, q) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Geometric Jacobian of the tool.

        Args:
            q: ``(7,)`` joint positions, rad.

        Returns:
            ``(J, R_tool, p_tool)``: ``J`` ``(6, 7)`` maps joint velocities (rad/s) to the tool's
            linear (m/s, rows 0-2) and angular (rad/s, rows 3-5) velocity in ``panda_link0``.
        """
        z, o, R, p = self.joint_frames(q)
        J = np.empty((6, 7))
        J[:3] = np.cross(z, p - o).T
        J[3:] = z.T
        return J, R, p
