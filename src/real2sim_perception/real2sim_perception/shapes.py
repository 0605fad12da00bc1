"""The convex bodies of the state model as vertex sets (and triangle meshes).

* Hand: a cylinder of radius ``r`` and length ``L`` whose one cap centre is the fingertip;
  its axis points from the wrist to the fingertip along
  :func:`real2sim_core.frames.hand_direction_torch` (azimuth from +x, elevation below the
  horizontal). ``2 n`` vertices (two rings of ``n``).
* Object: a cuboid with edge lengths ``size`` centred at its position, rotated by its
  rotation vector (:func:`real2sim_core.frames.rotvec_to_matrix_torch`). 8 vertices.

Vertices are in the world frame, metres; all functions are differentiable and batched over
leading dimensions.
"""

from __future__ import annotations

import math

import torch
from real2sim_core.frames import hand_direction_torch, rotvec_to_matrix_torch

__all__ = [
    "hand_vertices",
    "cuboid_vertices",
    "cylinder_faces",
    "cuboid_faces",
    "CUBOID_CORNERS",
]

CUBOID_CORNERS = torch.tensor(
    [[sx, sy, sz] for sx in (-0.5, 0.5) for sy in (-0.5, 0.5) for sz in (-0.5, 0.5)],
    dtype=torch.float64,
)
"""``(8, 3)`` corners of the unit cube centred at the origin; index = 4 ix + 2 iy + iz."""


def hand_vertices(fingertip, azimuth, elevation, radius: float, length: float,
                  segments: int = 16):
    """Vertices of the hand cylinder.

    Args:
        fingertip: ``(..., 3)`` fingertip position, m.
        azimuth: ``(...)`` hand azimuth, rad.
        elevation: ``(...)`` hand elevation (positive = pointing down), rad.
        radius: cylinder radius, m.
        length: cylinder length, m.
        segments: vertices per ring.

    Returns:
        ``(..., 2 * segments, 3)``: the fingertip ring first, then the wrist ring.
    """
    d = hand_direction_torch(azimuth, elevation)  # wrist -> fingertip
    # an orthonormal basis of the plane perpendicular to the axis
    e1 = torch.stack([-torch.sin(azimuth), torch.cos(azimuth), torch.zeros_like(azimuth)], -1)
    e2 = torch.cross(d, e1, dim=-1)
    ang = torch.arange(segments, dtype=fingertip.dtype) * (2.0 * math.pi / segments)
    c, s = torch.cos(ang), torch.sin(ang)  # (n,)
    ring = radius * (c[:, None] * e1[..., None, :] + s[:, None] * e2[..., None, :])
    tip = fingertip[..., None, :] + ring
    wrist = tip - length * d[..., None, :]
    return torch.cat([tip, wrist], dim=-2)


def cuboid_vertices(center, size, rotvec):
    """Vertices ``(..., 8, 3)`` of cuboids with centres ``(..., 3)``, edge lengths ``(..., 3)``
    and rotation vectors ``(..., 3)`` (all m / rad)."""
    rot = rotvec_to_matrix_torch(rotvec)  # (..., 3, 3)
    local = CUBOID_CORNERS.to(center.dtype) * size[..., None, :]  # (..., 8, 3)
    return local @ rot.transpose(-1, -2) + center[..., None, :]


def cylinder_faces(segments: int = 16) -> torch.Tensor:
    """Triangles ``(F, 3)`` of the closed cylinder of :func:`hand_vertices`, outward-facing
    (counter-clockwise seen from outside)."""
    n = segments
    faces = []
    for i in range(n):
        j = (i + 1) % n
        # ring 0 = fingertip cap (at +axis end), ring 1 = wrist; side quads
        faces.append((i, n + i, n + j))
        faces.append((i, n + j, j))
    for i in range(1, n - 1):  # fan triangulation of both caps
        faces.append((0, i, i + 1))
        faces.append((n, n + i + 1, n + i))
    f = torch.tensor(faces, dtype=torch.long)
    return _orient_outward(f, segments)


def _orient_outward(faces: torch.Tensor, segments: int) -> torch.Tensor:
    """Flip triangles whose normal points towards the centroid (a canonical cylinder)."""
    v = hand_vertices(torch.zeros(3, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64),
                      torch.tensor(0.2, dtype=torch.float64), 1.0, 2.0, segments)
    c = v.mean(0)
    a, b, d = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    normal = torch.cross(b - a, d - a, dim=-1)
    out = ((a + b + d) / 3.0 - c)
    flip = (normal * out).sum(-1) < 0
    faces = faces.clone()
    faces[flip] = faces[flip][:, [0, 2, 1]]
    return faces


def cuboid_faces() -> torch.Tensor:
    """Triangles ``(12, 3)`` of the cuboid of :func:`cuboid_vertices`, outward-facing."""
    quads = [
        (0, 1, 3, 2), (4, 6, 7, 5),  # x = -0.5, x = +0.5
        (0, 4, 5, 1), (2, 3, 7, 6),  # y = -0.5, y = +0.5
        (0, 2, 6, 4), (1, 5, 7, 3),  # z = -0.5, z = +0.5
    ]
    tris = []
    for a, b, c, d in quads:
        tris += [(a, b, c), (a, c, d)]
    faces = torch.tensor(tris, dtype=torch.long)
    v = CUBOID_CORNERS
    a, b, d = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    normal = torch.cross(b - a, d - a, dim=-1)
    flip = (normal * ((a + b + d) / 3.0)).sum(-1) < 0
    faces[flip] = faces[flip][:, [0, 2, 1]]
    return faces
