"""The objective of the fit (METHOD section 3): :class:`FitProblem` holds what stays fixed
while one video is optimised (downsampled target masks, intrinsics, renderer, meshes) and
renders the state model's bodies into soft silhouettes and computes the weighted loss terms
(silhouettes, size constancy, accelerations, hand-object interaction, contact penalties);
with :func:`downsample_masks` and the finite-difference helpers.

Imports no rclpy.
"""

from __future__ import annotations

import numpy as np
import torch
from real2sim_core.actions import ActionSpec

from .camera import Intrinsics, camera_center_torch, camera_rotation_torch
from .config import PerceptionConfig
from .inputs import MaskSequence
from .render import get_renderer
from .shapes import CUBOID_CORNERS, cuboid_faces, cylinder_faces, hand_vertices
from .state_model import DTYPE, StateModel, box_penetration, norm, sphere_depth

__all__ = ["FitProblem", "downsample_masks"]


# --- helpers --------------------------------------------------------------------------------


def downsample_masks(masks: np.ndarray, height: int) -> np.ndarray:
    """Area-downsample ``(K, T, H, W)`` binary masks to ``height`` rows -> float32 in [0, 1]."""
    import cv2

    k_n, t_n, h, w = masks.shape
    width = max(1, int(round(w * height / h)))
    out = np.zeros((k_n, t_n, height, width), dtype=np.float32)
    for k in range(k_n):
        for t in range(t_n):
            if masks[k, t].any():
                out[k, t] = cv2.resize(masks[k, t].astype(np.float32), (width, height),
                                       interpolation=cv2.INTER_AREA)
    return out


def _pad_edge(x):
    return torch.cat([x[:1], x, x[-1:]], 0)


def _velocity(x, fps):
    """Central difference with edge padding, per second: ``(T, ...)``."""
    if x.shape[0] < 2:
        return torch.zeros_like(x)
    xp = _pad_edge(x)
    return (xp[2:] - xp[:-2]) * (0.5 * fps)


def _second_diff(x, fps):
    """Second difference with edge padding, the fps factor applied once (METHOD section 3)."""
    if x.shape[0] < 3:
        return torch.zeros_like(x)
    xp = _pad_edge(x)
    return (xp[2:] - 2.0 * xp[1:-1] + xp[:-2]) * fps

# --- losses ---------------------------------------------------------------------------------


def _silhouette_loss(rendered, target, fg_reweight: bool):
    """Per-frame foreground-reweighted squared error ``(B,)`` of ``(B, h, w)`` images."""
    hw = target.shape[-1] * target.shape[-2]
    if fg_reweight:
        n_fg = target.sum((-1, -2)).clamp(min=1e-3)
        w_fg = ((hw - n_fg) / n_fg)[:, None, None]
        weight = target * w_fg + (1.0 - target)
    else:
        weight = torch.ones_like(target)
    return (weight * (rendered - target) ** 2).mean((-1, -2))


class FitProblem:
    """Everything fixed during the optimisation of one video."""

    def __init__(self, seq: MaskSequence, spec: ActionSpec, cfg: PerceptionConfig,
                 touch: np.ndarray):
        self.seq, self.spec, self.cfg = seq, spec, cfg
        h_full, w_full = seq.image_size
        self.intr_full = Intrinsics.from_fov(cfg.camera.fov_y_deg, h_full, w_full)
        self.intr = self.intr_full.scaled(cfg.render.height)
        self.scale = self.intr.height / h_full
        tg = downsample_masks(seq.masks, self.intr.height)
        self.targets = torch.from_numpy(tg)
        self.valid = torch.from_numpy(seq.valid)
        self.valid_idx = [torch.where(self.valid[k])[0] for k in range(len(seq.tracks))]
        self.fps = seq.fps
        self.touch = touch
        length = (cfg.model.hand_length_forearm if seq.hand_covers_forearm
                  else cfg.model.hand_length_wrist)
        self.hand_length = length
        self.renderer = get_renderer(cfg.render.backend)
        self.cyl_faces = cylinder_faces(cfg.render.cylinder_segments)
        self.box_faces = cuboid_faces()

    def sigma(self, it: int, iterations: int) -> float:
        """Edge softness (render px) at iteration ``it`` (coarse-to-fine schedule)."""
        r = self.cfg.render
        n = max(1.0, r.sigma_anneal_fraction * iterations)
        a = max(0.0, 1.0 - it / n)
        return (r.sigma_px + a * (r.sigma_start_px - r.sigma_px)) * self.scale

    def bodies(self, st: dict):
        """World vertices per track: hand ``(T, 2n, 3)``, objects ``(T, 8, 3)`` each."""
        m = self.cfg.model
        out = [hand_vertices(st["hand_pos"], st["hand_azi"], st["hand_ele"], m.hand_radius,
                             self.hand_length, self.cfg.render.cylinder_segments)]
        for i in range(self.spec.num_objects):
            local = CUBOID_CORNERS.to(DTYPE) * st["obj_size"][:, i, None, :]  # (T, 8, 3)
            out.append(local @ st["obj_rotmat"][:, i].transpose(-1, -2)
                       + st["obj_pos"][:, i, None, :])
        return out

    def render_tracks(self, model: StateModel, st: dict, sigma: float, verts=None):
        """Soft silhouettes per track: list of ``(frame indices, (B, h, w))`` over the frames
        where the track has a mask (``None`` images for a track without any)."""
        d, az, el = model.camera()
        rot = camera_rotation_torch(az, el)
        cen = camera_center_torch(d, az, el)
        out = []
        for k, body in enumerate(verts if verts is not None else self.bodies(st)):
            idx = self.valid_idx[k]
            faces = self.cyl_faces if k == 0 else self.box_faces
            if len(idx) == 0:
                out.append((idx, None))
                continue
            if k == 1 and model.obj_p[0].shape[0] == 1:  # one pose for all frames
                img = self.renderer.render(body[:1], faces, rot, cen, self.intr, sigma,
                                           self.cfg.camera.near)
                img = img.expand(len(idx), -1, -1)
            else:
                img = self.renderer.render(body[idx], faces, rot, cen, self.intr, sigma,
                                           self.cfg.camera.near)
            out.append((idx, img))
        return out

    def losses(self, model: StateModel, sigma: float) -> tuple[torch.Tensor, dict, list]:
        cfg, fps = self.cfg, self.fps
        w = cfg.loss
        st = model.states()
        terms: dict[str, torch.Tensor] = {}
        verts = self.bodies(st)
        renders = self.render_tracks(model, st, sigma, verts)
        sil_raw = {}
        for k, (idx, img) in enumerate(renders):
            name = self.seq.tracks[k]
            if img is None:
                continue
            per = _silhouette_loss(img, self.targets[k, idx], w.fg_reweight)
            sil_raw[name] = per.mean()
            weight = w.silhouette_hand if k == 0 else w.silhouette_object
            terms[f"silhouette_{name}"] = weight * w.silhouette_pixels * per.mean()
        size = st["obj_size"]
        terms["size_constancy"] = w.size_constancy * ((size - size.mean(0, keepdim=True)) ** 2
                                                      ).mean()
        terms["object_position_acc"] = w.object_position_acc * norm(
            _second_diff(st["obj_pos"], fps)).mean()
        terms["hand_position_acc"] = w.hand_position_acc * norm(
            _second_diff(st["hand_pos"], fps)).mean()
        terms["hand_angle_acc"] = w.hand_angle_acc * (
            _second_diff(st["hand_azi"], fps).abs().mean()
            + _second_diff(st["hand_ele"], fps).abs().mean())
        terms["object_rotation_acc"] = w.object_rotation_acc * norm(
            _second_diff(st["obj_rot"], fps)).mean()
        # hand-object interaction
        v_hand = _velocity(st["hand_pos"], fps)
        inter = 0.0
        for i in range(self.spec.num_objects):
            dist = norm(verts[1 + i] - st["hand_pos"][:, None, :]).min(-1).values
            p = 1.0 - torch.sigmoid(w.interaction_slope * dist - w.interaction_offset)
            if i == self.spec.manipulated_object:
                p = torch.where(model.touch, torch.ones_like(p), p)
            v_obj = _velocity(st["obj_pos"][:, i], fps)
            inter = inter + (p * norm(v_obj - v_hand) + (1 - p) * norm(v_obj)).mean()
        terms["interaction"] = w.interaction * inter
        if w.hand_table > 0:
            terms["hand_table"] = w.hand_table * (-verts[0][..., 2].min(-1).values).clamp(
                min=0).mean()
        if w.hand_object > 0:
            depth = 0.0
            for i in range(self.spec.num_objects):
                d = sphere_depth(st["hand_pos"], cfg.model.hand_radius, st["obj_pos"][:, i],
                                  st["obj_size"][:, i], st["obj_rotmat"][:, i])
                if i == self.spec.manipulated_object and not model.uses_grasp_offset:
                    d = torch.where(model.touch, torch.zeros_like(d), d)  # tied to the centre
                depth = depth + d.mean()
            terms["hand_object"] = w.hand_object * depth
        if w.object_speed > 0:
            held = st["obj_pos"][:, self.spec.manipulated_object]
            speed = norm(held[1:] - held[:-1]) * fps
            terms["object_speed"] = w.object_speed * (speed - w.max_object_speed).clamp(
                min=0.0).mean()
        if w.penetration > 0 and self.spec.num_objects == 2:
            terms["penetration"] = w.penetration * box_penetration(verts[1], verts[2]).mean()
        total = sum(terms.values())
        return total, {**terms, **{f"silhouette/{k}": v for k, v in sil_raw.items()}}, renders
