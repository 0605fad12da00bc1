"""Demonstrations -> the imitation reward of METHOD section 6 (paper Eq. 5-7).

Each demonstration (a :class:`~real2sim_core.trajectory.StateTrajectory`) is an **action-phase
demonstration**: the estimated trajectory cut to its predicted action phase and aligned in space
(METHOD section 4; what ``real2sim estimate`` writes into ``states_aligned.csv``). Whole-video or
unaligned trajectories are refused: squeezing the approach and the retreat into the window would
teach them as part of the action. Then:

1. (spatial alignment was done by the estimator: the aligned frame, scale 1.5);
2. temporal alignment: the action-phase frames are mapped linearly onto the action window
   [3 s, 7 s] (``retimed``); before/after the window the first/last state holds;
3. resampling at the control times ``t_k = k / 12`` s, k = 1..120 (the state after step k);
4. targets: object positions with z measured at the object's bottom (``max(z - size_z/2, 0)``);
   after the window the hand target is the manipulated object's (bottom-measured) position
   lifted by ``dz`` = 0.2 m; the gripper-closing term is active in frames inside the window
   where the demonstration touches.

Per step k and demonstration d the reward is
``sum_terms s * exp(-0.5 * b * distance) / horizon`` with the terms

=================  =====================================================  ======  ======
term               distance                                               s       b
=================  =====================================================  ======  ======
object position    squared Euclidean, summed over objects (bottom z)      0.5     100
hand position      squared Euclidean (fingertip)                          0.2     100
hand angles        squared wrapped azimuth + elevation difference         0.2     10
object rotation    squared quaternion angle, summed over objects          0.05    10
gripper closing    ``(opening - (radius - 0.005))^2`` (touching frames)   0.05    10000
=================  =====================================================  ======  ======

The other object of a two-object action has its own position term, ``other_obj_pos``
(METHOD: the object position term's s and b).

Multi-video reward: ``mean`` over demonstrations (proposed) or ``max`` (DeepMimic baseline).
Everything is vectorised over demonstrations with numpy: arrays are ``(K, D, ...)`` for K
control steps and D demonstrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import ConfigError, check_choice, check_range
from real2sim_core.errors import InputError

from real2sim_core import frames

__all__ = ["RewardTerm", "RewardConfig", "DemoReward", "REDUCTIONS"]

REDUCTIONS = ("mean", "max", "single")

OBJ_POS = (0.5, 100.0)
"""(s, b) of the object position term (METHOD section 6), for every object by default."""


@dataclass
class RewardTerm:
    """Weight ``s`` and length-scale ``b`` of one reward term: ``s * exp(-0.5 * b * d)``."""

    s: float | None = None
    b: float | None = None

    def __post_init__(self):
        for name in ("s", "b"):
            if getattr(self, name) is None:
                raise ConfigError(f"RewardTerm.{name} is missing; a reward term needs both s "
                                  "(weight) and b (length-scale)")
        check_range(self, "s", 0.0)
        check_range(self, "b", 0.0)


@dataclass
class RewardConfig:
    """Reward settings (METHOD sections 4 and 6).

    Attributes:
        obj_pos / hand_pos / hand_angles / obj_rot / gripper: the terms' s and b.
        other_obj_pos: two-object actions: the position term of the object the hand does not
            manipulate (METHOD: the same as ``obj_pos``). The demonstrations hold it still, and
            a put fails when it moves 1 cm (METHOD section 8), which METHOD's length-scale
            barely pays for: 0.5 (1 - exp(-50 d^2)) is 0.0025 at d = 1 cm. A larger ``b``
            (as the gripper term's 10000) makes such a shove cost.
        reduction: ``"mean"`` (proposed), ``"max"`` (DeepMimic baseline) or ``"single"``
            (exactly one demonstration required).
        window_start / window_end: the action window, s.
        dz: lift of the hand target above the object after the window, m.
        grip_margin: the gripper target is ``radius - grip_margin``, m.
        resolve_overlap: two-object actions only; ``False`` (METHOD) compares the simulated
            objects with the demonstrations' positions as they are. ``True``: at each step, where
            a demonstration's targets would put the two simulated cylinders (the episode's own
            radii and heights) into each other, the manipulated object's target is moved out
            of the other one the shortest way: sideways until the cylinders touch, or up onto
            the other's top. The estimated boxes are not the simulated cylinders (their sizes
            differ, and three of the five put-next-to estimates end 5-7 cm from the other
            object, closer than two 4-5 cm cylinders can stand), so taken as they are such
            targets can only be reached by shoving the other object. The hand's targets are
            left as they are (see ``hand_at_object``).
        hand_at_object: ``False`` (METHOD) takes the demonstrations' fingertip positions as the
            hand's targets. ``True``: at the control times where a demonstration touches the
            object, up to the window's end, the fingertip's target is the manipulated object's
            target *centre* in the simulation (its bottom-measured target raised by half the
            simulated object's height; with ``resolve_overlap``, the resolved target): the tie of
            METHOD section 2 (in touching frames the fingertip is the manipulated object's
            position) applied to the simulated object. The estimator holds a carried object at
            its box's surface instead (``perception.model.grasp_offset``), 5-15 cm from the
            centre of boxes the size of the videos' objects; a simulated gripper holds a 4-5 cm
            cylinder between its fingers, so those positions are where it holds nothing.
    """

    obj_pos: RewardTerm = field(default_factory=lambda: RewardTerm(*OBJ_POS))
    other_obj_pos: RewardTerm = field(default_factory=lambda: RewardTerm(*OBJ_POS))
    hand_pos: RewardTerm = field(default_factory=lambda: RewardTerm(0.2, 100.0))
    hand_angles: RewardTerm = field(default_factory=lambda: RewardTerm(0.2, 10.0))
    obj_rot: RewardTerm = field(default_factory=lambda: RewardTerm(0.05, 10.0))
    gripper: RewardTerm = field(default_factory=lambda: RewardTerm(0.05, 10000.0))
    reduction: str = "mean"
    window_start: float = 3.0
    window_end: float = 7.0
    dz: float = 0.2
    grip_margin: float = 0.005
    resolve_overlap: bool = False
    hand_at_object: bool = False

    def __post_init__(self):
        check_choice(self, "reduction", REDUCTIONS)
        check_range(self, "window_start", 0.0)
        check_range(self, "window_end", self.window_start, lo_open=True)
        check_range(self, "grip_margin", 0.0)


class DemoReward:
    """The reward of one or many demonstrations, precomputed at the control times.

    Args:
        demos: list of :class:`StateTrajectory` of one action: action-phase demonstrations in
            the aligned frame (at least 2 frames each).
        action: the action name (defaults to the demonstrations' action).
        config: :class:`RewardConfig`.
        horizon: control steps per episode. control_hz: control rate, Hz.

    Attributes (targets, K = horizon + 1 rows for k = 0..horizon, D demonstrations, N objects):
        times: (K,) s. obj_pos: (K, D, N, 3) bottom-measured. hand_pos: (K, D, 3).
        obj_height: (K, D, N) the estimated boxes' heights (size z).
        hand_azi / hand_ele: (K, D). obj_quat: (K, D, N, 4). grip_active: (K, D) bool.
        touch: (K, D) the demonstrations' touch values. tied: (K, D) bool, the times whose
        hand target is the object's centre (:attr:`RewardConfig.hand_at_object`; all False
        without it).

    The instance is the env's ``reward_fn``: ``reward(step, sim_state) -> float``.
    """

    def __init__(self, demos, action=None, config: RewardConfig | None = None,
                 horizon: int = 120, control_hz: float = 12.0):
        self.config = cfg = config or RewardConfig()
        demos = list(demos)
        if not demos:
            raise InputError("DemoReward: no demonstrations given")
        if cfg.reduction == "single" and len(demos) != 1:
            raise InputError(
                f"DemoReward: reduction 'single' needs exactly one demonstration, got {len(demos)}"
            )
        name = action or demos[0].action
        if not name:
            raise InputError("DemoReward: the demonstrations name no action; pass action=")
        self.action = get_action(name)
        n_obj = self.action.num_objects
        for i, d in enumerate(demos):
            if d.action and get_action(d.action).name != self.action.name:
                raise InputError(
                    f"DemoReward: demonstration {i} ({d.video_id or 'no id'}) is of action "
                    f"{d.action!r}, not {self.action.name!r}"
                )
            if d.num_objects != n_obj:
                raise InputError(
                    f"DemoReward: demonstration {i} has {d.num_objects} object(s); "
                    f"{self.action.name} needs {n_obj}"
                )
            if not d.aligned:
                raise InputError(
                    f"DemoReward: demonstration {i} ({d.video_id or 'no id'}) is not in the "
                    "aligned frame; rewards take action-phase demonstrations (the estimator's "
                    "states_aligned.csv, METHOD 4), not whole raw videos"
                )
            if d.num_frames < 2:
                raise InputError(
                    f"DemoReward: demonstration {i} ({d.video_id or 'no id'}) has "
                    f"{d.num_frames} action-phase frame(s); at least 2 are needed"
                )
        self.horizon = horizon
        self.times = np.arange(horizon + 1) / control_hz
        k_n, d_n = len(self.times), len(demos)
        self.obj_pos = np.zeros((k_n, d_n, n_obj, 3))
        self.obj_quat = np.zeros((k_n, d_n, n_obj, 4))
        self.obj_height = np.zeros((k_n, d_n, n_obj))
        self.hand_pos = np.zeros((k_n, d_n, 3))
        self.hand_azi = np.zeros((k_n, d_n))
        self.hand_ele = np.zeros((k_n, d_n))
        touch = np.zeros((k_n, d_n))
        for i, d in enumerate(demos):
            r = d.retimed(cfg.window_start, cfg.window_end).interpolate(self.times)
            pos = r.obj_pos.copy()
            pos[..., 2] = np.maximum(pos[..., 2] - r.obj_size[..., 2] / 2, 0.0)
            self.obj_pos[:, i] = pos
            self.obj_height[:, i] = r.obj_size[..., 2]
            self.obj_quat[:, i] = frames.rotvec_to_quat(r.obj_rot)
            self.hand_pos[:, i] = r.hand_pos
            self.hand_azi[:, i] = r.hand_azi
            self.hand_ele[:, i] = r.hand_ele
            touch[:, i] = r.touch
        after = self.times > cfg.window_end + 1e-9
        m = self.action.manipulated_object
        self.hand_pos[after] = self.obj_pos[after][:, :, m] + np.array([0.0, 0.0, cfg.dz])
        inside = (self.times >= cfg.window_start - 1e-9) & (self.times <= cfg.window_end + 1e-9)
        self.inside = inside  # (K,) control times inside the action window
        self.grip_active = inside[:, None] & (touch > 0.5)
        self.touch = touch
        self.tied = ((touch > 0.5) & ~after[:, None]) if cfg.hand_at_object else \
            np.zeros_like(touch, dtype=bool)
        self.num_demos = d_n

    # -- evaluation ---------------------------------------------------------------------------

    def per_demo(self, steps, hand_pos, hand_azi, hand_ele, opening, obj_pos, obj_quat,
                 heights, radii) -> np.ndarray:
        """Per-demonstration rewards (already divided by the horizon), vectorised.

        Args:
            steps: (K,) int control-step indices (1..horizon: the state after step k).
            hand_pos: (K, 3) fingertip, m. hand_azi / hand_ele: (K,) rad. opening: (K,) m.
            obj_pos: (K, N, 3) object centres, m. obj_quat: (K, N, 4) x, y, z, w.
            heights / radii: (N,) m, shared by all K rows, or (K, N): one set per row (the
                states of several environments evaluated at once).

        Returns:
            (K, D) rewards.
        """
        cfg = self.config
        k = np.clip(np.asarray(steps, dtype=int).reshape(-1), 0, self.horizon)
        hp = np.asarray(hand_pos, dtype=float).reshape(-1, 1, 3)
        op = np.array(obj_pos, dtype=float).reshape(len(k), -1, 3)
        n_obj = self.obj_pos.shape[2]
        op = op[:, :n_obj]
        op[..., 2] -= np.asarray(heights, dtype=float)[..., :n_obj] / 2
        oq = np.asarray(obj_quat, dtype=float).reshape(len(k), -1, 4)[:, None, :n_obj]
        az = np.asarray(hand_azi, dtype=float).reshape(-1, 1)
        el = np.asarray(hand_ele, dtype=float).reshape(-1, 1)
        op_ = op[:, None]  # (K, 1, N, 3)

        def term(t: RewardTerm, dist):
            return t.s * np.exp(-0.5 * t.b * dist)

        target = self.obj_pos[k]  # (K, D, N, 3), bottom-measured
        if cfg.resolve_overlap and n_obj == 2:
            target = self._resolve_overlap(target, heights, radii)
        d_obj = np.sum((target - op_) ** 2, axis=-1)  # (K, D, N)
        m = self.action.manipulated_object
        r = term(cfg.obj_pos, d_obj[..., m])
        if n_obj == 2:
            r += term(cfg.other_obj_pos, d_obj[..., 1 - m])
        hand_target = self._tie(k, target, heights)
        r += term(cfg.hand_pos, np.sum((hand_target - hp) ** 2, axis=-1))
        d_ang = frames.angle_difference(az, self.hand_azi[k]) ** 2 + (el - self.hand_ele[k]) ** 2
        r += term(cfg.hand_angles, d_ang)
        ang = frames.quat_angle(self.obj_quat[k], oq)  # (K, D, N)
        r += term(cfg.obj_rot, ang ** 2).sum(-1)
        radius = np.asarray(radii, dtype=float)[..., self.action.manipulated_object]
        g = (np.asarray(opening, dtype=float).reshape(-1, 1)
             - (np.reshape(radius, (-1, 1)) - cfg.grip_margin)) ** 2
        r += self.grip_active[k] * term(cfg.gripper, g)
        return r / self.horizon

    def _tie(self, k, target, heights) -> np.ndarray:
        """Hand targets (K, D, 3) of the control steps ``k``: the manipulated object's
        ``target`` (K, D, N, 3, bottom-measured) centre where :attr:`tied`, else the
        demonstrations' fingertip (:attr:`RewardConfig.hand_at_object`). ``heights``: (N,) or
        (K, N) simulated object heights, or (K, D, N) one per demonstration."""
        m = self.action.manipulated_object
        h = np.asarray(heights, dtype=float)[..., m]  # (), (K,) or (K, D)
        if h.ndim == 1:
            h = h[:, None]
        centre = target[:, :, m].copy()
        centre[..., 2] += h / 2
        return np.where(self.tied[k][..., None], centre, self.hand_pos[k])

    def hand_targets(self) -> np.ndarray:
        """The hand's targets (K, D, 3) at every control time as far as the demonstrations tell
        them: their fingertip, or where :attr:`tied` the centre of their own estimated box
        (which the reward replaces by the simulated object's centre). The warm-start teacher
        tracks these: it does not observe the simulated object."""
        return self._tie(np.arange(len(self.times)), self.obj_pos, self.obj_height)

    def _resolve_overlap(self, target, heights, radii) -> np.ndarray:
        """``target`` (K, D, 2, 3) with the manipulated object's position moved out of the other
        object (:attr:`RewardConfig.resolve_overlap`) for the simulated ``heights`` / ``radii``
        ((N,) or (K, N)); z is measured at the objects' bottoms."""
        m = self.action.manipulated_object
        o = 1 - m
        k_n = target.shape[0]
        h = np.broadcast_to(np.asarray(heights, dtype=float)[..., :2], (k_n, 2))
        r = np.broadcast_to(np.asarray(radii, dtype=float)[..., :2], (k_n, 2))
        moved, other = target[:, :, m], target[:, :, o]  # (K, D, 3)
        dxy = moved[..., :2] - other[..., :2]
        dist = np.linalg.norm(dxy, axis=-1)  # (K, D)
        reach = (r[:, m] + r[:, o])[:, None]
        side = reach - dist  # > 0: the footprints overlap
        # vertical overlap of [bottom, bottom + height] intervals; up = lift onto the other's top
        up = (other[..., 2] + h[:, None, o]) - moved[..., 2]
        down = (moved[..., 2] + h[:, None, m]) - other[..., 2]
        inside = (side > 0) & (up > 0) & (down > 0)
        if not inside.any():
            return target
        out = target.copy()
        lift = inside & ((up <= side) | (dist < 1e-9))
        push = inside & ~lift
        out[..., m, 2] += np.where(lift, up, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(dist[..., None] > 1e-9, dxy / dist[..., None], 0.0)
        out[..., m, :2] += np.where(push[..., None], u * side[..., None], 0.0)
        return out

    def reduce(self, per_demo: np.ndarray) -> np.ndarray:
        """(K, D) -> (K,) by the configured reduction (mean, max or the single video)."""
        if self.config.reduction == "max":
            return per_demo.max(axis=-1)
        return per_demo.mean(axis=-1)

    def __call__(self, step: int, state) -> float:
        """Reward after control step ``step`` for a :class:`~real2sim_policy.env.SimState`."""
        r = self.per_demo([step], state.hand_pos, [state.hand_azi], [state.hand_ele],
                          [state.opening], state.obj_pos[None], state.obj_quat[None],
                          state.heights, state.radii)
        return float(self.reduce(r)[0])

    def max_step_reward(self) -> float:
        """The largest possible reward of one step (all terms at distance 0), per horizon."""
        c = self.config
        n = self.obj_pos.shape[2]
        other = c.other_obj_pos.s if n == 2 else 0.0
        return (c.obj_pos.s + other + c.hand_pos.s + c.hand_angles.s + n * c.obj_rot.s
                + c.gripper.s) / self.horizon
