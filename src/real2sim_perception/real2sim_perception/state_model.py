"""The state model of one video (METHOD section 2): :class:`StateModel`, the learnable,
normalised (tanh / sigmoid) parameters of the camera, the hand and the cuboid objects of all
frames and the constraints that turn them into states (object 0 on the table, the manipulated
object resting until the first touch, the fingertip tied to it in touching frames), plus the
geometry helpers on those states that other modules share: :func:`box_penetration`,
:func:`sphere_depth`, :func:`norm`, and the clipped inverses of the normalisation
(:func:`atanh_clipped`, :func:`logit_clipped`) that turn initial states into raw values.

Imports no rclpy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from real2sim_core.actions import ActionSpec
from real2sim_core.frames import rotvec_to_matrix_torch

from .config import PerceptionConfig

__all__ = ["DTYPE", "StateModel", "atanh_clipped", "box_penetration", "logit_clipped", "norm",
           "sphere_depth", "uses_grasp_offset"]

#: dtype of the state parameters and of the tensors the fit builds from them
DTYPE = torch.float32


# --- geometry helpers -----------------------------------------------------------------------


def _half_height(rotmat, size):
    """Half the vertical extent ``(T,)`` of cuboids with rotation matrices ``(T, 3, 3)`` and
    sizes ``(T, 3)``: the centre height at which the lowest corner touches the table,
    ``0.5 sum_j |R_zj| s_j``."""
    return 0.5 * (rotmat[..., 2, :].abs() * size).sum(-1)


def sphere_depth(point, radius: float, center, size, rotmat):
    """How deep ``(T,)`` a sphere at ``point`` ``(T, 3)`` reaches into cuboids (centres, sizes
    ``(T, 3)``, rotation matrices ``(T, 3, 3)``), m (0 outside): ``radius`` minus the distance
    from the sphere centre to the box (negative inside)."""
    local = ((point - center)[..., None, :] @ rotmat).squeeze(-2)  # R^T (p - c)
    q = local.abs() - 0.5 * size
    outside = norm(q.clamp(min=0.0))
    inside = q.max(-1).values.clamp(max=0.0)
    return (radius - (outside + inside)).clamp(min=0.0)


def box_penetration(verts_a, verts_b):
    """How deep ``(T,)`` two bodies given by their vertices ``(T, V, 3)`` overlap, m: the
    smallest per-axis overlap of their world-axis-aligned bounding boxes (0 when apart)."""
    overlap = (torch.minimum(verts_a.max(1).values, verts_b.max(1).values)
               - torch.maximum(verts_a.min(1).values, verts_b.min(1).values))  # (T, 3)
    return overlap.min(-1).values.clamp(min=0.0)


def norm(x, dim=-1):
    """Euclidean norm along ``dim``, smoothed (``+1e-12`` under the root) so that its gradient
    is finite at 0."""
    return torch.sqrt((x * x).sum(dim) + 1e-12)


def atanh_clipped(x, bound=0.995):
    """``arctanh`` of ``x`` clipped to ``[-bound, bound]``: the raw value of a tanh-normalised
    state (numpy)."""
    return np.arctanh(np.clip(x, -bound, bound))


def logit_clipped(x, bound=1e-3):
    """Logit of ``x`` clipped to ``[bound, 1 - bound]``: the raw value of a sigmoid-normalised
    state (numpy)."""
    x = np.clip(x, bound, 1 - bound)
    return np.log(x / (1 - x))


# --- the state model -----------------------------------------------------------------------


class StateModel(torch.nn.Module):
    """Learnable, normalised state parameters of one video (METHOD section 2).

    Raw parameters -> states:

    * camera: distance = max(raw, min_distance) m; azimuth = max_az * tanh(a);
      elevation = max_el * sigmoid(e);
    * hand: fingertip = 1.5 m * tanh(p); azimuth unbounded (raw); elevation = pi/2 tanh(e);
      in touching frames the fingertip is the manipulated object's centre instead (plus
      ``tanh(g) (size / 2 + hand radius)``, one raw ``g`` per video, where
      :func:`uses_grasp_offset`);
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
        self.cam_d = p(torch.tensor(float(init["cam_d"]), dtype=DTYPE))
        self.cam_a = p(torch.tensor(float(init["cam_a"]), dtype=DTYPE))
        self.cam_e = p(torch.tensor(float(init["cam_e"]), dtype=DTYPE))
        self.hand_p = p(torch.as_tensor(init["hand_p"], dtype=DTYPE))
        self.hand_az = p(torch.as_tensor(init["hand_az"], dtype=DTYPE))
        self.hand_e = p(torch.as_tensor(init["hand_e"], dtype=DTYPE))
        self.obj_s = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=DTYPE)) for s in init["obj_s"]])
        self.obj_p = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=DTYPE)) for s in init["obj_p"]])
        self.obj_r = torch.nn.ParameterList(
            [p(torch.as_tensor(s, dtype=DTYPE)) for s in init["obj_r"]])
        self.lift = p(torch.as_tensor(init["lift"], dtype=DTYPE))
        self.support = p(torch.tensor(float(cfg.model.init_support_param), dtype=DTYPE))
        self.grasp = p(torch.zeros(3, dtype=DTYPE))  # raw grasp offset (``grasp_offset``)
        self.uses_grasp_offset = uses_grasp_offset(cfg.model.grasp_offset, spec)
        touch_t = torch.as_tensor(np.asarray(touch) > 0.5)
        self.register_buffer("touch", touch_t)
        touched = np.where(touch_t.numpy())[0]
        first = int(touched[0]) if len(touched) else num_frames
        last = int(touched[-1]) if len(touched) else num_frames
        plausible = cfg.model.plausible_objects
        lifted = torch.zeros(num_frames, dtype=torch.bool)
        if spec.carries_object:
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

        def size_rows(i):
            return 1 if m.rigid_size else frames_of(i)

        return {
            "cam_d": cfg.camera.init_distance,
            "cam_a": cfg.camera.init_azimuth_param,
            "cam_e": cfg.camera.init_elevation_param,
            "hand_p": m.init_std * rng.standard_normal((t, 3)),
            "hand_az": m.init_std * rng.standard_normal(t) + math.radians(m.init_hand_azimuth_deg),
            "hand_e": m.init_std * rng.standard_normal(t),
            "obj_s": [m.init_std * rng.standard_normal((size_rows(i), 3)) for i in range(n)],
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
        lifting = self.spec.carries_object
        for i in range(self.n_obj):
            manip = i == self.manip
            raw_s, raw_p, rot = self.obj_s[i], self.obj_p[i], self.obj_r[i]
            if manip and raw_p.shape[0] == t:
                raw_p, rot = raw_p[self.manip_rows], rot[self.manip_rows]
                if raw_s.shape[0] == t:
                    raw_s = raw_s[self.manip_rows]
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
        held = obj_pos[:, self.manip]
        if self.uses_grasp_offset:  # at the surface: centre + offset within half size + radius
            held = held + torch.tanh(self.grasp) * (0.5 * sizes[self.manip] + m.hand_radius)
        hand_pos = torch.where(self.touch[:, None], held, free)
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


def uses_grasp_offset(mode: str, spec: ActionSpec) -> bool:
    """Whether the fingertip holds the manipulated object at its surface (a learned offset
    from its centre) rather than at its centre (METHOD 2) in touching frames.

    ``mode`` is ``ModelConfig.grasp_offset``: ``carried`` (only actions that carry the object:
    pick up and put), ``all`` or ``none``.
    """
    return mode == "all" or (mode == "carried" and spec.carries_object)
