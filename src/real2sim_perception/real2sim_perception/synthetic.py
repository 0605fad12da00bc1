"""Synthetic ground truth: known state trajectories rendered into masks at 12 fps.

:func:`make_trajectory` scripts a plausible demonstration of an action in the state model
(random camera; a hand cylinder that approaches, pushes / pulls / picks up / carries and
puts down cuboids, then leaves); :func:`render_masks` projects it with the same camera model
as the estimator into binary masks; :func:`generate` does both. The trajectories follow the
state model's conventions, including the estimator's touch tying (in touching frames the
fingertip is at the manipulated object's centre), so an exact estimator could reproduce them.

Motion directions are scripted in the aligned frame (+x = image right, +y = away from the
camera) and rotated by the camera azimuth into the world frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from real2sim_core.actions import get_action
from real2sim_core.trajectory import ALIGN_SCALE, DEFAULT_FPS, Camera, StateTrajectory, align

from real2sim_core import frames

from .camera import Intrinsics, camera_center_torch, camera_rotation_torch
from .config import PerceptionConfig
from .inputs import MaskSequence, track_names
from .render import ConvexSilhouetteRenderer
from .shapes import cuboid_vertices, hand_vertices

__all__ = [
    "SyntheticConfig",
    "make_trajectory",
    "render_masks",
    "generate",
    "position_errors",
]


@dataclass
class SyntheticConfig:
    """Ranges of the random scenes (metres, degrees, frames).

    Attributes:
        num_frames: frames per video.
        fps: frame rate.
        image_height: rendered frame rows (the estimator's camera assumes this height for
            its field of view).
        image_width: rendered frame columns.
        camera_distance: (min, max) camera distance to the origin, m.
        camera_azimuth_deg: (min, max) camera azimuth.
        camera_elevation_deg: (min, max) camera elevation.
        object_size: (min, max) cuboid edge length, m.
        displacement: (min, max) push/pull travel and put carrying distance, m.
        lift: (min, max) pick-up lift, m.
        hand_elevation_deg: (min, max) hand elevation while approaching, deg.
    """

    num_frames: int = 36
    fps: float = DEFAULT_FPS
    image_height: int = 240
    image_width: int = 427
    camera_distance: tuple[float, float] = (0.5, 0.8)
    camera_azimuth_deg: tuple[float, float] = (-30.0, 30.0)
    camera_elevation_deg: tuple[float, float] = (25.0, 55.0)
    object_size: tuple[float, float] = (0.05, 0.09)
    displacement: tuple[float, float] = (0.12, 0.2)
    lift: tuple[float, float] = (0.08, 0.15)
    hand_elevation_deg: tuple[float, float] = (10.0, 40.0)


def _smoothstep(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def make_trajectory(action, rng: np.random.Generator | int = 0,
                    cfg: SyntheticConfig | None = None) -> StateTrajectory:
    """A scripted demonstration of ``action`` in the raw world frame (known camera).

    Timeline (fractions of the video): approach 0-0.3 (the hand moves to the manipulated
    object), action 0.3-0.75 (touching; the object moves), leave 0.75-1 (the hand withdraws).
    """
    cfg = cfg or SyntheticConfig()
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    spec = get_action(action)
    t_n = cfg.num_frames
    u = np.linspace(0.0, 1.0, t_n)
    ta, tb = 0.3, 0.75
    act = (u >= ta) & (u < tb)
    s = _smoothstep((u - ta) / (tb - ta))  # 0 -> 1 over the action phase
    n = spec.num_objects

    def uni(r):
        return float(rng.uniform(*r))

    size = np.stack([[uni(cfg.object_size) for _ in range(3)] for _ in range(n)])
    pos = np.zeros((t_n, n, 3))
    pos[:, :, 2] = size[:, 2] / 2
    start = np.array([uni((-0.05, 0.05)), uni((-0.05, 0.05))])
    m = spec.manipulated_object
    hand_az = np.zeros(t_n)
    hand_el = np.full(t_n, math.radians(uni(cfg.hand_elevation_deg)))
    if spec.kind in ("push", "pull"):
        d = spec.direction * uni(cfg.displacement)
        pos[:, 0, :2] = start
        pos[:, 0, 0] += d * s
        # push: pointing along the motion; pull: pointing against it
        point = spec.direction if spec.kind == "push" else -spec.direction
        hand_az[:] = 0.0 if point > 0 else math.pi
        hand_az += rng.normal(0.0, 0.15)
    elif spec.kind == "pick_up":
        pos[:, 0, :2] = start
        pos[:, 0, 2] += uni(cfg.lift) * s
        hand_az[:] = math.pi / 2 + rng.normal(0.0, 0.4)
        hand_el[:] = math.radians(uni((35.0, 60.0)))
    else:  # put: object 1 carried from a start point to its place next to object 0
        pos[:, 0, :2] = start
        gap = 0.5 * (size[0, :2].max() + size[1, :2].max()) + uni((0.02, 0.06))
        rel = {"behind": (0.0, 1.0), "in_front_of": (0.0, -1.0),
               "next_to": (float(rng.choice([-1.0, 1.0])), 0.0), "onto": (0.0, 0.0)}
        dx, dy = rel[spec.relation]
        goal = start + gap * np.array([dx, dy])
        goal_z = size[1, 2] / 2 + (size[0, 2] if spec.relation == "onto" else 0.0)
        ang = rng.uniform(0, 2 * math.pi)
        from_xy = goal + uni(cfg.displacement) * np.array([math.cos(ang), math.sin(ang)])
        if spec.relation != "onto":  # start on the far side, away from object 0
            from_xy = goal + uni(cfg.displacement) * np.array([dx, dy] if (dx or dy) else
                                                              [1.0, 0.0])
        lift = uni((0.05, 0.1))
        pos[:, 1, :2] = from_xy[None] + (goal - from_xy)[None] * s[:, None]
        pos[:, 1, 2] = size[1, 2] / 2 + np.sin(np.pi * s) * lift
        pos[u >= tb, 1, 2] = goal_z
        pos[u >= tb, 1, :2] = goal
        blend = s
        pos[:, 1, 2] = np.where(u >= tb, goal_z,
                                (1 - blend) * size[1, 2] / 2 + blend * goal_z
                                + np.sin(np.pi * s) * lift)
        hand_az[:] = math.pi / 2 + rng.normal(0.0, 0.4)
        hand_el[:] = math.radians(uni((30.0, 50.0)))
    touch = act.astype(float)
    # fingertip: at the object centre while touching; approach from / leave to a point
    # behind the hand's pointing direction
    direction = frames.hand_direction(hand_az, hand_el)
    contact = pos[:, m]
    approach_from = contact[0] - 0.25 * direction[0] + np.array([0, 0, 0.05])
    leave_to = contact[-1] - 0.25 * direction[-1] + np.array([0, 0, 0.08])
    a = _smoothstep(u / ta)[:, None]
    b = _smoothstep((u - tb) / (1 - tb))[:, None]
    hand = np.where((u < ta)[:, None], (1 - a) * approach_from + a * contact[int(ta * (t_n - 1))
                                                                              + 1],
                    np.where((u >= tb)[:, None], (1 - b) * contact + b * leave_to, contact))
    hand[:, 2] = np.maximum(hand[:, 2], 0.03)
    cam = Camera(uni(cfg.camera_distance), math.radians(uni(cfg.camera_azimuth_deg)),
                 math.radians(uni(cfg.camera_elevation_deg)))
    # scripted in the aligned axes: rotate by the camera azimuth into the world frame
    rz = frames.rot_z(cam.azimuth)
    rot = np.zeros((t_n, n, 3))
    rot[:, :, 2] = rng.normal(0.0, 0.3, size=n)[None]  # a fixed yaw per object
    rot = frames.matrix_to_rotvec(rz @ frames.rotvec_to_matrix(rot))
    return StateTrajectory(
        times=np.arange(t_n) / cfg.fps,
        hand_pos=hand @ rz.T,
        hand_azi=hand_az + cam.azimuth,
        hand_ele=hand_el,
        obj_pos=pos @ rz.T,
        obj_rot=rot,
        obj_size=np.broadcast_to(size, (t_n, n, 3)).copy(),
        touch=touch,
        camera=cam,
        fps=cfg.fps,
        action=spec.name,
        video_id=f"synthetic-{spec.name}",
    )


@torch.no_grad()
def render_masks(traj: StateTrajectory, cfg: SyntheticConfig | None = None,
                 pcfg: PerceptionConfig | None = None, include_touch: bool = True
                 ) -> MaskSequence:
    """Binary masks of ``traj`` (hand cylinder of the wrist length, cuboids) at full size.

    Args:
        traj: raw-frame trajectory with its camera.
        cfg: image size.
        pcfg: camera field of view and hand shape (the estimator's configuration).
        include_touch: put the trajectory's touch flags into the masks' ``touch``.
    """
    cfg = cfg or SyntheticConfig()
    pcfg = pcfg or PerceptionConfig()
    intr = Intrinsics.from_fov(pcfg.camera.fov_y_deg, cfg.image_height, cfg.image_width)
    c = traj.camera
    d = torch.float64
    rot = camera_rotation_torch(torch.tensor(c.azimuth, dtype=d), torch.tensor(c.elevation,
                                                                              dtype=d))
    cen = camera_center_torch(torch.tensor(c.distance, dtype=d), torch.tensor(c.azimuth,
                                                                             dtype=d),
                              torch.tensor(c.elevation, dtype=d))
    m = pcfg.model
    verts = [hand_vertices(torch.as_tensor(traj.hand_pos), torch.as_tensor(traj.hand_azi),
                           torch.as_tensor(traj.hand_ele), m.hand_radius, m.hand_length_wrist,
                           pcfg.render.cylinder_segments)]
    for i in range(traj.num_objects):
        verts.append(cuboid_vertices(torch.as_tensor(traj.obj_pos[:, i]),
                                     torch.as_tensor(traj.obj_size[:, i]),
                                     torch.as_tensor(traj.obj_rot[:, i])))
    r = ConvexSilhouetteRenderer()
    masks = np.stack([(r.signed_distance(v, rot, cen, intr, pcfg.camera.near) < 0).numpy()
                      for v in verts])
    return MaskSequence(
        masks=masks, tracks=track_names(traj.num_objects), fps=traj.fps,
        touch=traj.touch.copy() if include_touch else None, hand_covers_forearm=False,
        video_id=traj.video_id, source="synthetic",
    )


def generate(action, seed: int = 0, cfg: SyntheticConfig | None = None,
             pcfg: PerceptionConfig | None = None, include_touch: bool = True
             ) -> tuple[StateTrajectory, MaskSequence]:
    """A random demonstration of ``action``: ``(ground-truth trajectory, masks)``."""
    traj = make_trajectory(action, np.random.default_rng(seed), cfg)
    return traj, render_masks(traj, cfg, pcfg, include_touch)


def position_errors(truth: StateTrajectory, est: StateTrajectory,
                    scale: float = ALIGN_SCALE) -> dict:
    """Fingertip and manipulated-object position errors after alignment, in object sizes.

    Both trajectories (raw frame, same frames) are aligned (:func:`align`), positions are
    compared per frame, and errors are divided by the ground-truth manipulated object's mean
    edge length (aligned scale).

    Returns:
        ``{"fingertip": median, "object": median, "object_size_m": ...}``.
    """
    a, b = align(truth, scale=scale), align(est, scale=scale)
    m = get_action(truth.action).manipulated_object
    size = float(a.obj_size[:, m].mean())
    tip = np.linalg.norm(a.hand_pos - b.hand_pos, axis=-1) / size
    obj = np.linalg.norm(a.obj_pos[:, m] - b.obj_pos[:, m], axis=-1) / size
    return {"fingertip": float(np.median(tip)), "object": float(np.median(obj)),
            "object_size_m": size}
