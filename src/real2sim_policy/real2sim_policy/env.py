"""The pybullet gripper world of METHOD section 5 as a gymnasium environment.

World (the aligned frame of METHOD section 4): z up, table plane at z = 0, metres, radians.

* **Hand**: a floating multibody whose base frame is the *fingertip* point of the state model.
  Its +z axis is the hand direction (``frames.hand_direction``), the fingers open along +y
  (``frames.gripper_quat_from_hand_angles``). The palm is a box behind the finger joints, which
  sit 0.0584 m behind the fingertip (hand frame z = -0.0584); two prismatic fingers (boxes,
  0.02 m thick) slide along +y / -y, opening 0..0.075 m each side of the centre, and reach
  0.02 m beyond the fingertip point. A gear constraint keeps both fingers at the same opening
  (symmetric jaws), each finger motor pushes with at most 20 N.
* **Kinematic motion**: the hand base is a heavy (1000 kg) dynamic body whose velocity is *reset*
  before every physics substep (``resetBaseVelocity``) to the commanded twist, with gravity
  pre-compensated and the position drift of the previous control step corrected. Unlike
  ``resetBasePositionAndOrientation`` (teleporting) this gives the contacts a true velocity, so
  friction can carry a grasped object; unlike a constraint it tracks exactly and costs one call
  per substep. Contacts cannot deflect the hand noticeably (mass ratio 1000:1).
* **Objects**: upright cylinders (pybullet primitive), mass 1 kg, friction 1, restitution 0.
  Object 0 rests on the table; in two-object actions object 1 starts in the closed gripper, its
  axis along the gripper x axis (perpendicular to the hand direction and to the opening), its
  centre at the fingertip.
* **Table**: a plane with friction resampled uniformly in ``[0, 0.05]`` at every reset.
* **Timing**: control at 12 Hz, 10 physics substeps (120 Hz), horizon 120 steps (10 s).

Action (7,), each component mapped through tanh (METHOD 5): linear velocity ``0.3 tanh(a[0:3])``
m/s in the world frame, angular velocity ``pi tanh(a[3:6])`` rad/s about the world x, y, z axes
(for the 1/120 s substeps identical to composing xyz Euler increments, to second order), finger
opening ``0.0375 tanh(a[6]) + 0.0375`` m. From the end of the action window (t >= 7 s) the
gripper is forced open (forced closed for *pick up*).

Observation (8,) float32: ``[t / 10, hand position (3), hand rotation vector (3), opening]``.
The privileged state for a value function (``info["privileged"]``, and
:meth:`GripperEnv.privileged_observation`) is (16,) float32: for each of 2 object slots
``[position (3), rotation vector (3), height, radius]`` (zeros for an absent second object).

Training mode (``EnvConfig.training``) ends an episode early (``terminated``) when the hand
touches the table or ``|hand elevation| > 85 deg``; evaluation always runs all 120 steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pybullet as pb
from pybullet_utils import bullet_client
from real2sim_core.actions import ActionSpec, get_action
from real2sim_core.config import check_range
from real2sim_core.errors import InputError
from real2sim_core.plan import MAX_PLAN_OPENING

from real2sim_core import frames

from .spaces import OBS_DIM, PRIVILEGED_DIM

__all__ = [
    "EnvConfig",
    "SamplerConfig",
    "StartState",
    "SimState",
    "GripperEnv",
    "NonFiniteActionError",
    "FINGER_OPEN",
    "FINGER_JOINT_OFFSET",
    "POSITION_LIMIT",
    "OBS_DIM",
    "fast_elevation",
    "fast_rotvec",
    "PRIVILEGED_DIM",
]

FINGER_OPEN = MAX_PLAN_OPENING
"""Maximum opening of each finger from the centre, m (the widest a gripper plan holds)."""
POSITION_LIMIT = 5.0
"""The world the env observes: hand and object coordinates lie in [-5, 5] m on every axis (its
observation space); start states beyond are refused."""
FINGER_JOINT_OFFSET = 0.0584
"""The finger joints lie this far behind the fingertip point along the hand direction, m."""
FINGER_REACH = 0.02
"""How far the finger boxes reach beyond the fingertip point along the hand direction, m."""
FINGER_THICKNESS = 0.02
PALM_HALF_EXTENTS = (0.03, 0.10, 0.045)
_GRAVITY = -9.81
# object 1 in the gripper: its axis (cylinder z) along the gripper x axis = rot_y(pi/2)
_HELD_OBJECT_QUAT = (0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4))


def fast_rotvec(quat) -> tuple[float, float, float]:
    """Rotation vector of an (x, y, z, w) quaternion, angle in [0, pi] (the same result as
    ``frames.quat_to_rotvec``, tested; pybullet's C conversion is ~50x faster per call)."""
    axis, angle = pb.getAxisAngleFromQuaternion(quat)
    if angle > math.pi:
        angle -= 2.0 * math.pi
    return axis[0] * angle, axis[1] * angle, axis[2] * angle


def fast_elevation(quat) -> float:
    """Hand elevation (rad, positive down) of a gripper orientation: -asin(z of its +z axis)."""
    m = pb.getMatrixFromQuaternion(quat)  # row-major 3x3; column 2 = gripper +z
    return math.asin(max(-1.0, min(1.0, -m[8])))


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
        training: end episodes early on table contact / elevation singularity.
        max_elevation_deg: the singularity limit of training mode, deg.
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
    solver_iterations: int = 20
    finger_torsional_friction: float = 0.01
    couple_fingers: bool = True
    hull_sections: int = 0
    settle_substeps: int = 60

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
        check_range(self, "solver_iterations", 1, 1000)
        check_range(self, "finger_torsional_friction", 0.0, 1.0)
        check_range(self, "hull_sections", 0, 256)
        check_range(self, "settle_substeps", 0, 10000)

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
    """

    scale: float = 0.01
    std: float = 0.005
    height_min: float = 0.04
    height_max: float = 0.10
    radius_min: float = 0.04
    radius_max: float = 0.05
    two_object_anchor: list[float] = field(default_factory=lambda: [0.0, -0.15, 0.06])
    max_tries: int = 100

    def __post_init__(self):
        check_range(self, "scale", 0.0, 1.0)
        check_range(self, "std", 0.0, 1.0)
        check_range(self, "height_min", 0.0, lo_open=True)
        check_range(self, "height_max", self.height_min)
        check_range(self, "radius_min", 0.0, lo_open=True)
        check_range(self, "radius_max", self.radius_min, FINGER_OPEN)
        check_range(self, "max_tries", 1)
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


class GripperEnv(gym.Env):
    """Parallel-jaw gripper + cylinders in pybullet DIRECT mode (see the module docstring).

    Args:
        action: the action name (sets the number of objects and the forced gripper state).
        config: simulation settings.
        sampler: reset sampler settings (used when no start state is given to :meth:`reset`).
        reward_fn: optional callable ``reward_fn(step, SimState) -> float`` called after every
            control step (``step`` = 1..horizon); its ``reset(env)`` is called on reset when
            present. Without it the reward is 0.

    Reset options (``env.reset(seed=..., options={...})``):
        ``start``: a :class:`StartState` (e.g. a benchmark row) instead of a sampled one.
        ``sampler_scale`` / ``sampler_std``: override the ADR parameters from now on.
    """

    metadata = {"render_modes": []}

    def __init__(self, action="push_left_to_right", config: EnvConfig | None = None,
                 sampler: SamplerConfig | None = None, reward_fn=None):
        super().__init__()
        self.spec_action: ActionSpec = get_action(action)
        self.config = config or EnvConfig()
        self.sampler = sampler or SamplerConfig()
        self.reward_fn = reward_fn
        self.num_objects = self.spec_action.num_objects
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(7,), dtype=np.float32)
        hi = np.array([1.0] + [POSITION_LIMIT] * 3 + [math.pi] * 3 + [FINGER_OPEN],
                      dtype=np.float32)
        lo = np.array([0.0] + [-POSITION_LIMIT] * 3 + [-math.pi] * 3 + [0.0], dtype=np.float32)
        self.observation_space = gym.spaces.Box(lo, hi, dtype=np.float32)
        self._obs_lo, self._obs_hi = lo, hi
        self._client = bullet_client.BulletClient(connection_mode=pb.DIRECT)
        self._cid = self._client._client
        self._anchors: np.ndarray | None = None
        self._dt_sub = 1.0 / (self.config.control_hz * self.config.substeps)
        self._forced_opening = 0.0 if self.spec_action.kind == "pick_up" else FINGER_OPEN
        self._step = 0
        self._hand = -1
        self._plane = -1
        self._objects: list[int] = []
        self.heights = np.zeros(self.num_objects)
        self.radii = np.zeros(self.num_objects)
        self.table_friction = 0.0
        self.start_state: StartState | None = None
        self._p_cmd = np.zeros(3)

    # -- construction -------------------------------------------------------------------------

    def _build(self, start: StartState, table_friction: float) -> None:
        c = self._client
        cfg = self.config
        c.resetSimulation()
        c.setGravity(0.0, 0.0, _GRAVITY)
        c.setTimeStep(self._dt_sub)
        c.setPhysicsEngineParameter(numSolverIterations=cfg.solver_iterations,
                                    deterministicOverlappingPairs=1)
        plane_shape = c.createCollisionShape(pb.GEOM_PLANE)
        self._plane = c.createMultiBody(0.0, plane_shape)
        c.changeDynamics(self._plane, -1, lateralFriction=table_friction, restitution=0.0)
        self.table_friction = table_friction

        # hand: base = fingertip frame; palm box behind the finger joints
        palm = c.createCollisionShape(
            pb.GEOM_BOX, halfExtents=PALM_HALF_EXTENTS,
            collisionFramePosition=[0.0, 0.0, -FINGER_JOINT_OFFSET - PALM_HALF_EXTENTS[2]],
        )
        half_len = 0.5 * (FINGER_JOINT_OFFSET + FINGER_REACH)
        ht = 0.5 * FINGER_THICKNESS
        fingers = [
            c.createCollisionShape(pb.GEOM_BOX, halfExtents=[0.01, ht, half_len],
                                   collisionFramePosition=[0.0, s * ht, half_len])
            for s in (1.0, -1.0)
        ]
        hand_quat = frames.gripper_quat_from_hand_angles(start.hand_azi, start.hand_ele)
        self._hand = c.createMultiBody(
            baseMass=cfg.hand_mass,
            baseCollisionShapeIndex=palm,
            basePosition=start.hand_pos.tolist(),
            baseOrientation=hand_quat.tolist(),
            linkMasses=[0.1, 0.1],
            linkCollisionShapeIndices=fingers,
            linkVisualShapeIndices=[-1, -1],
            linkPositions=[[0.0, 0.0, -FINGER_JOINT_OFFSET]] * 2,
            linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * 2,
            linkInertialFramePositions=[[0.0, 0.0, 0.0]] * 2,
            linkInertialFrameOrientations=[[0.0, 0.0, 0.0, 1.0]] * 2,
            linkParentIndices=[0, 0],
            linkJointTypes=[pb.JOINT_PRISMATIC] * 2,
            linkJointAxis=[[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]],
        )
        for link in (-1, 0, 1):
            c.changeDynamics(self._hand, link, lateralFriction=cfg.object_friction,
                             restitution=0.0, linearDamping=0.0, angularDamping=0.0,
                             spinningFriction=cfg.finger_torsional_friction if link >= 0 else 0)
        # couple the fingers (a real parallel-jaw gripper is symmetric): q0 = q1
        if cfg.couple_fingers:
            gear = c.createConstraint(self._hand, 0, self._hand, 1, pb.JOINT_GEAR, [0, 1, 0],
                                      [0, 0, 0], [0, 0, 0])
            c.changeConstraint(gear, gearRatio=-1, erp=0.2, maxForce=200)
        opening0 = start.obj1_radius if self.num_objects == 2 else FINGER_OPEN
        for j in (0, 1):
            c.resetJointState(self._hand, j, opening0)
        self._set_opening(opening0)

        self._objects = []
        self.heights = np.array([start.obj0_height, start.obj1_height][: self.num_objects])
        self.radii = np.array([start.obj0_radius, start.obj1_radius][: self.num_objects])
        self._add_object(0, start.obj0_pos.tolist(), [0.0, 0.0, 0.0, 1.0])
        self._settle()
        if self.num_objects == 2:  # the carried object goes in after object 0 has settled
            pos, quat = c.multiplyTransforms(start.hand_pos.tolist(), hand_quat.tolist(),
                                             [0.0, 0.0, 0.0], _HELD_OBJECT_QUAT)
            self._add_object(1, pos, quat)
            for j in (0, 1):
                c.resetJointState(self._hand, j, opening0)

    def _add_object(self, i: int, pos, quat) -> None:
        c = self._client
        cfg = self.config
        shape = self._cylinder_shape(float(self.radii[i]), float(self.heights[i]))
        body = c.createMultiBody(cfg.object_mass, shape, basePosition=list(pos),
                                 baseOrientation=list(quat))
        c.changeDynamics(body, -1, lateralFriction=cfg.object_friction, restitution=0.0,
                         rollingFriction=0.0, spinningFriction=0.0)
        self._objects.append(body)

    def _settle(self) -> None:
        """Let object 0 come to rest on the table with the hand held still, before t = 0.

        Without this, a cylinder placed exactly on the table rocks by ~0.3 mm in the first
        frames, which the benchmark's motion test (|v_x| > 1 mm/s) would count as motion.
        """
        c = self._client
        hold = [0.0, 0.0, -_GRAVITY * self._dt_sub]
        for _ in range(self.config.settle_substeps):
            c.resetBaseVelocity(self._hand, hold, [0.0, 0.0, 0.0])
            c.stepSimulation()
        c.resetBaseVelocity(self._hand, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        for body in self._objects:
            c.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        self._p_cmd = np.asarray(c.getBasePositionAndOrientation(self._hand)[0])

    def _cylinder_shape(self, radius: float, height: float) -> int:
        c = self._client
        n = self.config.hull_sections
        if n == 0:
            return c.createCollisionShape(pb.GEOM_CYLINDER, radius=radius, height=height)
        ang = np.arange(n) * (2 * math.pi / n)
        ring = np.stack([radius * np.cos(ang), radius * np.sin(ang)], axis=1)
        verts = [[x, y, z] for z in (-height / 2, height / 2) for x, y in ring]
        return c.createCollisionShape(pb.GEOM_MESH, vertices=verts,
                                      flags=pb.URDF_INITIALIZE_SAT_FEATURES)

    def _set_opening(self, opening: float) -> None:
        o = min(max(float(opening), 0.0), FINGER_OPEN)
        f = self.config.finger_force
        pb.setJointMotorControlArray(
            self._hand, [0, 1], pb.POSITION_CONTROL, targetPositions=[o, o], forces=[f, f],
            positionGains=[0.3, 0.3], physicsClientId=self._cid,
        )

    # -- sampling -----------------------------------------------------------------------------

    def set_anchors(self, anchors) -> None:
        """Fingertip offsets ``(K, 3)`` m for two-object resets (one drawn per reset)."""
        a = np.asarray(anchors, dtype=float).reshape(-1, 3)
        if not np.isfinite(a).all() or len(a) == 0:
            raise InputError("set_anchors: anchors must be a non-empty finite (K, 3) array")
        self._anchors = a

    def sample_start(self) -> StartState:
        """Draw one start state from the ADR sampler (METHOD section 7) with ``self.np_random``."""
        s = self.sampler
        rng = self.np_random
        az = rng.uniform(-2 * math.pi, 2 * math.pi) * s.scale + math.pi / 2
        el = math.radians(rng.uniform(-80.0, 80.0)) * s.scale
        h0 = rng.uniform(s.height_min, s.height_max)
        r0 = rng.uniform(s.radius_min, s.radius_max)
        h1 = rng.uniform(s.height_min, s.height_max)
        r1 = rng.uniform(s.radius_min, s.radius_max)
        tip = np.array([rng.normal(0, s.std), rng.normal(0, s.std), h0 / 2 + rng.normal(0, s.std)])
        if self.num_objects == 2:
            if self._anchors is not None:
                tip = tip + self._anchors[rng.integers(len(self._anchors))]
            else:
                tip = tip + np.asarray(s.two_object_anchor)
        return StartState(tip, az, el, np.array([0.0, 0.0, h0 / 2]), h0, r0, h1, r1)

    def _hand_touches_table_at(self, start: StartState) -> bool:
        """Whether the hand of ``start`` touches the table, without building its world.

        The hand geometry is the same in every world, so the current world's hand is moved to
        the start's pose and finger opening and tested against the table (the world is
        rebuilt by :meth:`_build` anyway). A start whose hand touches the table is rejected
        by :meth:`_colliding` after the build as well (the settle holds the hand still); this
        test saves the build and settle of about half the sampled starts. Equality of the two
        decisions: ``tests/policy/test_env.py::test_table_probe_matches_the_built_world``.
        """
        if self._hand < 0:
            return False  # no world yet
        cid, hand = self._cid, self._hand
        # the gripper frame of frames.gripper_quat_from_hand_angles is Rz(azi) Ry(pi/2 + ele)
        # (its columns: x = y cross z, y = (-sin azi, cos azi, 0), z = the hand direction);
        # pybullet's C conversion is ~100x faster than scipy's and equal to ~1e-16
        quat = pb.getQuaternionFromEuler([0.0, math.pi / 2 + start.hand_ele, start.hand_azi])
        pb.resetBasePositionAndOrientation(hand, start.hand_pos.tolist(), quat,
                                           physicsClientId=cid)
        opening0 = start.obj1_radius if self.num_objects == 2 else FINGER_OPEN
        for j in (0, 1):
            pb.resetJointState(hand, j, opening0, physicsClientId=cid)
        return len(pb.getClosestPoints(hand, self._plane, 0.0, physicsClientId=cid)) > 0

    def _colliding(self) -> bool:
        c = self._client
        pairs = [(self._hand, self._plane), (self._hand, self._objects[0])]
        if self.num_objects == 2:
            pairs += [(self._objects[1], self._plane), (self._objects[1], self._objects[0])]
        return any(len(c.getClosestPoints(a, b, 0.0)) > 0 for a, b in pairs)

    # -- gymnasium API ------------------------------------------------------------------------

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = options or {}
        if "sampler_scale" in options or "sampler_std" in options:
            self.sampler = SamplerConfig(
                **{**self.sampler.__dict__,
                   "scale": float(options.get("sampler_scale", self.sampler.scale)),
                   "std": float(options.get("sampler_std", self.sampler.std))}
            )
        cfg = self.config
        friction = float(self.np_random.uniform(cfg.table_friction_min, cfg.table_friction_max))
        start = options.get("start")
        if start is not None:
            if not isinstance(start, StartState):
                raise InputError(f"reset: options['start'] must be a StartState, got {start!r}")
            self._build(start, friction)
        else:
            tries = self.sampler.max_tries
            for i in range(tries):
                start = self.sample_start()
                if i < tries - 1 and self._hand_touches_table_at(start):
                    continue  # rejected without building its world (the last try is built)
                self._build(start, friction)
                if not self._colliding():
                    break
        self.start_state = start
        self._step = 0
        if self.reward_fn is not None and hasattr(self.reward_fn, "reset"):
            self.reward_fn.reset(self)
        return self._observation(), {"privileged": self.privileged_observation()}

    def step(self, action):
        terminated = self.advance(action)
        raw = self.read_raw()
        obs = self._observation(raw)
        reward = 0.0
        if self.reward_fn is not None and not terminated:
            reward = float(self.reward_fn(self._step, self._sim_state(raw)))
        truncated = self._step >= self.config.horizon and not terminated
        return obs, reward, terminated, truncated, {"privileged": self._privileged(raw)}

    def advance(self, action) -> bool:
        """The physics half of :meth:`step`: check and apply ``action``, run the substeps.

        Returns ``terminated`` (training mode: the hand touches the table or its elevation
        passed the singularity limit; always False in evaluation mode). The step's outputs are
        then built from :meth:`read_raw` (what :meth:`step` does, and what a batch of envs
        does for all of them at once: :mod:`real2sim_policy.vec_env`).
        """
        a = np.asarray(action, dtype=float).reshape(-1)
        if a.shape != (7,):
            raise InputError(f"step: action must have 7 values, got shape {np.shape(action)}")
        if not np.isfinite(a).all():
            raise NonFiniteActionError(
                f"step {self._step}: the policy returned a non-finite action {a.tolist()}"
            )
        cfg = self.config
        hand, cid = self._hand, self._cid
        th = np.tanh(a)
        t = self._step * cfg.control_dt
        if t >= cfg.action_end - 1e-9:
            self._set_opening(self._forced_opening)
        else:
            self._set_opening(0.5 * FINGER_OPEN * (th[6] + 1.0))
        v = cfg.max_linear_speed * th[0:3]
        w = (cfg.max_angular_speed * th[3:6]).tolist()
        pos, _ = pb.getBasePositionAndOrientation(hand, physicsClientId=cid)
        # commanded (kinematic) position at the end of this step, and the drift to correct
        drift = self._p_cmd - np.asarray(pos)
        self._p_cmd = self._p_cmd + v * cfg.control_dt
        lin = v + drift / cfg.control_dt
        lin_list = [lin[0], lin[1], lin[2] - _GRAVITY * self._dt_sub]
        reset_vel, step_sim = pb.resetBaseVelocity, pb.stepSimulation
        for _ in range(cfg.substeps):  # raw pybullet calls: the client wrapper costs ~20 %
            reset_vel(hand, lin_list, w, physicsClientId=cid)
            step_sim(physicsClientId=cid)
        self._step += 1
        if not cfg.training:
            return False
        quat = pb.getBasePositionAndOrientation(hand, physicsClientId=cid)[1]
        el = fast_elevation(quat)
        return abs(el) > math.radians(cfg.max_elevation_deg) or \
            len(pb.getContactPoints(hand, self._plane, physicsClientId=cid)) > 0

    def read_raw(self) -> tuple:
        """One read of the simulator for the step outputs: ``(hand position, hand quaternion,
        opening, [(object position, object quaternion), ...])`` as pybullet returns them."""
        cid, get_pose = self._cid, pb.getBasePositionAndOrientation
        hp, hq = get_pose(self._hand, physicsClientId=cid)
        js = pb.getJointStates(self._hand, (0, 1), physicsClientId=cid)
        return hp, hq, 0.5 * (js[0][0] + js[1][0]), \
            [get_pose(b, physicsClientId=cid) for b in self._objects]

    def close(self):
        if self._client is not None:
            try:
                self._client.disconnect()
            except pb.error:
                pass
            self._client = None

    def __del__(self):  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    # -- state access -------------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        """Control steps taken since the reset."""
        return self._step

    @property
    def time(self) -> float:
        """Simulated time since the reset, s."""
        return self._step * self.config.control_dt

    @property
    def client(self):
        """The pybullet client of this env (for tests and visualisation)."""
        return self._client

    def opening(self) -> float:
        """Current finger opening (mean of both fingers), m."""
        js = self._client.getJointStates(self._hand, [0, 1])
        return 0.5 * (js[0][0] + js[1][0])

    def hand_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Fingertip position (3,) m and orientation (4,) x, y, z, w."""
        p, q = self._client.getBasePositionAndOrientation(self._hand)
        return np.asarray(p), np.asarray(q)

    def object_poses(self) -> tuple[np.ndarray, np.ndarray]:
        """Object centres (N, 3) m and orientations (N, 4) x, y, z, w."""
        poses = [self._client.getBasePositionAndOrientation(b) for b in self._objects]
        return np.array([p for p, _ in poses]), np.array([q for _, q in poses])

    def object_touches(self, i: int, j: int | None = None) -> bool:
        """Whether object ``i`` touches object ``j`` (``None``: the table)."""
        other = self._plane if j is None else self._objects[j]
        return len(self._client.getContactPoints(self._objects[i], other)) > 0

    def hand_touches(self, i: int) -> bool:
        """Whether the hand (palm or fingers) touches object ``i``."""
        return len(self._client.getContactPoints(self._hand, self._objects[i])) > 0

    def hand_touches_table(self) -> bool:
        return len(self._client.getContactPoints(self._hand, self._plane)) > 0

    def _observation(self, raw=None) -> np.ndarray:
        hp, hq, opening, _ = raw or self.read_raw()
        obs = np.array([self._step * self.config.control_dt / 10.0, *hp, *fast_rotvec(hq),
                        opening],
                       dtype=np.float32)
        # = np.clip(obs, lo, hi) (numpy defines clip as min(max(x, lo), hi)), without its
        # Python-level dispatch
        return np.minimum(np.maximum(obs, self._obs_lo), self._obs_hi)

    def privileged_observation(self) -> np.ndarray:
        """(16,) float32: per object slot position (3), rotation vector (3), height, radius."""
        return self._privileged(self.read_raw())

    def _privileged(self, raw) -> np.ndarray:
        out = np.zeros(PRIVILEGED_DIM, dtype=np.float32)
        for i, (p, q) in enumerate(raw[3]):
            out[8 * i: 8 * i + 8] = [*p, *fast_rotvec(q), self.heights[i], self.radii[i]]
        return out

    def sim_state(self) -> SimState:
        """The full simulator state now (see :class:`SimState`)."""
        return self._sim_state(self.read_raw())

    def _sim_state(self, raw) -> SimState:
        hp, hq, opening, objs = raw
        hq = np.asarray(hq)
        az, el = frames.hand_angles_from_gripper_quat(hq)
        return SimState(self.time, np.asarray(hp), hq, float(az), float(el), opening,
                        np.array([p for p, _ in objs]), np.array([q for _, q in objs]),
                        self.heights.copy(), self.radii.copy())
