"""The fast convex silhouette renderer against the dense reference (values and gradients)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch
from real2sim_core.errors import UnknownNameError
from real2sim_perception.camera import (
    Intrinsics,
    camera_center_torch,
    camera_rotation_torch,
    project,
)
from real2sim_perception.errors import RendererUnavailableError
from real2sim_perception.render import (
    ConvexSilhouetteRenderer,
    available_renderers,
    get_renderer,
    renderer_names,
)
from real2sim_perception.shapes import (
    cuboid_faces,
    cuboid_vertices,
    cylinder_faces,
    hand_vertices,
)

from real2sim_core import frames

from .reference_renderer import reference_render

D = torch.float64


def _camera(az=0.3, el=0.5, dist=1.0):
    az, el = torch.tensor(az, dtype=D), torch.tensor(el, dtype=D)
    return camera_rotation_torch(az, el), camera_center_torch(torch.tensor(dist, dtype=D), az, el)


def _bodies(seed=0, n=3):
    """A few random cuboids and hand cylinders near the origin (state-model parameters)."""
    g = torch.Generator().manual_seed(seed)
    pos = (torch.rand(n, 3, generator=g, dtype=D) - 0.5) * 0.2
    size = 0.05 + 0.1 * torch.rand(n, 3, generator=g, dtype=D)
    rot = (torch.rand(n, 3, generator=g, dtype=D) - 0.5) * 2.0
    tip = (torch.rand(n, 3, generator=g, dtype=D) - 0.5) * 0.2
    azi = (torch.rand(n, generator=g, dtype=D) - 0.5) * 6.0
    ele = (torch.rand(n, generator=g, dtype=D) - 0.5) * 2.0
    return pos, size, rot, tip, azi, ele


def test_camera_rotation_matches_core_look_at():
    for az, el in [(0.0, 0.3), (0.7, 1.1), (-0.6, 0.05), (2.5, -0.4)]:
        r = camera_rotation_torch(torch.tensor(az, dtype=D), torch.tensor(el, dtype=D))
        ref = frames.look_at_matrix(frames.camera_position(2.0, az, el))
        np.testing.assert_allclose(r.numpy(), ref, atol=1e-12)
        c = camera_center_torch(torch.tensor(2.0, dtype=D), torch.tensor(az, dtype=D),
                                torch.tensor(el, dtype=D))
        np.testing.assert_allclose(c.numpy(), frames.camera_position(2.0, az, el), atol=1e-12)


def test_projection_conventions():
    intr = Intrinsics.from_fov(60.0, 240, 427)
    assert intr.focal == pytest.approx(120.0 / math.tan(math.radians(30.0)))
    r, c = _camera(0.0, 0.4, 1.5)
    uv, z = project(torch.zeros(1, 3, dtype=D), r, c, intr)
    np.testing.assert_allclose(uv.numpy(), [[427 / 2, 120.0]], atol=1e-9)
    assert z.item() == pytest.approx(1.5)
    # +x of the world is image right for a camera at azimuth 0; +z is image up
    uv2, _ = project(torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.0, 0.1]], dtype=D), r, c, intr)
    assert uv2[0, 0] > 427 / 2 and uv2[1, 1] < 120.0


def _check_against_reference(verts, faces, sigma=1.5, h=24, w=40):
    intr = Intrinsics.from_fov(60.0, 120, 200).scaled(h)
    assert intr.width == w
    r, c = _camera()
    fast = ConvexSilhouetteRenderer().render(verts, faces, r, c, intr, sigma)
    ref, cov = reference_render(verts, faces, r, c, intr, sigma, return_coverage=True)
    np.testing.assert_allclose(fast.detach().numpy(), ref.detach().numpy(), atol=1e-9)
    # the signed distance's sign agrees with the triangle coverage of the dense rasteriser
    inside = ref > 0.5
    assert (inside == cov).float().mean() > 0.995
    assert cov.any()
    return intr, r, c


def test_convex_matches_dense_reference_values_cuboids_and_cylinders():
    pos, size, rot, tip, azi, ele = _bodies()
    _check_against_reference(cuboid_vertices(pos, size, rot), cuboid_faces())
    _check_against_reference(hand_vertices(tip, azi, ele, 0.04, 0.15, 12), cylinder_faces(12))


@pytest.mark.parametrize("body", ["cuboid", "cylinder"])
def test_convex_matches_dense_reference_gradients(body):
    pos, size, rot, tip, azi, ele = _bodies(seed=3, n=2)
    params = [t.clone().requires_grad_(True) for t in
              ((pos, size, rot) if body == "cuboid" else (tip, azi, ele))]
    if body == "cuboid":
        faces = cuboid_faces()

        def verts():
            return cuboid_vertices(*params)
    else:
        faces = cylinder_faces(12)

        def verts():
            return hand_vertices(params[0], params[1], params[2], 0.04, 0.15, 12)

    intr = Intrinsics.from_fov(60.0, 120, 200).scaled(24)
    r, c = _camera()
    target = torch.zeros(2, intr.height, intr.width, dtype=D)
    target[:, 6:18, 10:30] = 1.0

    def grads(fn):
        loss = ((fn(verts(), faces, r, c, intr, 1.5) - target) ** 2).sum()
        return torch.autograd.grad(loss, params)

    g_fast = grads(ConvexSilhouetteRenderer().render)
    g_ref = grads(reference_render)
    for a, b in zip(g_fast, g_ref):
        assert torch.isfinite(a).all()
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-9)
    assert max(float(g.abs().max()) for g in g_fast) > 0


def test_renderer_registry():
    assert "convex" in renderer_names() and "pytorch3d" in renderer_names()
    assert "convex" in available_renderers()
    assert get_renderer("convex").name == "convex"
    with pytest.raises(UnknownNameError, match="known renderer backends: .*convex"):
        get_renderer("nope")
    if importlib.util.find_spec("pytorch3d") is None:
        with pytest.raises(RendererUnavailableError, match="pytorch3d is not installed"):
            get_renderer("pytorch3d")
        assert get_renderer("auto").name == "convex"


@pytest.mark.pytorch3d
@pytest.mark.skipif(importlib.util.find_spec("pytorch3d") is None,
                    reason="pytorch3d is not installed here (no CPU wheel for torch 2.13); "
                           "runs on GPU machines / the Docker image")
def test_pytorch3d_backend_matches_reference():
    pos, size, rot, tip, azi, ele = _bodies(seed=5)
    intr = Intrinsics.from_fov(60.0, 120, 200).scaled(48)
    r, c = _camera()
    p3d = get_renderer("pytorch3d")
    for verts, faces in ((cuboid_vertices(pos, size, rot), cuboid_faces()),
                         (hand_vertices(tip, azi, ele, 0.04, 0.15, 16), cylinder_faces(16))):
        a = p3d.render(verts, faces, r, c, intr, 1.0) > 0.5
        b = reference_render(verts, faces, r, c, intr, 1.0) > 0.5
        inter = (a & b).sum(dim=(1, 2)).double()
        union = (a | b).sum(dim=(1, 2)).double().clamp(min=1)
        assert (inter / union).min() > 0.9
