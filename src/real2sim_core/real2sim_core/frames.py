"""Rotations and frames: the one place where the stack converts between representations.

Conventions (all angles in radians, lengths in metres):

* Rotation vectors are ``axis * angle`` arrays of shape ``(..., 3)``.
* Quaternions are **x, y, z, w** (ROS order) unless a function name says ``wxyz``.
* Hand direction: azimuth is measured in the x-y plane from +x (0 = pointing along +x,
  pi/2 = along +y); elevation is the angle *below* the horizontal plane (positive = pointing
  down). :func:`hand_direction` turns the pair into a unit vector from the wrist to the fingertip.
* Camera of one video: distance ``d``, azimuth ``az``, elevation ``el``; its position is
  ``(d cos(el) sin(az), -d cos(el) cos(az), d sin(el))`` and it looks at the origin.
* The aligned frame (METHOD section 4): z up, table at z = 0, camera on the -y side looking at +y,
  image right is +x.

Functions accept numpy arrays; the ``*_torch`` variants are differentiable and accept torch
tensors (torch is imported lazily so that this module stays light).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    "quat_multiply",
    "quat_conjugate",
    "rotvec_to_matrix",
    "matrix_to_rotvec",
    "rotvec_to_quat",
    "quat_to_rotvec",
    "quat_xyzw_to_wxyz",
    "quat_wxyz_to_xyzw",
    "rot_z",
    "yaw_quat",
    "euler_xyz_to_quat",
    "quat_to_euler_xyz",
    "quat_angle",
    "hand_direction",
    "hand_angles_from_direction",
    "gripper_quat_from_hand_angles",
    "hand_angles_from_gripper_quat",
    "camera_position",
    "look_at_matrix",
    "wrap_angle",
    "angle_difference",
    "rotvec_to_matrix_torch",
    "hand_direction_torch",
    "Pose2D",
    "compose_planar",
    "relative_planar",
    "quat_to_matrix",
    "matrix_to_quat",
    "mirror_x",
    "mirror_x_rotvec",
    "mirror_x_hand_azimuth",
    "mirror_x_camera_azimuth",
]


def _as3(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.shape[-1] != 3:
        raise ValueError(f"expected a trailing dimension of 3, got shape {a.shape}")
    return a


def rotvec_to_matrix(rotvec) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` -> rotation matrices ``(..., 3, 3)``."""
    r = _as3(rotvec)
    return Rotation.from_rotvec(r.reshape(-1, 3)).as_matrix().reshape(r.shape[:-1] + (3, 3))


def matrix_to_rotvec(matrix) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` -> rotation vectors ``(..., 3)``."""
    m = np.asarray(matrix, dtype=float)
    return Rotation.from_matrix(m.reshape(-1, 3, 3)).as_rotvec().reshape(m.shape[:-2] + (3,))


def rotvec_to_quat(rotvec) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` -> quaternions ``(..., 4)`` in x, y, z, w order."""
    r = _as3(rotvec)
    return Rotation.from_rotvec(r.reshape(-1, 3)).as_quat().reshape(r.shape[:-1] + (4,))


def quat_to_rotvec(quat) -> np.ndarray:
    """Quaternions ``(..., 4)`` (x, y, z, w) -> rotation vectors ``(..., 3)``."""
    q = np.asarray(quat, dtype=float)
    return Rotation.from_quat(q.reshape(-1, 4)).as_rotvec().reshape(q.shape[:-1] + (3,))


def quat_xyzw_to_wxyz(q) -> np.ndarray:
    """Reorder quaternions from ROS (x, y, z, w) to w-first (transforms3d, pybullet-free code)."""
    q = np.asarray(q, dtype=float)
    return np.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def quat_wxyz_to_xyzw(q) -> np.ndarray:
    """Reorder quaternions from w-first to ROS (x, y, z, w)."""
    q = np.asarray(q, dtype=float)
    return np.concatenate([q[..., 1:4], q[..., 0:1]], axis=-1)


def rot_z(angle) -> np.ndarray:
    """Rotation matrix about +z by ``angle`` (rad); array input gives ``(..., 3, 3)``."""
    a = np.asarray(angle, dtype=float)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(a.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 1] = c, -s
    out[..., 1, 0], out[..., 1, 1] = s, c
    out[..., 2, 2] = 1.0
    return out


def yaw_quat(yaw: float) -> np.ndarray:
    """Quaternion (x, y, z, w) of a rotation about +z by ``yaw`` rad."""
    return np.array([0.0, 0.0, np.sin(yaw / 2.0), np.cos(yaw / 2.0)])


def euler_xyz_to_quat(euler) -> np.ndarray:
    """Extrinsic x-y-z Euler angles ``(..., 3)`` (pybullet's convention) -> quaternion x,y,z,w."""
    e = _as3(euler)
    return Rotation.from_euler("xyz", e.reshape(-1, 3)).as_quat().reshape(e.shape[:-1] + (4,))


def quat_to_euler_xyz(quat) -> np.ndarray:
    """Quaternion (x, y, z, w) -> extrinsic x-y-z Euler angles (pybullet's convention)."""
    q = np.asarray(quat, dtype=float)
    return Rotation.from_quat(q.reshape(-1, 4)).as_euler("xyz").reshape(q.shape[:-1] + (3,))


def quat_multiply(q1, q2) -> np.ndarray:
    """Hamilton product ``q1 * q2`` of (x, y, z, w) quaternions (rotate by q2, then by q1)."""
    x1, y1, z1, w1 = np.moveaxis(np.asarray(q1, dtype=float), -1, 0)
    x2, y2, z2, w2 = np.moveaxis(np.asarray(q2, dtype=float), -1, 0)
    return np.stack([
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    ], axis=-1)


def quat_conjugate(q) -> np.ndarray:
    """Inverse rotation of a unit (x, y, z, w) quaternion."""
    q = np.array(q, dtype=float)
    q[..., :3] *= -1.0
    return q


def quat_angle(q1, q2) -> np.ndarray:
    """Angle (rad, in [0, pi]) of the rotation between quaternions (x, y, z, w), batched."""
    q1 = np.asarray(q1, dtype=float)
    q2 = np.asarray(q2, dtype=float)
    q1 = q1 / np.linalg.norm(q1, axis=-1, keepdims=True)
    q2 = q2 / np.linalg.norm(q2, axis=-1, keepdims=True)
    d = np.clip(np.abs(np.sum(q1 * q2, axis=-1)), 0.0, 1.0)
    return 2.0 * np.arccos(d)


def wrap_angle(a):
    """Wrap angles to [-pi, pi)."""
    return (np.asarray(a, dtype=float) + np.pi) % (2.0 * np.pi) - np.pi


def angle_difference(a, b):
    """Smallest signed difference ``a - b`` of two angles, in [-pi, pi)."""
    return wrap_angle(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def hand_direction(azimuth, elevation) -> np.ndarray:
    """Unit vector from wrist to fingertip for hand azimuth/elevation (rad), shape ``(..., 3)``.

    Elevation is positive when the fingertip points down, so the z component is ``-sin(el)``.
    """
    az = np.asarray(azimuth, dtype=float)
    el = np.asarray(elevation, dtype=float)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), -np.sin(el)], axis=-1)


def hand_angles_from_direction(direction) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`hand_direction`: direction ``(..., 3)`` -> (azimuth, elevation) rad."""
    d = _as3(direction)
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    az = np.arctan2(d[..., 1], d[..., 0])
    el = np.arcsin(np.clip(-d[..., 2], -1.0, 1.0))
    return az, el


def gripper_quat_from_hand_angles(azimuth, elevation, roll=0.0) -> np.ndarray:
    """Gripper orientation (x, y, z, w) whose +z axis points along the hand direction.

    The gripper frame: +z from wrist to fingertips (the hand direction of the state model),
    +y the axis along which the fingers open. With ``roll = 0`` the opening axis is horizontal
    (perpendicular to the hand direction in the x-y plane: the fingers straddle an object in
    front of them). ``roll`` (rad) turns the fingers about +z.
    """
    az = np.asarray(azimuth, dtype=float)
    el = np.asarray(elevation, dtype=float)
    z = hand_direction(az, el)
    y = np.stack([-np.sin(az), np.cos(az), np.zeros_like(az)], axis=-1)
    x = np.cross(y, z)
    m = np.stack([x, y, z], axis=-1)  # columns are the gripper axes in the world
    rot = Rotation.from_matrix(m.reshape(-1, 3, 3))
    r = np.broadcast_to(np.asarray(roll, dtype=float), az.shape).reshape(-1)
    rot = rot * Rotation.from_rotvec(np.stack([0 * r, 0 * r, r], axis=-1))
    return rot.as_quat().reshape(az.shape + (4,))


def hand_angles_from_gripper_quat(quat) -> tuple[np.ndarray, np.ndarray]:
    """Hand (azimuth, elevation) rad from a gripper orientation: the direction of its +z axis."""
    q = np.asarray(quat, dtype=float)
    m = Rotation.from_quat(q.reshape(-1, 4)).as_matrix()
    az, el = hand_angles_from_direction(m[:, :, 2])
    return az.reshape(q.shape[:-1]), el.reshape(q.shape[:-1])


# -- the mirror x -> -x (a horizontally flipped video: image right is +x) ------------------------


def mirror_x(positions) -> np.ndarray:
    """Points ``(..., 3)`` reflected in the plane x = 0."""
    return _as3(positions) * np.array([-1.0, 1.0, 1.0])


def mirror_x_rotvec(rotvec) -> np.ndarray:
    """The rotation ``M R M`` (M = diag(-1, 1, 1)) of a body reflected in the plane x = 0, as a
    rotation vector: ``(r_x, -r_y, -r_z)`` (a rotation vector is an axial vector; a body
    symmetric under M, such as a cuboid or cylinder about its centre, keeps its sizes)."""
    return _as3(rotvec) * np.array([1.0, -1.0, -1.0])


def mirror_x_hand_azimuth(azimuth):
    """Hand azimuth after the reflection in x = 0: ``pi - azimuth`` (elevation unchanged;
    continuous where ``azimuth`` is)."""
    return np.pi - np.asarray(azimuth, dtype=float)


def mirror_x_camera_azimuth(azimuth):
    """Camera azimuth (:func:`camera_position`) after the reflection in x = 0: ``-azimuth``."""
    return -np.asarray(azimuth, dtype=float)


def camera_position(distance, azimuth, elevation) -> np.ndarray:
    """Camera centre ``(..., 3)`` for distance (m), azimuth and elevation (rad)."""
    d = np.asarray(distance, dtype=float)
    az = np.asarray(azimuth, dtype=float)
    el = np.asarray(elevation, dtype=float)
    return np.stack(
        [d * np.cos(el) * np.sin(az), -d * np.cos(el) * np.cos(az), d * np.sin(el)], axis=-1
    )


def look_at_matrix(eye, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World-to-camera rotation ``(3, 3)`` for a camera at ``eye`` looking at ``target``.

    Camera axes (OpenCV): +x right, +y down in the image, +z forward (viewing direction).
    """
    eye = np.asarray(eye, dtype=float)
    f = np.asarray(target, dtype=float) - eye
    f = f / np.linalg.norm(f)
    r = np.cross(f, np.asarray(up, dtype=float))
    if np.linalg.norm(r) < 1e-9:  # looking straight down/up: pick +x as image right
        r = np.array([1.0, 0.0, 0.0])
    r = r / np.linalg.norm(r)
    d = np.cross(f, r)
    return np.stack([r, d, f], axis=0)


class Pose2D(tuple):
    """A planar pose ``(x, y, yaw)`` in metres and radians, e.g. an object on the table."""

    __slots__ = ()

    def __new__(cls, x: float, y: float, yaw: float):
        return super().__new__(cls, (float(x), float(y), float(yaw)))

    @property
    def x(self) -> float:
        return self[0]

    @property
    def y(self) -> float:
        return self[1]

    @property
    def yaw(self) -> float:
        return self[2]

    def matrix(self) -> np.ndarray:
        """Homogeneous transform ``(4, 4)`` of this pose (rotation about z, then translation)."""
        t = np.eye(4)
        t[:3, :3] = rot_z(self.yaw)
        t[0, 3], t[1, 3] = self.x, self.y
        return t


def compose_planar(pose: Pose2D, positions, quats_xyzw=None):
    """Express points/orientations given in a local frame in the parent frame of ``pose``.

    Args:
        pose: the local frame's planar pose in the parent frame.
        positions: ``(N, 3)`` points in the local frame, metres.
        quats_xyzw: optional ``(N, 4)`` orientations in the local frame.

    Returns:
        ``(positions, quats)`` in the parent frame (``quats`` is None when not given).
    """
    p = _as3(positions)
    rz = rot_z(pose.yaw)
    out_p = p @ rz.T + np.array([pose.x, pose.y, 0.0])
    if quats_xyzw is None:
        return out_p, None
    q = Rotation.from_quat(np.asarray(quats_xyzw, dtype=float).reshape(-1, 4))
    out_q = (Rotation.from_matrix(rz) * q).as_quat().reshape(np.shape(quats_xyzw))
    return out_p, out_q


def relative_planar(pose: Pose2D, positions, quats_xyzw=None):
    """Inverse of :func:`compose_planar`: parent-frame points/orientations in the local frame.

    Args:
        pose: the local frame's planar pose in the parent frame.
        positions: ``(N, 3)`` points in the parent frame, metres.
        quats_xyzw: optional ``(N, 4)`` orientations in the parent frame.

    Returns:
        ``(positions, quats)`` in the local frame of ``pose`` (``quats`` is None when not given).
    """
    p = _as3(positions)
    rz = rot_z(pose.yaw)
    out_p = (p - np.array([pose.x, pose.y, 0.0])) @ rz
    if quats_xyzw is None:
        return out_p, None
    q = Rotation.from_quat(np.asarray(quats_xyzw, dtype=float).reshape(-1, 4))
    out_q = (Rotation.from_matrix(rz).inv() * q).as_quat().reshape(np.shape(quats_xyzw))
    return out_p, out_q


def quat_to_matrix(quat) -> np.ndarray:
    """Quaternions ``(..., 4)`` (x, y, z, w) -> rotation matrices ``(..., 3, 3)``."""
    q = np.asarray(quat, dtype=float)
    return Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(matrix) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` -> quaternions ``(..., 4)`` (x, y, z, w)."""
    m = np.asarray(matrix, dtype=float)
    return Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat().reshape(m.shape[:-2] + (4,))


# --- differentiable variants ----------------------------------------------------------------


def rotvec_to_matrix_torch(rotvec):
    """Differentiable Rodrigues formula: tensor ``(..., 3)`` -> ``(..., 3, 3)``.

    Uses a Taylor expansion near zero so gradients stay finite for tiny rotations.
    """
    import torch

    theta2 = (rotvec * rotvec).sum(-1, keepdim=True).unsqueeze(-1)  # (..., 1, 1)
    small = theta2 < 1e-8
    theta2_safe = torch.where(small, torch.ones_like(theta2), theta2)
    theta = torch.sqrt(theta2_safe)
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2_safe)
    x, y, z = rotvec[..., 0], rotvec[..., 1], rotvec[..., 2]
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(
        rotvec.shape[:-1] + (3, 3)
    )
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand_as(k)
    return eye + a * k + b * (k @ k)


def hand_direction_torch(azimuth, elevation):
    """Differentiable :func:`hand_direction` for tensors; returns ``(..., 3)``."""
    import torch

    ce = torch.cos(elevation)
    return torch.stack(
        [ce * torch.cos(azimuth), ce * torch.sin(azimuth), -torch.sin(elevation)], dim=-1
    )
