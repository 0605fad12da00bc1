"""The pybullet gripper world of METHOD section 5 as a gymnasium environment.

World (the aligned frame of METHOD section 4): z up, table plane at z = 0, metres, radians.

* **Hand**: a floating multibody whose base frame is the *fingertip* point of the state model.
  Its +z axis is the hand direction (``frames.hand_direction``), the fingers open along +y
  (``frames.gripper_quat_from_hand_angles``). The palm is a box behind the finger joints, which
  sit 0.0584 m behind the fingertip (hand frame z = -0.0584); two prismatic fingers (boxes,
  0.02 m thick) slide along +y / -y, opening 0..m each side of the centre (m =
  ``env.max_finger_opening``, METHOD 0.075 m; the Franka hand 0.04 m), and reach
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
opening ``m / 2 (tanh(a[6]) + 1)`` m (0.0375 tanh(a[6]) + 0.0375 with METHOD's m). From the end
of the action window (t >= 7 s) the gripper is forced open to m (forced closed for *pick up*).

Observation (8,) float32: ``[t / 10, hand position (3), hand rotation vector (3), opening]``.
The privileged state for a value function (``info["privileged"]``, and
:meth:`GripperEnv.privileged_observation`) is (16,) float32: for each of 2 object slots
``[position (3), rotation vector (3), height, radius]`` (zeros for an absent second object).

Training mode (``EnvConfig.training``) ends an episode early (``terminated``) when the hand
touches the table, ``|hand elevation| > 85 deg``, or the hand presses down on an object with
more than ``EnvConfig.max_press_force`` (40 N); evaluation always runs all 120 steps.

This module holds :class:`GripperEnv` (the pybullet world); its settings, start states and state
snapshots are in :mod:`real2sim_policy.env_config` (re-exported here).
"""


from __future__ import annotations

import functools
import inspect
import math
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pybullet as pb
from real2sim_core.actions import ActionSpec, get_action
from real2sim_core.errors import InputError

from real2sim_core import frames

from .env_config import (
    FINGER_JOINT_OFFSET,
    FINGER_OPEN,
    FINGER_REACH,
    FINGER_THICKNESS,
    PALM_HALF_EXTENTS,
    POSITION_LIMIT,
    RETREAT_STEP,
    EnvConfig,
    NonFiniteActionError,
    SamplerConfig,
    SimState,
    StartState,
)
from .spaces import OBS_DIM, PRIVILEGED_DIM

__all__ = [
    "EnvConfig",
    "SamplerConfig",
    "StartState",
    "SimState",
    "BulletConnection",
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

_GRAVITY = -9.81
# object 1 in the gripper: its axis (cylinder z) along the gripper x axis = rot_y(pi/2)
_HELD_OBJECT_QUAT = (0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4))


class BulletConnection:
    """One headless (DIRECT) pybullet physics server, with pybullet's functions bound to it:
    ``conn.resetSimulation()`` is ``pb.resetSimulation(physicsClientId=conn.id)``.

    pybullet_utils' ``BulletClient`` does the same binding but connects with ``options=""``,
    which makes pybullet print ``argv[0]=`` once per environment (14 lines per training run);
    connecting without options prints nothing and starts the same server.
    """

    def __init__(self):
        self.id = pb.connect(pb.DIRECT)
        if self.id < 0:
            raise RuntimeError("pybullet could not start a DIRECT physics server")

    def __getattr__(self, name):
        attr = getattr(pb, name)
        if inspect.isbuiltin(attr):
            return functools.partial(attr, physicsClientId=self.id)
        return attr

    def disconnect(self) -> None:
        """Stop the server (idempotent)."""
        if self.id >= 0:
            cid, self.id = self.id, -1
            pb.disconnect(physicsClientId=cid)


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
        self._client = BulletConnection()
        self._cid = self._client.id
        self._anchors: np.ndarray | None = None
        self._dt_sub = 1.0 / (self.config.control_hz * self.config.substeps)
        self._forced_opening = (0.0 if self.spec_action.kind == "pick_up"
                                else self.config.max_finger_opening)
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

    def _build(self, start: StartState, table_friction: float, retreat: float = 0.0,
               ) -> StartState | None:
        """Build the world of ``start``. With ``retreat`` > 0 a hand overlapping object 0 is
        moved back along its axis until it clears it (:attr:`SamplerConfig.retreat`); returns
        the start as built, or None when the hand does not clear the object within
        ``retreat`` (the world is then unusable)."""
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
        opening0 = self._start_opening(start)
        for j in (0, 1):
            c.resetJointState(self._hand, j, opening0)
        self._set_opening(opening0)

        self._objects = []
        self.heights = np.array([start.obj0_height, start.obj1_height][: self.num_objects])
        self.radii = np.array([start.obj0_radius, start.obj1_radius][: self.num_objects])
        self._add_object(0, start.obj0_pos.tolist(), [0.0, 0.0, 0.0, 1.0])
        if retreat > 0:
            start = self._retreat_hand(start, hand_quat, retreat)
            if start is None:
                return None
        self._settle()
        if self.num_objects == 2:  # the carried object goes in after object 0 has settled
            pos, quat = c.multiplyTransforms(start.hand_pos.tolist(), hand_quat.tolist(),
                                             [0.0, 0.0, 0.0], _HELD_OBJECT_QUAT)
            self._add_object(1, pos, quat)
            for j in (0, 1):
                c.resetJointState(self._hand, j, opening0)
        return start

    def _retreat_hand(self, start: StartState, hand_quat, retreat: float) -> StartState | None:
        """``start`` with its hand moved back along its axis in :data:`RETREAT_STEP` steps until
        it clears object 0 (None when it does not within ``retreat`` m)."""
        c = self._client
        back = -frames.hand_direction(start.hand_azi, start.hand_ele)
        for k in range(int(round(retreat / RETREAT_STEP)) + 1):
            pos = start.hand_pos + k * RETREAT_STEP * back
            if k:
                c.resetBasePositionAndOrientation(self._hand, pos.tolist(), hand_quat.tolist())
            if not c.getClosestPoints(self._hand, self._objects[0], 0.0):
                return start if k == 0 else replace(start, hand_pos=pos)
        return None

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

    def _start_opening(self, start: StartState) -> float:
        """The finger opening at the start: around the held object (two-object actions), else
        wide open."""
        if self.num_objects == 1:
            return self.config.max_finger_opening
        if start.obj1_radius > self.config.max_finger_opening + 1e-12:
            raise InputError(
                f"start state: the held object's radius {start.obj1_radius:g} m is wider than "
                f"the fingers open (env.max_finger_opening = "
                f"{self.config.max_finger_opening:g} m a side); use a start with a narrower "
                "object or a wider env.max_finger_opening")
        return start.obj1_radius

    def _set_opening(self, opening: float) -> None:
        o = min(max(float(opening), 0.0), self.config.max_finger_opening)
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
        opening0 = self._start_opening(start)
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
            retreat = self.sampler.retreat
            for i in range(tries):
                start = self.sample_start()
                if i < tries - 1 and self._hand_touches_table_at(start):
                    continue  # rejected without building its world (the last try is built)
                built = self._build(start, friction, retreat)
                if built is None:  # the hand did not clear the object within `retreat`
                    if i < tries - 1:
                        continue
                    built = self._build(start, friction)
                start = built
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

        Returns ``terminated`` (training mode: the hand touches the table, its elevation
        passed the singularity limit, or it presses down on an object harder than
        ``max_press_force``; always False in evaluation mode). The step's outputs are
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
            self._set_opening(0.5 * self.max_opening * (th[6] + 1.0))
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
            len(pb.getContactPoints(hand, self._plane, physicsClientId=cid)) > 0 or \
            (cfg.max_press_force > 0 and self.press_force() > cfg.max_press_force)

    def press_force(self) -> float:
        """How hard the hand pushes down on the objects now, N: over every contact of the hand
        with an object, the downward part of its normal force (pybullet's normal on the
        object points to the hand, which pushes along its opposite)."""
        cid, hand, get = self._cid, self._hand, pb.getContactPoints
        down = 0.0
        for body in self._objects:
            for c in get(hand, body, physicsClientId=cid):
                down += c[7][2] * c[9]
        return down

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

    @property
    def max_opening(self) -> float:
        """The finger opening of action a[6] = +inf (tanh = 1), m: the gripper command's range
        is [0, max_opening] (``config.max_finger_opening``)."""
        return self.config.max_finger_opening

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
