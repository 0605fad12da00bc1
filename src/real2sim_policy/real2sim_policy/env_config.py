"""Settings and state records of the gripper world (:mod:`real2sim_policy.env`): its constants
(finger travel, hand geometry, world range), :class:`EnvConfig` (simulation, METHOD section 5),
:class:`SamplerConfig` (reset sampler / ADR, METHOD section 7), :class:`StartState` (a benchmark
row or a sample) and :class:`SimState` (a snapshot of the simulator). No pybullet here.
Lengths m, times s, angles rad unless a name says deg; the aligned frame of METHOD section 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from real2sim_core.config import check_range
from real2sim_core.errors import InputError
from real2sim_core.plan import MAX_PLAN_OPENING

__all__ = [
    "EnvConfig",
    "SamplerConfig",
    "StartState",
    "SimState",
    "NonFiniteActionError",
    "FINGER_OPEN",
    "POLICY_WORLD_FIELDS",
    "RETREAT_STEP",
    "FINGER_JOINT_OFFSET",
    "FINGER_REACH",
    "FINGER_THICKNESS",
    "PALM_HALF_EXTENTS",
    "POSITION_LIMIT",
]

FINGER_OPEN = MAX_PLAN_OPENING
"""Maximum opening of each finger from the centre, m (the widest a gripper plan holds)."""
POSITION_LIMIT = 5.0
"""The world the env observes: hand and object coordinates lie in [-5, 5] m on every axis (its
observation space); start states beyond are refused."""
RETREAT_STEP = 0.005
"""The step of :attr:`SamplerConfig.retreat`, m."""
POLICY_WORLD_FIELDS = ("max_finger_opening",)
"""The :class:`EnvConfig` settings that change what a policy's action does: a trained policy
records them (policy.json and the zip's metadata) and every env built to run it takes them."""
FINGER_JOINT_OFFSET = 0.0584
"""The finger joints lie this far behind the fingertip point along the hand direction, m."""
FINGER_REACH = 0.02
"""How far the finger boxes reach beyond the fingertip point along the hand direction, m."""
FINGER_THICKNESS = 0.02
PALM_HALF_EXTENTS = (0.03, 0.10, 0.045)


class NonFiniteActionError(InputError):
    """A policy produced a NaN/inf action; the rollout cannot continue."""


@dataclass
class EnvConfig:
    """Simulation settings (METHOD section 5). Lengths m, times s, angles deg where named so.

    Attributes:
        horizon: control steps per episode.
        control_hz: control rate, Hz.
        substeps: physics substeps per control step (physics rate = control_hz * substeps).
        action_start: start of the action window, s.
        action_end: end of the action window, s; afterwards the gripper is forced open/closed.
        max_linear_speed: hand speed at |tanh| = 1, m/s.
        max_angular_speed: hand angular speed at |tanh| = 1, rad/s.
        finger_force: maximum force of each finger motor, N.
        hand_mass: mass of the kinematically driven hand base, kg.
        object_mass: kg. object_friction: lateral friction of objects, hand and fingers.
        table_friction_min / table_friction_max: table friction is U[min, max] per reset.
        training: end episodes early on table contact, elevation singularity, or the hand
            pressing down on an object (``max_press_force``).
        max_elevation_deg: the singularity limit of training mode, deg.
        max_press_force: training mode ends an episode when the hand pushes down on an object
            with more normal force than this, N (the sum over the contacts of the normal
            force's downward part; 0 = no limit). The simulated hand is driven
            kinematically, so pressing onto an object that the table holds squeezes it
            sideways with hundreds of newtons; the Panda stops instead (the collision reflex
            of franka_ros2's example controllers: upper nominal force threshold 40 N) and
            the executor refuses such plans. A push from the side or a grasp adds no
            downward normal force; an object in the air gives way.
        solver_iterations: pybullet constraint solver iterations per substep.
        finger_torsional_friction: pybullet spinning friction of the finger pads, m (torque
            per newton of grip about the pad normal). Bullet's cylinder-on-box contact has no
            lever arm about the finger axis, so without it a grasped cylinder swings freely
            like a pendulum; real pads have area. 0.01 holds it (put onto: 60 -> 90 % of
            easy starts); larger values made the fingers stick to the object in bullet.
        couple_fingers: keep both fingers at the same opening (gear constraint).
        hull_sections: 0 = pybullet's primitive cylinder; n > 0 = an n-sided convex hull.
        settle_substeps: physics substeps run at reset, before t = 0, with the hand held
            still, so that the objects start at rest.
        max_finger_opening: how far each finger opens from the centre at most, m: the range
            of the gripper command a[6] and the opening forced after the action window.
            METHOD section 5 (default) = :data:`FINGER_OPEN`, 0.075 m; the Franka hand opens
            0.04 m a side (0.08 m in all), so a policy trained with 0.04 does only what the
            Panda's fingers can (results/NOTES.md). A policy records it (it changes what its
            action does) and the env built for it takes the recorded value
            (:data:`POLICY_WORLD_FIELDS`).
    """

    horizon: int = 120
    control_hz: float = 12.0
    substeps: int = 10
    action_start: float = 3.0
    action_end: float = 7.0
    max_linear_speed: float = 0.3
    max_angular_speed: float = math.pi
    finger_force: float = 20.0
    hand_mass: float = 1000.0
    object_mass: float = 1.0
    object_friction: float = 1.0
    table_friction_min: float = 0.0
    table_friction_max: float = 0.05
    training: bool = False
    max_elevation_deg: float = 85.0
    max_press_force: float = 40.0
    solver_iterations: int = 20
    finger_torsional_friction: float = 0.01
    couple_fingers: bool = True
    hull_sections: int = 0
    settle_substeps: int = 60
    max_finger_opening: float = FINGER_OPEN

    def __post_init__(self):
        check_range(self, "horizon", 1, 100000)
        check_range(self, "control_hz", 0.0, 1000.0, lo_open=True)
        check_range(self, "substeps", 1, 1000)
        check_range(self, "action_start", 0.0)
        check_range(self, "action_end", self.action_start, lo_open=True)
        check_range(self, "max_linear_speed", 0.0, lo_open=True)
        check_range(self, "max_angular_speed", 0.0, lo_open=True)
        check_range(self, "finger_force", 0.0, lo_open=True)
        check_range(self, "hand_mass", 0.0, lo_open=True)
        check_range(self, "object_mass", 0.0, lo_open=True)
        check_range(self, "object_friction", 0.0)
        check_range(self, "table_friction_min", 0.0)
        check_range(self, "table_friction_max", self.table_friction_min)
        check_range(self, "max_elevation_deg", 0.0, 90.0, lo_open=True)
        check_range(self, "max_press_force", 0.0)
        check_range(self, "solver_iterations", 1, 1000)
        check_range(self, "finger_torsional_friction", 0.0, 1.0)
        check_range(self, "hull_sections", 0, 256)
        check_range(self, "settle_substeps", 0, 10000)
        check_range(self, "max_finger_opening", 0.0, FINGER_OPEN, lo_open=True)

    @property
    def control_dt(self) -> float:
        return 1.0 / self.control_hz

    @property
    def episode_duration(self) -> float:
        return self.horizon / self.control_hz


@dataclass
class SamplerConfig:
    """The reset sampler with automatic domain randomisation (METHOD section 7).

    Attributes:
        scale: orientation randomisation scale in [0, 1]: azimuth ``U(-2pi, 2pi) * scale + pi/2``,
            elevation ``U(-80, 80) deg * scale``.
        std: hand position standard deviation, m: x, y ~ N(0, std), z = h/2 + N(0, std).
        height_min / height_max: object heights U[min, max], m.
        radius_min / radius_max: object radii U[min, max], m.
        two_object_anchor: for two-object actions, the fingertip (holding object 1) is offset by
            this point (x, y, z in m; by default above and in front of object 0). Trainers may
            replace it per reset with the demonstrations' initial object-1 positions
            (:meth:`GripperEnv.set_anchors`).
        max_tries: resampling attempts to find a collision-free start.
        retreat: m; 0 (METHOD) draws a start whose hand overlaps object 0 again. Above 0, such
            a start is moved back along the hand's axis (fingertip to wrist) in
            :data:`RETREAT_STEP` steps until the hand clears the object, at most this far (then
            it is drawn again). METHOD's early curriculum puts the fingertip at the object's
            centre, the object between the open fingers; fingers that open less than the
            objects are wide (``env.max_finger_opening`` 0.04, the Franka hand) overlap it at
            nearly every such start, and no draw is free.
    """

    scale: float = 0.01
    std: float = 0.005
    height_min: float = 0.04
    height_max: float = 0.10
    radius_min: float = 0.04
    radius_max: float = 0.05
    two_object_anchor: list[float] = field(default_factory=lambda: [0.0, -0.15, 0.06])
    max_tries: int = 100
    retreat: float = 0.0

    def __post_init__(self):
        check_range(self, "scale", 0.0, 1.0)
        check_range(self, "std", 0.0, 1.0)
        check_range(self, "height_min", 0.0, lo_open=True)
        check_range(self, "height_max", self.height_min)
        check_range(self, "radius_min", 0.0, lo_open=True)
        check_range(self, "radius_max", self.radius_min, FINGER_OPEN)
        check_range(self, "max_tries", 1)
        check_range(self, "retreat", 0.0, 1.0)
        if len(self.two_object_anchor) != 3:
            from real2sim_core.config import ConfigError

            raise ConfigError(
                f"SamplerConfig.two_object_anchor = {self.two_object_anchor!r} must have 3 "
                "values (x, y, z in m)"
            )


@dataclass
class StartState:
    """One start state (a benchmark row, or a sample), in the aligned frame.

    Attributes:
        hand_pos: fingertip position (3,), m.
        hand_azi / hand_ele: hand direction, rad (METHOD section 4 conventions).
        obj0_pos: centre of object 0 (3,), m (z = height / 2 when resting).
        obj0_height / obj0_radius: m.
        obj1_height / obj1_radius: object 1 (held in the gripper; two-object actions only), m.
    """

    hand_pos: np.ndarray
    hand_azi: float
    hand_ele: float
    obj0_pos: np.ndarray
    obj0_height: float
    obj0_radius: float
    obj1_height: float = 0.07
    obj1_radius: float = 0.045

    def __post_init__(self):
        self.hand_pos = np.asarray(self.hand_pos, dtype=float).reshape(3)
        self.obj0_pos = np.asarray(self.obj0_pos, dtype=float).reshape(3)
        vals = [*self.hand_pos, self.hand_azi, self.hand_ele, *self.obj0_pos, self.obj0_height,
                self.obj0_radius, self.obj1_height, self.obj1_radius]
        if not np.isfinite(vals).all():
            raise InputError(f"start state has non-finite values: {vals}")
        lim = POSITION_LIMIT
        for col, v in (("hposx", self.hand_pos[0]), ("hposy", self.hand_pos[1]),
                       ("hposz", self.hand_pos[2]), ("o0posx", self.obj0_pos[0]),
                       ("o0posy", self.obj0_pos[1]), ("o0posz", self.obj0_pos[2])):
            if not -lim <= v <= lim:
                raise InputError(
                    f"start state: {col} = {v:g} m is outside [{-lim:g}, {lim:g}] m (the "
                    "gripper world's range: its observation space)")
        if not -math.pi / 2 <= self.hand_ele <= math.pi / 2:
            raise InputError(f"start state: hele = {self.hand_ele:g} rad is outside "
                             f"[{-math.pi / 2:.4f}, {math.pi / 2:.4f}] rad (hand elevation)")
        for name in ("obj0_height", "obj0_radius", "obj1_height", "obj1_radius"):
            if getattr(self, name) <= 0:
                raise InputError(f"start state: {name} = {getattr(self, name)} must be > 0")
        for name in ("obj0_radius", "obj1_radius"):
            if getattr(self, name) > FINGER_OPEN:
                raise InputError(
                    f"start state: {name} = {getattr(self, name)} m does not fit the gripper "
                    f"(max {FINGER_OPEN} m)"
                )


@dataclass
class SimState:
    """A snapshot of the simulator at one control time (aligned frame).

    Attributes:
        time: s since the reset.
        hand_pos: (3,) fingertip, m. hand_quat: (4,) x, y, z, w.
        hand_azi / hand_ele: rad. opening: finger opening from the centre, m.
        obj_pos: (N, 3) object centres, m. obj_quat: (N, 4) x, y, z, w.
        heights / radii: (N,) m.
    """

    time: float
    hand_pos: np.ndarray
    hand_quat: np.ndarray
    hand_azi: float
    hand_ele: float
    opening: float
    obj_pos: np.ndarray
    obj_quat: np.ndarray
    heights: np.ndarray
    radii: np.ndarray
