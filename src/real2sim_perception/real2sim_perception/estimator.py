"""Real2Sim state estimation: masks -> coarse 3D hand-object state trajectory.

The method of paper section 3.2 / appendix A.2 with the numbers of METHOD sections 2-4:
per-frame states of the hand (fingertip position, azimuth, elevation) and of the cuboid
objects (size, position, rotation vector) plus one camera (distance, azimuth, elevation)
are free parameters, normalised through tanh/sigmoid; all frames are optimised jointly with
Adam on

* silhouette losses (hand, each object): squared error between the rendered soft silhouette
  and the mask, foreground pixels reweighted by #background / #foreground, empty-mask frames
  skipped;
* object size constancy, and the accelerations of object positions, object rotations, the
  fingertip and the hand angles;
* the hand-object interaction ``p ||v_obj - v_hand|| + (1 - p) ||v_obj||`` with
  ``p = 1 - sigmoid(40 d - 4)`` (``p = 1`` in touching frames).

Constraints of the state model: object 0 rests on the table (``z = size_z / 2``); the
manipulated object of pick-up and put actions rests until the first touch and may be lifted
afterwards; in touching frames the fingertip is tied to the manipulated object's centre.

Entry point: :func:`estimate`. Imports no rclpy.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from real2sim_core.actions import ActionSpec, get_action
from real2sim_core.frames import rotvec_to_matrix_torch
from real2sim_core.plausibility import check_trajectory
from real2sim_core.trajectory import ALIGN_SCALE, Camera, StateTrajectory, align

from .camera import Intrinsics, camera_center_torch, camera_rotation_torch
from .config import PerceptionConfig
from .inputs import MaskSequence
from .phase import detect_phase
from .render import get_renderer
from .shapes import CUBOID_CORNERS, cuboid_faces, cylinder_faces, hand_vertices
from .touch import estimate_touch

__all__ = ["EstimateResult", "StateModel", "box_penetration", "downsample_masks", "estimate"]

log = logging.getLogger(__name__)


_DT = torch.float32


@dataclass
class EstimateResult:
    """What :func:`estimate` returns.

    Attributes:
        trajectory: the estimated states of all frames, raw world frame (camera fitted).
        aligned: the aligned-frame trajectory (METHOD section 4) of the predicted action phase
            (all frames when ``config.phase.aligned_phase_only`` is False); its ``phase`` holds
            the frames, None when it is not cut (no detectable phase, or all frames wanted).
        losses: final loss terms: weighted terms by name, ``total``, and per-track unweighted
            silhouette losses ``silhouette/<track>``.
        phase: predicted action phase ``(start, stop)``, frame indices, stop exclusive.
        timing: seconds: ``prepare``, ``optimise``, ``total``; ``s_per_iteration``.
        flags: fit quality: ``fit_ok`` (bool; False for a failed track, a severe input
            warning, or an input warning with an implausible result), ``failed_tracks``,
            ``warnings`` (bad input, see :func:`input_warnings`), ``input_ok``,
            ``plausible`` / ``plausibility`` (:mod:`real2sim_core.plausibility` on the
            aligned trajectory), ``iou/<track>``, ``notes``.
        touch: ``(T,)`` touch flags used (input or estimated).
        rendered: ``(K, T, h, w)`` final soft silhouettes at the render resolution (NaN in
            frames without a mask).
        targets: ``(K, T, h, w)`` downsampled masks the losses compared against.
        history: total loss per iteration.
    """

    trajectory: StateTrajectory
    aligned: StateTrajectory
    losses: dict
    phase: tuple[int, int]
    timing: dict
    flags: dict
    touch: np.ndarray
    rendered: np.ndarray | None = None
    targets: np.ndarray | None = None
    history: list = field(default_factory=list)

    @property
    def fit_ok(self) -> bool:
        return bool(self.flags.get("fit_ok", False))


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


def _half_height(rotmat, size):
    """Half the vertical extent ``(T,)`` of cuboids with rotation matrices ``(T, 3, 3)`` and
    sizes ``(T, 3)``: the centre height at which the lowest corner touches the table,
    ``0.5 sum_j |R_zj| s_j``."""
    return 0.5 * (rotmat[..., 2, :].abs() * size).sum(-1)


def _sphere_depth(point, radius: float, center, size, rotmat):
    """How deep ``(T,)`` a sphere at ``point`` ``(T, 3)`` reaches into cuboids (centres, sizes
    ``(T, 3)``, rotation matrices ``(T, 3, 3)``), m (0 outside): ``radius`` minus the distance
    from the sphere centre to the box (negative inside)."""
    local = ((point - center)[..., None, :] @ rotmat).squeeze(-2)  # R^T (p - c)
    q = local.abs() - 0.5 * size
    outside = _norm(q.clamp(min=0.0))
    inside = q.max(-1).values.clamp(max=0.0)
    return (radius - (outside + inside)).clamp(min=0.0)


def box_penetration(verts_a, verts_b):
    """How deep ``(T,)`` two bodies given by their vertices ``(T, V, 3)`` overlap, m: the
    smallest per-axis overlap of their world-axis-aligned bounding boxes (0 when apart)."""
    overlap = (torch.minimum(verts_a.max(1).values, verts_b.max(1).values)
               - torch.maximum(verts_a.min(1).values, verts_b.min(1).values))  # (T, 3)
    return overlap.min(-1).values.clamp(min=0.0)


def _norm(x, dim=-1):
    return torch.sqrt((x * x).sum(dim) + 1e-12)


def _atanh(x, bound=0.995):
    return np.arctanh(np.clip(x, -bound, bound))


def _logit(x, bound=1e-3):
    x = np.clip(x, bound, 1 - bound)
    return np.log(x / (1 - x))


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


# --- the state model ------------------------------------------------------------------------


class StateModel(torch.nn.Module):
    """Learnable, normalised state parameters of one video (METHOD section 2).

    Raw parameters -> states:

    * camera: distance = max(raw, min_distance) m; azimuth = max_az * tanh(a);
      elevation = max_el * sigmoid(e);
    * hand: fingertip = 1.5 m * tanh(p); azimuth unbounded (raw); elevation = pi/2 tanh(e);
      in touching frames the fingertip is the manipulated object's centre instead;
    * objects: size = 0.3 m * sigmoid(s); position = 1.2 m * tanh(p) with z replaced by
      ``size_z / 2`` while resting (plus ``lift_range |tanh(l)|`` after the first touch for the
      manipulated object of pick-up / put actions; in put actions after the last touch the
      bottom is at ``size0_z sigmoid(q)``: on the table or on object 0); rotation vector raw.

    Args:
        num_frames: T.
        spec: the action.
        cfg: the configuration.
        touch: ``(T,)`` touch flags in {0, 1}.
        init: raw initial values by name (see :meth:`random_init`).
    """

    def __init__(self, num_frames: int, spec: ActionSpec, cfg: PerceptionConfig,
                 touch: np.ndarray, init: dict):
        super().__init__()
        self.t_n = num_frames
        self.spec = spec
        self.cfg = cfg
        self.n_obj = spec.num_objects
        self.manip = spec.manipulated_object
        p = torch.nn.Parameter
        self.cam_d = p(torch.tensor(float(init["cam_d"]), dtype=_DT))
        self.cam_a = p(torch.tensor(float(init["cam_a"]), dtype=_DT))
        self.cam_e = p(torch.tensor(float(init["cam_e"]), dtype=_DT))
        self.hand_p = p(torch.as_tensor(init["hand_p"], dtype=_DT))
        self.hand_az = p(torch.as_tensor(init["hand_az"], dtype=_DT))
        self.hand_e = p(torch.as_tensor(init["hand_e"], dtype=_DT))
        self.obj_s = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=_DT)) for s in init["obj_s"]])
        self.obj_p = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=_DT)) for s in init["obj_p"]])
        self.obj_r = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=_DT)) for s in init["obj_r"]])
        self.lift = p(torch.as_tensor(init["lift"], dtype=_DT))
        self.support = p(torch.tensor(float(cfg.model.init_support_param), dtype=_DT))
        touch_t = torch.as_tensor(np.asarray(touch) > 0.5)
        self.register_buffer("touch", touch_t)
        touched = np.where(touch_t.numpy())[0]
        first = int(touched[0]) if len(touched) else num_frames
        last = int(touched[-1]) if len(touched) else num_frames
        plausible = cfg.model.plausible_objects
        lifted = torch.zeros(num_frames, dtype=torch.bool)
        if spec.kind in ("pick_up", "put"):
            # plausible: grasped on the table at the first touch, lifted from the next frame
            lifted[first + 1 if plausible else first:] = True
        released = torch.zeros(num_frames, dtype=torch.bool)
        if spec.kind == "put" and cfg.model.rest_after_release and len(touched):
            # plausible: put down by the last touch (then let go), else after it
            released[last if plausible else last + 1:] = True
        self.register_buffer("lifted", lifted & ~released)
        self.register_buffer("released", released)
        # frames -> parameter rows of the manipulated object: one pose before the first and
        # one after the last touch (an untouched object does not move)
        rows = torch.arange(num_frames)
        if cfg.model.static_untouched and len(touched):
            rows = rows.clamp(first, last)
        self.register_buffer("manip_rows", rows)

    @staticmethod
    def random_init(num_frames: int, spec: ActionSpec, cfg: PerceptionConfig,
                    rng: np.random.Generator) -> dict:
        """METHOD section 2's initial raw values: 0.1 N(0, 1), azimuth + pi/2, rotation
        0.01 N(0, 1); the camera at distance 2 m (or the configured value)."""
        m = cfg.model
        t = num_frames
        n = spec.num_objects

        def frames_of(i):
            return 1 if (i == 0 and n == 2 and m.static_object_constant) else t

        return {
            "cam_d": cfg.camera.init_distance,
            "cam_a": cfg.camera.init_azimuth_param,
            "cam_e": cfg.camera.init_elevation_param,
            "hand_p": m.init_std * rng.standard_normal((t, 3)),
            "hand_az": m.init_std * rng.standard_normal(t) + math.radians(m.init_hand_azimuth_deg),
            "hand_e": m.init_std * rng.standard_normal(t),
            "obj_s": [m.init_std * rng.standard_normal((frames_of(i), 3)) for i in range(n)],
            "obj_p": [m.init_std * rng.standard_normal((frames_of(i), 3)) for i in range(n)],
            "obj_r": [m.init_rotation_std * rng.standard_normal((frames_of(i), 3))
                      for i in range(n)],
            "lift": np.full(t, m.init_lift_param),
        }

    def _support_height(self, pos, pos0, size0, rotmat0):
        """Height ``(T,)`` of what a released object rests on, m.

        ``release_support: free``: ``size0_z sigmoid(q)`` (one learned parameter ``q``, the
        table at 0, object 0's top at 1). ``beneath``: what lies under the released object's
        centre of mass: object 0's top where the centre is over object 0's footprint, the
        table elsewhere (a rigid body cannot rest inside another one, and a body whose
        centre of mass is beyond its support's edge tips off it), a linear ramp
        ``support_softness`` m wide centred on the footprint's edge so that the position gets
        a gradient there (flat, i.e. exactly on the top or the table, elsewhere).
        """
        m = self.cfg.model
        top0 = _half_height(rotmat0, size0) + pos0[:, 2]  # object 0 rests: its top corner
        if m.release_support == "free":
            return size0[:, 2] * torch.sigmoid(self.support)
        # the centre's horizontal offset in object 0's frame, against its half footprint
        local = ((pos - pos0)[..., None, :] @ rotmat0).squeeze(-2)
        margin = (0.5 * size0[:, :2] - local[:, :2].abs()).min(-1).values
        return top0 * (0.5 + margin / m.support_softness).clamp(0.0, 1.0)

    def camera(self):
        """``(distance, azimuth, elevation)`` tensors (m, rad, rad)."""
        c = self.cfg.camera
        d = self.cam_d.clamp(min=c.min_distance)
        az = math.radians(c.max_azimuth_deg) * torch.tanh(self.cam_a)
        el = math.radians(c.max_elevation_deg) * torch.sigmoid(self.cam_e)
        return d, az, el

    def states(self) -> dict:
        """Differentiable states: ``obj_pos/obj_size/obj_rot`` ``(T, N, 3)``, ``hand_pos``
        ``(T, 3)``, ``hand_azi``/``hand_ele`` ``(T,)``, plus ``free_hand_pos``."""
        m = self.cfg.model
        t = self.t_n
        sizes, poss, rots, mats = [], [], [], []
        lifting = self.spec.kind in ("pick_up", "put")
        for i in range(self.n_obj):
            manip = i == self.manip
            raw_s, raw_p, rot = self.obj_s[i], self.obj_p[i], self.obj_r[i]
            if manip and raw_p.shape[0] == t:
                raw_s, raw_p, rot = (x[self.manip_rows] for x in (raw_s, raw_p, rot))
            size = m.object_size_range * torch.sigmoid(raw_s)
            pos = m.object_position_range * torch.tanh(raw_p)
            size, pos, rot = (x.expand(t, 3) for x in (size, pos, rot))
            if m.plausible_objects:
                # not held: roll and pitch fixed (a face on the support), yaw free; held: all 3
                free_tilt = self.lifted if (manip and lifting and m.held_tilt) \
                    else torch.zeros_like(self.lifted)
                rot = torch.cat([torch.where(free_tilt[:, None], rot[:, :2],
                                             torch.zeros_like(rot[:, :2])), rot[:, 2:]], -1)
                rotmat = rotvec_to_matrix_torch(rot)
                rest = _half_height(rotmat, size)  # lowest corner on the table
            else:
                rotmat = rotvec_to_matrix_torch(rot)
                rest = size[:, 2] * 0.5
            if manip and lifting:
                lift = self.lift[self.manip_rows]
                z = rest + torch.where(self.lifted, m.lift_range * torch.tanh(lift).abs(),
                                       torch.zeros_like(rest))
                if i > 0:  # put: after the release the object stands on table or object 0
                    z = z + torch.where(self.released, self._support_height(pos, poss[0],
                                                                            sizes[0], mats[0]),
                                        torch.zeros_like(rest))
            else:
                z = rest
            pos = torch.cat([pos[:, :2], z[:, None]], -1)
            sizes.append(size)
            poss.append(pos)
            rots.append(rot)
            mats.append(rotmat)
        obj_pos = torch.stack(poss, 1)
        free = m.hand_position_range * torch.tanh(self.hand_p)
        if m.hand_above_table:  # fingertip centre at least a hand radius above the table
            k = m.hand_floor_softness
            z = m.hand_radius + k * torch.nn.functional.softplus((free[:, 2] - m.hand_radius) / k)
            free = torch.cat([free[:, :2], z[:, None]], -1)
        hand_pos = torch.where(self.touch[:, None], obj_pos[:, self.manip], free)
        return {
            "obj_pos": obj_pos,
            "obj_size": torch.stack(sizes, 1),
            "obj_rot": torch.stack(rots, 1),
            "obj_rotmat": torch.stack(mats, 1),
            "hand_pos": hand_pos,
            "free_hand_pos": free,
            "hand_azi": self.hand_az,
            "hand_ele": (math.pi / 2) * torch.tanh(self.hand_e),
        }


# --- initialisation from masks ----------------------------------------------------------------


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
        if len(init["obj_p"][i]) == 1:  # a static object with one pose
            centre_r = np.median(centre[ok], 0, keepdims=True)
            size_r = np.median(size[ok], 0, keepdims=True)
        else:
            centre_r, size_r = centre, size
        init["obj_p"][i] = _atanh(centre_r / m.object_position_range)
        init["obj_s"][i] = _logit(size_r / m.object_size_range)
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
        init["hand_p"] = _atanh(tip / m.hand_position_range)
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


def input_warnings(seq: MaskSequence, touch: np.ndarray, spec: ActionSpec,
                   cfg: PerceptionConfig) -> tuple[list[str], bool]:
    """One-line warnings about input the state model cannot explain plausibly
    (``cfg.quality``) and whether one is severe.

    * the manipulated object is never separated from the hand (touch in nearly every frame
      where it is seen): its resting pose and the phase are not observed (not severe: the
      fit fails only when its result is then not plausible);
    * an object mask covers (nearly) the whole frame: not an object (severe: the fit fails).
    """
    q = cfg.quality
    out = []
    severe = False
    name = seq.tracks[1 + spec.manipulated_object]
    seen = seq.track(name).any(axis=(1, 2))
    if seen.any():
        frac = float((np.asarray(touch)[seen] > 0.5).mean())
        if frac >= q.max_touch_fraction:
            out.append(
                f"{name}: the hand touches it in {100 * frac:.0f} % of the frames where it is "
                f"seen (>= {100 * q.max_touch_fraction:.0f} %): it is never separated from the "
                f"hand, so its resting pose and the action phase are not observable; check the "
                f"annotations (object and hand boxes) before using this trajectory")
    h, w = seq.image_size
    for k, name in enumerate(seq.tracks[1:], 1):
        masks = seq.track(name)
        seen = masks.any(axis=(1, 2))
        if not seen.any():
            continue
        area = float(np.median(masks[seen].sum((1, 2)))) / float(h * w)
        if area >= q.max_object_area_fraction:
            out.append(
                f"{name}: its mask covers {100 * area:.0f} % of the frame (median; >= "
                f"{100 * q.max_object_area_fraction:.0f} %): a box around the whole frame is not "
                f"an object; check the annotations before using this trajectory")
            severe = True
    return out, severe


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


class _Problem:
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
            local = CUBOID_CORNERS.to(_DT) * st["obj_size"][:, i, None, :]  # (T, 8, 3)
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
        for k, verts in enumerate(verts if verts is not None else self.bodies(st)):
            idx = self.valid_idx[k]
            faces = self.cyl_faces if k == 0 else self.box_faces
            if len(idx) == 0:
                out.append((idx, None))
                continue
            if k == 1 and model.obj_p[0].shape[0] == 1:  # one pose for all frames
                img = self.renderer.render(verts[:1], faces, rot, cen, self.intr, sigma,
                                           self.cfg.camera.near)
                img = img.expand(len(idx), -1, -1)
            else:
                img = self.renderer.render(verts[idx], faces, rot, cen, self.intr, sigma,
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
        terms["object_position_acc"] = w.object_position_acc * _norm(
            _second_diff(st["obj_pos"], fps)).mean()
        terms["hand_position_acc"] = w.hand_position_acc * _norm(
            _second_diff(st["hand_pos"], fps)).mean()
        terms["hand_angle_acc"] = w.hand_angle_acc * (
            _second_diff(st["hand_azi"], fps).abs().mean()
            + _second_diff(st["hand_ele"], fps).abs().mean())
        terms["object_rotation_acc"] = w.object_rotation_acc * _norm(
            _second_diff(st["obj_rot"], fps)).mean()
        # hand-object interaction
        v_hand = _velocity(st["hand_pos"], fps)
        inter = 0.0
        for i in range(self.spec.num_objects):
            dist = _norm(verts[1 + i] - st["hand_pos"][:, None, :]).min(-1).values
            p = 1.0 - torch.sigmoid(w.interaction_slope * dist - w.interaction_offset)
            if i == self.spec.manipulated_object:
                p = torch.where(model.touch, torch.ones_like(p), p)
            v_obj = _velocity(st["obj_pos"][:, i], fps)
            inter = inter + (p * _norm(v_obj - v_hand) + (1 - p) * _norm(v_obj)).mean()
        terms["interaction"] = w.interaction * inter
        if w.hand_table > 0:
            terms["hand_table"] = w.hand_table * (-verts[0][..., 2].min(-1).values).clamp(
                min=0).mean()
        if w.hand_object > 0:
            depth = 0.0
            for i in range(self.spec.num_objects):
                d = _sphere_depth(st["hand_pos"], cfg.model.hand_radius, st["obj_pos"][:, i],
                                  st["obj_size"][:, i], st["obj_rotmat"][:, i])
                if i == self.spec.manipulated_object:
                    d = torch.where(model.touch, torch.zeros_like(d), d)
                depth = depth + d.mean()
            terms["hand_object"] = w.hand_object * depth
        if w.penetration > 0 and self.spec.num_objects == 2:
            terms["penetration"] = w.penetration * box_penetration(verts[1], verts[2]).mean()
        total = sum(terms.values())
        return total, {**terms, **{f"silhouette/{k}": v for k, v in sil_raw.items()}}, renders


# --- public entry point ---------------------------------------------------------------------


def estimate(inputs: MaskSequence, action, config: PerceptionConfig | None = None,
             progress: bool | Callable[[int, int, float], None] = False) -> EstimateResult:
    """Estimate the coarse 3D state trajectory of one video from its masks.

    Args:
        inputs: the masks (and optional touch flags) at the video's frame rate.
        action: action name / template id / :class:`ActionSpec` (decides 1 or 2 objects,
            the manipulated object and whether it may be lifted).
        config: parameters; defaults of :class:`PerceptionConfig` when None.
        progress: True shows a tqdm bar; a callable gets ``(iteration, total, loss)``.

    Returns:
        :class:`EstimateResult` with the raw and aligned trajectories, final losses, the
        predicted phase, timing and fit-quality flags.

    Raises:
        real2sim_core.errors.InputError: the masks do not fit the action (object count), a
            track is never observed, or the configured renderer backend is unavailable.
    """
    from .errors import MaskShapeError

    t0 = time.perf_counter()
    cfg = config or PerceptionConfig()
    spec = get_action(action)
    if inputs.num_objects != spec.num_objects:
        raise MaskShapeError(
            f"action {spec.name!r} needs {spec.num_objects} object track(s) but the masks have "
            f"{inputs.num_objects} ({', '.join(inputs.tracks)})"
        )
    inputs.check_tracks_present()
    threads = torch.get_num_threads()
    if cfg.optim.torch_threads:
        torch.set_num_threads(cfg.optim.torch_threads)
    try:
        return _estimate(inputs, spec, cfg, progress, t0)
    finally:
        torch.set_num_threads(threads)


def _estimate(seq: MaskSequence, spec: ActionSpec, cfg: PerceptionConfig, progress, t0):
    notes = list(seq.notes)
    touch_given = seq.touch is not None
    touch = (np.asarray(seq.touch, dtype=float) if touch_given
             else estimate_touch(seq, cfg.touch))
    touch = (touch > 0.5).astype(float)
    warnings, severe = input_warnings(seq, touch, spec, cfg)
    for text in warnings:
        log.warning("video %s: %s", seq.video_id, text)
    prob = _Problem(seq, spec, cfg, touch)
    rng = np.random.default_rng(cfg.model.seed)
    torch.manual_seed(cfg.model.seed)
    if cfg.model.init_from_masks:
        init, init_notes = init_from_masks(seq, spec, cfg, prob.intr_full, rng)
        notes += init_notes
    else:
        init = StateModel.random_init(seq.num_frames, spec, cfg, rng)
    model = StateModel(seq.num_frames, spec, cfg, touch, init)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    t1 = time.perf_counter()
    iters = cfg.optim.iterations
    history = []
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=iters, desc=f"estimate {seq.video_id or ''}".strip(), unit="it",
                   leave=False)
    for it in range(iters):
        opt.zero_grad(set_to_none=True)
        total, _, _ = prob.losses(model, prob.sigma(it, iters))
        total.backward()
        opt.step()
        lv = float(total.detach())
        history.append(lv)
        if bar is not None:
            bar.update(1)
            if it % 20 == 0:
                bar.set_postfix(loss=f"{lv:.3f}")
        elif callable(progress):
            progress(it, iters, lv)
    if bar is not None:
        bar.close()
    t2 = time.perf_counter()
    with torch.no_grad():
        sigma_end = prob.sigma(iters, iters)
        total, terms, renders = prob.losses(model, sigma_end)
        st = model.states()
        d, az, el = model.camera()
    losses = {k: float(v) for k, v in terms.items()}
    losses["total"] = float(total)
    k_n, t_n = len(seq.tracks), seq.num_frames
    rendered = np.full((k_n,) + tuple(prob.targets.shape[1:]), np.nan, dtype=np.float32)
    ious = {}
    for k, (idx, img) in enumerate(renders):
        if img is None:
            continue
        rendered[k, idx.numpy()] = img.numpy()
        a = img.numpy() > 0.5
        b = prob.targets[k, idx].numpy() > 0.5
        ious[seq.tracks[k]] = float((a & b).sum() / max((a | b).sum(), 1))
    traj = StateTrajectory(
        times=np.arange(t_n) / seq.fps,
        hand_pos=st["hand_pos"].detach().numpy().astype(float),
        hand_azi=st["hand_azi"].detach().numpy().astype(float),
        hand_ele=st["hand_ele"].detach().numpy().astype(float),
        obj_pos=st["obj_pos"].detach().numpy().astype(float),
        obj_rot=st["obj_rot"].detach().numpy().astype(float),
        obj_size=st["obj_size"].detach().numpy().astype(float),
        touch=touch,
        camera=Camera(float(d), float(az), float(el)),
        fps=seq.fps,
        action=spec.name,
        video_id=seq.video_id,
        warnings=tuple(warnings),
    )
    found = detect_phase(traj.obj_pos[:, spec.manipulated_object], touch, seq.fps, cfg.phase)
    phase = found if found is not None else (0, t_n)
    part = traj.slice(*phase) if cfg.phase.aligned_phase_only else traj
    aligned = align(part, scale=ALIGN_SCALE)
    if cfg.phase.aligned_phase_only and found is not None:
        # states_aligned.csv says which frames it holds; without a detectable phase it holds
        # the whole video and no phase (training refuses it as a demonstration)
        aligned.phase = found
    plaus = check_trajectory(aligned, spec.name)
    q = cfg.quality
    failed = [name for name in seq.tracks
              if losses.get(f"silhouette/{name}", 0.0) > q.max_silhouette_loss
              or ious.get(name, 1.0) < q.min_iou]
    flags = {
        # bad input fails the fit when it is severe or the result is not plausible
        "fit_ok": not failed and not severe and (plaus.plausible or not warnings),
        "failed_tracks": failed,
        "warnings": warnings,
        "input_ok": not warnings,
        "plausible": plaus.plausible,
        "plausibility": plaus.reason,
        **{f"iou/{k}": v for k, v in ious.items()},
        "touch_source": "input" if touch_given else "estimated from masks",
        "hand_length": prob.hand_length,
        "renderer": prob.renderer.name,
        "notes": notes,
    }
    if failed:
        log.warning("video %s: fit failed for %s (silhouette loss / IoU beyond thresholds)",
                    seq.video_id, ", ".join(failed))
    t3 = time.perf_counter()
    timing = {"prepare": t1 - t0, "optimise": t2 - t1, "total": t3 - t0,
              "iterations": iters, "s_per_iteration": (t2 - t1) / max(iters, 1),
              "torch_threads": torch.get_num_threads()}
    return EstimateResult(traj, aligned, losses, phase, timing, flags, touch, rendered,
                          prob.targets.numpy(), history)
