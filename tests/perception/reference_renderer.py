"""A slow, obviously-correct dense silhouette renderer: the yardstick of the fast one.

For every frame it loops over the mesh's triangles and edges, per pixel:

1. project the vertices (pinhole, :func:`real2sim_perception.camera.project`);
2. coverage: a pixel is inside the silhouette when it is inside any projected triangle;
3. contour edges: the mesh edges whose two adjacent triangles face opposite ways in the
   image (one front-, one back-facing) - for a closed convex mesh these form the silhouette
   boundary;
4. signed distance: the maximum over contour edges of the distance to the edge's line,
   measured along the normal pointing away from the adjacent triangles (negative inside);
5. soft silhouette ``sigmoid(-sd / sigma)``.

Everything is plain torch with autograd, so gradients come from the same dense formula.
"""

from __future__ import annotations

import torch
from real2sim_perception.camera import project


def _edge_faces(faces: torch.Tensor) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Undirected edge -> list of (face index, opposite vertex)."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for f, (a, b, c) in enumerate(faces.tolist()):
        for u, v, w in ((a, b, c), (b, c, a), (c, a, b)):
            out.setdefault((min(u, v), max(u, v)), []).append((f, w))
    return out


def _cross(o, a, b):
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0])


def reference_render(verts, faces, rotation, center, intr, sigma, near=1e-3,
                     return_coverage=False):
    """Dense soft silhouettes ``(B, H, W)``; optionally also the hard coverage ``(B, H, W)``."""
    edges = _edge_faces(faces)
    uv, _ = project(verts, rotation, center, intr, near)
    v, u = torch.meshgrid(torch.arange(intr.height, dtype=uv.dtype) + 0.5,
                          torch.arange(intr.width, dtype=uv.dtype) + 0.5, indexing="ij")
    pix = torch.stack([u, v], -1)  # (H, W, 2)
    sils, covs = [], []
    for b in range(uv.shape[0]):
        p = uv[b]
        # 2. coverage by any triangle
        cov = torch.zeros(intr.height, intr.width, dtype=torch.bool)
        area = []
        for a, bb, c in faces.tolist():
            pa, pb, pc = p[a], p[bb], p[c]
            s = _cross(pa, pb, pc)
            area.append(float(s.detach()))
            d1, d2, d3 = _cross(pa, pb, pix), _cross(pb, pc, pix), _cross(pc, pa, pix)
            if s > 0:
                cov |= (d1 >= 0) & (d2 >= 0) & (d3 >= 0)
            elif s < 0:
                cov |= (d1 <= 0) & (d2 <= 0) & (d3 <= 0)
        # 3./4. contour edges and the signed distance
        best = torch.full((intr.height, intr.width), -float("inf"), dtype=uv.dtype)
        for (i, j), adj in edges.items():
            if len(adj) != 2:
                continue
            (f1, w1), (f2, w2) = adj
            if area[f1] * area[f2] >= 0:
                continue  # both front- or both back-facing: an interior edge
            e = p[j] - p[i]
            n = torch.stack([e[1], -e[0]]) / e.norm()
            w = w1 if abs(area[f1]) >= abs(area[f2]) else w2
            if torch.dot(n, p[w] - p[i]) > 0:  # point away from the adjacent triangle
                n = -n
            dist = (pix - p[i]) @ n
            best = torch.maximum(best, dist)
        sils.append(torch.sigmoid(-best / sigma))
        covs.append(cov)
    sil = torch.stack(sils)
    return (sil, torch.stack(covs)) if return_coverage else sil
