"""Data-driven initial values of the state model (``cfg.model.init_from_masks``):
:func:`init_from_masks` back-projects the masks' bounding boxes through the initial camera
onto the table (objects) and to the objects' depth (fingertip, hand azimuth), with its mask
and ray helpers. Returns raw parameter values for :class:`~.state_model.StateModel`.

Imports no rclpy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from real2sim_core.actions import ActionSpec

from .camera import Intrinsics, camera_center_torch, camera_rotation_torch
from .config import PerceptionConfig
from .inputs import MaskSequence
from .state_model import StateModel, atanh_clipped, logit_clipped

__all__ = ["init_from_masks"]


# --- mask and ray helpers -------------------------------------------------------------------


def _interp_missing(values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Fill rows of ``values`` (T, D) where ``observed`` is False by linear interpolation."""
    t = np.arange(len(values))
    out = values.copy()
    if observed.sum() == 0:
        return out
    for d in range(values.shape[1]):
        out[:, d] = np.interp(t, t[observed], values[observed, d])
    return out


def _mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Bounding boxes ``(T, 4)`` x1, y1, x2, y2 (px, continuous) of masks ``(T, H, W)``; NaN
    where empty."""
    out = np.full((masks.shape[0], 4), np.nan)
    rows = masks.any(2)
    cols = masks.any(1)
    for t in range(masks.shape[0]):
        if rows[t].any():
            r = np.where(rows[t])[0]
            c = np.where(cols[t])[0]
            out[t] = (c[0], r[0], c[-1] + 1, r[-1] + 1)
    return out


def _mask_width(mask: np.ndarray) -> float:
    """Apparent width (px) of an elongated mask: its area over its length along the principal
    axis (``sqrt(12 var)``, exact for a rectangle; the short side for an axis-aligned box)."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 2:
        return float(len(xs))
    cov = np.cov(np.stack([xs, ys]).astype(float))
    lam = float(np.linalg.eigvalsh(cov)[-1])
    length = max(math.sqrt(12.0 * lam), 1.0)
    return len(xs) / length


def _ray_plane(u, v, rot, center, intr: Intrinsics, z_plane):
    """World points where pixel rays ``(u, v)`` meet the plane ``z = z_plane``; NaN if none."""
    d_cam = np.stack([(u - intr.cx) / intr.focal, (v - intr.cy) / intr.focal,
                      np.ones_like(u)], -1)
    d_w = d_cam @ rot  # rows of rot are camera axes in world: world dir = R^T d_cam
    s = (z_plane - center[2]) / np.where(np.abs(d_w[..., 2]) > 1e-9, d_w[..., 2], np.nan)
    s = np.where(s > 0, s, np.nan)
    return center + s[..., None] * d_w


def _ray_depth(u, v, rot, center, intr: Intrinsics, depth):
    """World points at camera depth ``depth`` (m) along pixel rays ``(u, v)``."""
    d_cam = np.stack([(u - intr.cx) / intr.focal * depth, (v - intr.cy) / intr.focal * depth,
                      np.broadcast_to(depth, np.shape(u))], -1)
    return center + d_cam @ rot


def init_from_masks(seq: MaskSequence, spec: ActionSpec, cfg: PerceptionConfig,
                    intr: Intrinsics, rng: np.random.Generator) -> tuple[dict, list[str]]:
    """Data-driven initial raw parameters (``cfg.model.init_from_masks``).

    * camera distance from the hand masks' median apparent width (area over principal-axis
      length: a cylinder of the model's diameter seen that wide), METHOD's initial azimuth and
      elevation;
    * objects: the bottom centre of each mask's bounding box is cast onto the table; size
      from the box width at that depth; the centre half a size behind the cast point;
    * hand: the fingertip is the point of the hand box nearest the manipulated object's box
      centre, placed at the object's depth; the azimuth points from the hand box centre to
      that fingertip (frames where they coincide take the nearest reliable frame's; none at
      all: METHOD's pi/2).

    Frames without a mask interpolate between observed frames. Returns the raw values and
    notes.
    """
    m, c = cfg.model, cfg.camera
    init = StateModel.random_init(seq.num_frames, spec, cfg, rng)
    notes: list[str] = []
    hand_boxes = _mask_boxes(seq.track("hand"))
    obs_h = ~np.isnan(hand_boxes[:, 0])
    if c.init_distance_from_hand and obs_h.any():
        hand = seq.track("hand")
        widths = [_mask_width(hand[t]) for t in np.where(obs_h)[0]]
        d0 = intr.focal * 2 * m.hand_radius / max(float(np.median(widths)), 1.0)
        init["cam_d"] = float(np.clip(d0, c.min_distance, 5.0))
    az0 = math.radians(c.max_azimuth_deg) * math.tanh(init["cam_a"])
    el0 = math.radians(c.max_elevation_deg) / (1 + math.exp(-init["cam_e"]))
    rot = camera_rotation_torch(torch.tensor(az0, dtype=torch.float64),
                                torch.tensor(el0, dtype=torch.float64)).numpy()
    center = camera_center_torch(torch.tensor(init["cam_d"], dtype=torch.float64),
                                 torch.tensor(az0, dtype=torch.float64),
                                 torch.tensor(el0, dtype=torch.float64)).numpy()
    fwd_h = np.array([rot[2, 0], rot[2, 1], 0.0])
    fwd_h /= max(np.linalg.norm(fwd_h), 1e-9)
    obj_centres = []
    depths = []
    for i in range(spec.num_objects):
        boxes = _mask_boxes(seq.track(f"object{i}"))
        obs = ~np.isnan(boxes[:, 0])
        u = 0.5 * (boxes[:, 0] + boxes[:, 2])
        bottom = _ray_plane(np.nan_to_num(u), np.nan_to_num(boxes[:, 3]), rot, center, intr, 0.0)
        ok = obs & np.isfinite(bottom).all(-1)
        if not ok.any():
            notes.append(f"object{i}: no mask bottom hits the table; random initial position")
            obj_centres.append(None)
            continue
        depth = (bottom - center) @ rot[2]
        width = (boxes[:, 2] - boxes[:, 0]) * depth / intr.focal
        height_px = (boxes[:, 3] - boxes[:, 1]) * depth / intr.focal
        w = np.clip(width, 0.02, 0.9 * m.object_size_range)
        h = np.clip((height_px - w * math.sin(el0)) / max(math.cos(el0), 0.2), 0.02,
                    0.9 * m.object_size_range)
        centre = bottom + 0.5 * w[:, None] * fwd_h[None]
        centre = _interp_missing(np.where(ok[:, None], centre, 0.0), ok)
        size = _interp_missing(np.stack([w, w, h], -1), ok)
        depths.append(depth[ok])
        obj_centres.append((centre, boxes, obs))
        one_pose = len(init["obj_p"][i]) == 1  # a static object with one pose
        centre_r = np.median(centre[ok], 0, keepdims=True) if one_pose else centre
        # a rigid object (or a static one) has one size for all frames
        size_r = np.median(size[ok], 0, keepdims=True) if len(init["obj_s"][i]) == 1 else size
        init["obj_p"][i] = atanh_clipped(centre_r / m.object_position_range)
        init["obj_s"][i] = logit_clipped(size_r / m.object_size_range)
    # hand
    manip = obj_centres[spec.manipulated_object] or next(
        (o for o in obj_centres if o is not None), None)
    if obs_h.any():
        hb = hand_boxes
        depth = float(np.median(np.concatenate(depths))) if depths else init["cam_d"]
        hu = 0.5 * (hb[:, 0] + hb[:, 2])
        hv = 0.5 * (hb[:, 1] + hb[:, 3])
        tu, tv = hu.copy(), hv.copy()
        if manip is not None:
            ob = manip[1]
            ob = _interp_missing(np.nan_to_num(ob), manip[2]) if manip[2].any() else ob
            ou = 0.5 * (ob[:, 0] + ob[:, 2])
            ov = 0.5 * (ob[:, 1] + ob[:, 3])
            tu = np.clip(ou, hb[:, 0], hb[:, 2])
            tv = np.clip(ov, hb[:, 1], hb[:, 3])
        tip = _ray_depth(np.nan_to_num(tu), np.nan_to_num(tv), rot, center, intr, depth)
        back = _ray_depth(np.nan_to_num(hu), np.nan_to_num(hv), rot, center, intr, depth)
        tip[:, 2] = np.maximum(tip[:, 2], m.hand_radius)
        tip = _interp_missing(tip, obs_h)
        init["hand_p"] = atanh_clipped(tip / m.hand_position_range)
        vec = (tip - back)[:, :2]
        reliable = obs_h & (np.linalg.norm(vec, axis=-1) > 0.01)
        if reliable.any():
            azi = np.arctan2(vec[:, 1], vec[:, 0])
            unit = np.stack([np.cos(azi), np.sin(azi)], -1)
            unit = _interp_missing(np.where(reliable[:, None], unit, 0.0), reliable)
            init["hand_az"] = np.unwrap(np.arctan2(unit[:, 1], unit[:, 0]))
        else:
            notes.append("hand: no reliable 2D direction; initial azimuth pi/2")
    return init, notes
