"""Pinhole camera of one video: intrinsics, the look-at pose of METHOD section 2, projection.

Conventions:

* World frame: z up, table at z = 0, metres (METHOD section 1).
* The camera of a video stands at :func:`real2sim_core.frames.camera_position`
  ``(d cos(el) sin(az), -d cos(el) cos(az), d sin(el))`` and looks at the origin with +z up.
* Camera axes are OpenCV's (as :func:`real2sim_core.frames.look_at_matrix`): +x image right,
  +y image down, +z forward.
* Pixel coordinates ``(u, v)`` are continuous; pixel (row i, column j) covers
  ``[j, j+1) x [i, i+1)``, so its centre is ``(j + 0.5, i + 0.5)``. The principal point is the
  image centre ``(W / 2, H / 2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Intrinsics", "camera_rotation_torch", "camera_center_torch", "project"]


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of an image of ``height x width`` pixels.

    Attributes:
        focal: focal length, px (square pixels).
        cx: principal point column, px.
        cy: principal point row, px.
        height: image rows, px.
        width: image columns, px.
    """

    focal: float
    cx: float
    cy: float
    height: int
    width: int

    @classmethod
    def from_fov(cls, fov_y_deg: float, height: int, width: int) -> Intrinsics:
        """Intrinsics with vertical field of view ``fov_y_deg`` and a centred principal point.

        ``focal = (height / 2) / tan(fov_y / 2)``; e.g. 207.8 px for 60 deg at 240 px.
        """
        f = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2.0)
        return cls(f, width / 2.0, height / 2.0, int(height), int(width))

    def scaled(self, height: int) -> Intrinsics:
        """The same camera for an image resampled to ``height`` rows (aspect kept)."""
        s = height / self.height
        width = max(1, int(round(self.width * s)))
        return Intrinsics(self.focal * s, self.cx * s, self.cy * s, int(height), width)

    def matrix(self):
        """The 3x3 calibration matrix ``K`` as nested lists."""
        return [[self.focal, 0.0, self.cx], [0.0, self.focal, self.cy], [0.0, 0.0, 1.0]]


def camera_rotation_torch(azimuth, elevation):
    """World-to-camera rotation of the METHOD camera, differentiable: ``(...,)`` ->
    ``(..., 3, 3)``.

    Rows are the camera axes in world coordinates (right, down, forward), the same matrix as
    ``frames.look_at_matrix(frames.camera_position(d, az, el))`` for any distance ``d`` and
    elevation in (-90, 90) deg. Closed form: forward ``f = -(cos el sin az, -cos el cos az,
    sin el)``, right ``r = f x z / |f x z| = (cos az, sin az, 0)``, down ``f x r``.
    """
    az = torch.as_tensor(azimuth)
    el = torch.as_tensor(elevation)
    ca, sa, ce, se = torch.cos(az), torch.sin(az), torch.cos(el), torch.sin(el)
    zero = torch.zeros_like(ca)
    right = torch.stack([ca, sa, zero], -1)
    down = torch.stack([se * sa, -se * ca, -ce], -1)
    fwd = torch.stack([-ce * sa, ce * ca, -se], -1)
    return torch.stack([right, down, fwd], -2)


def camera_center_torch(distance, azimuth, elevation):
    """Camera centre ``(..., 3)`` m, differentiable (``frames.camera_position`` in torch)."""
    d = torch.as_tensor(distance)
    az = torch.as_tensor(azimuth)
    el = torch.as_tensor(elevation)
    return torch.stack(
        [d * torch.cos(el) * torch.sin(az), -d * torch.cos(el) * torch.cos(az),
         d * torch.sin(el)], -1)


def project(points, rotation, center, intr: Intrinsics, near: float = 1e-3):
    """Perspective projection of world points to pixel coordinates.

    Args:
        points: ``(..., 3)`` world points, m.
        rotation: ``(3, 3)`` world-to-camera rotation (rows right, down, forward).
        center: ``(3,)`` camera centre in the world, m.
        intr: intrinsics of the target image.
        near: depths are clamped below at ``near`` m (points behind the camera would flip).

    Returns:
        ``(uv, depth)``: ``(..., 2)`` pixel coordinates and ``(...)`` depths, m.
    """
    pc = (points - center) @ rotation.transpose(-1, -2)
    z = pc[..., 2].clamp(min=near)
    u = intr.focal * pc[..., 0] / z + intr.cx
    v = intr.focal * pc[..., 1] / z + intr.cy
    return torch.stack([u, v], -1), z
