"""Hand-written closed-loop reference controllers for the nine actions (true simulator state).

They prove that each task is solvable in our physics and that the metrics are right. Each
controller is a short sequence of *stages*; a stage names a fingertip target (aligned frame, m),
a hand azimuth/elevation (rad) and a finger opening (m), all recomputed every control step from
the true state (closed loop), plus a completion test. A proportional servo turns the target into
the 7-D action (velocities saturate at the env's limits, straight-line motion).

Strategies (object 0 at the origin; ``u`` = the horizontal hand direction):

* **push / pull**: rise to a safe height, turn to the azimuth the metric expects (push: along
  the motion; pull: against it), elevation 20 deg, come down behind the pre-grasp point, slide
  the open fingers around the object at its mid height, close, drag it 0.15 m along x, open and
  back off without turning. Grasping instead of pushing keeps the object upright and stops it
  where the hand stops on the almost frictionless table.
* **pick up**: the same grasp (azimuth from the hand towards the object), then lift by 0.12 m.
* **put behind / in front of / next to / onto** (object 1 starts in the gripper): rise, turn to
  elevation 0 (the held cylinder stands upright) with the hand pointing from the target spot
  towards object 0 (so the palm stays away from it), move the held object above the target spot
  (behind: +y, in front: -y, next to: +-x at ``r0 + r1 + 0.05``; onto: on top of object 0),
  lower it until it touches its support (true contact state), open just enough to let go,
  back off and rise. The hand elevation is corrected continuously so that the held cylinder's
  axis stays vertical even when it has turned in the grip.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pybullet as pb
from real2sim_core.actions import ActionSpec, get_action

from real2sim_core import frames

from .env_config import SimState
from .policies import Policy

__all__ = ["ScriptedPolicy", "ScriptedConfig"]


@dataclass
class ScriptedConfig:
    """Gains and geometry of the scripted controllers (m, s, rad)."""

    pos_gain: float = 6.0
    rot_gain: float = 6.0
    grasp_elevation: float = math.radians(20.0)
    drag_distance: float = 0.15
    lift_height: float = 0.12
    clearance: float = 0.08
    put_gap: float = 0.05


def _hand_matrix(v: SimState) -> np.ndarray:
    """(3, 3) hand orientation of state ``v`` (columns: the gripper axes in the world)."""
    return _matrix(v.hand_quat)


def _hand_angles(v: SimState) -> tuple[float, float]:
    """Hand (azimuth, elevation) of state ``v``, rad."""
    return v.hand_azi, v.hand_ele


def _raised(v: SimState, z_min: float) -> np.ndarray:
    """The hand position of state ``v`` raised to at least height ``z_min``, m."""
    return np.array([v.hand_pos[0], v.hand_pos[1], max(v.hand_pos[2], z_min)])


def _snapshot(env) -> SimState:
    """The true state now, its hand angles from the +z column of pybullet's rotation matrix
    (the controllers' servo convention; cheaper than :meth:`GripperEnv.sim_state`)."""
    hp, hq, opening, objs = env.read_raw()
    az, el = frames.hand_angles_from_direction(_matrix(hq)[:, 2])
    return SimState(env.time, np.asarray(hp), np.asarray(hq), float(az), float(el), opening,
                    np.array([p for p, _ in objs]), np.array([q for _, q in objs]),
                    env.heights, env.radii)


Target = tuple[np.ndarray, float, float, float]


@dataclass
class _Stage:
    name: str
    target: Callable[[SimState], Target]
    pos_tol: float = 0.01
    ang_tol: float = 0.08
    min_steps: int = 0
    max_steps: int = 30
    done: Callable[[SimState], bool] | None = None


@lru_cache(maxsize=4096)
def _gripper_quat(az: float, el: float) -> tuple:
    """Orientation (x, y, z, w) of the gripper pointing along (az, el) (cached: targets
    repeat)."""
    return tuple(float(x) for x in frames.gripper_quat_from_hand_angles(az, el))


def _matrix(quat) -> np.ndarray:
    """(3, 3) rotation matrix of an (x, y, z, w) quaternion (pybullet's fast C conversion)."""
    return np.asarray(pb.getMatrixFromQuaternion(list(quat))).reshape(3, 3)


def _atanh(x):
    return np.arctanh(np.clip(x, -0.995, 0.995))


class ScriptedPolicy(Policy):
    """Closed-loop stage controller of one action (see the module docstring).

    Args:
        action: the action name.
        config: gains and geometry.
    """

    name = "scripted"

    def __init__(self, action, config: ScriptedConfig | None = None):
        self.spec: ActionSpec = get_action(action)
        self.config = config or ScriptedConfig()
        self._stages: list[_Stage] = []
        self._i = 0
        self._n = 0
        self.mem: dict = {}

    # -- state --------------------------------------------------------------------------------

    @property
    def stage(self) -> str:
        """Name of the current stage ("done" at the end)."""
        return self._stages[self._i].name if self._i < len(self._stages) else "done"

    # -- servo --------------------------------------------------------------------------------

    def _servo(self, env, v: SimState, target: Target) -> tuple[np.ndarray, float, float]:
        pos, az, el, opening = target
        cfg = env.config
        err = np.asarray(pos, dtype=float) - v.hand_pos
        vel = self.config.pos_gain * err
        vmax = 0.98 * cfg.max_linear_speed
        n = np.linalg.norm(vel)
        if n > vmax:
            vel *= vmax / n
        q_t = _gripper_quat(round(float(az), 6), round(float(el), 6))
        # q_t * q^-1: the error in the world frame
        dq = pb.getDifferenceQuaternion(v.hand_quat, q_t)
        axis, angle = pb.getAxisAngleFromQuaternion(dq)
        if angle > math.pi:
            angle -= 2.0 * math.pi
        e = np.asarray(axis) * angle  # orientation error as a world rotation vector
        w = self.config.rot_gain * e
        wmax = 0.98 * cfg.max_angular_speed
        m = np.linalg.norm(w)
        if m > wmax:
            w *= wmax / m
        a = np.empty(7)
        a[0:3] = _atanh(vel / cfg.max_linear_speed)
        a[3:6] = _atanh(w / cfg.max_angular_speed)
        a[6] = _atanh(opening / (0.5 * env.max_opening) - 1.0)
        return a, float(np.linalg.norm(err)), float(np.linalg.norm(e))

    # -- policy API ---------------------------------------------------------------------------

    def reset(self, env) -> None:
        v = _snapshot(env)
        self.mem = {"start": v}
        kind = self.spec.kind
        if kind in ("push", "pull", "pick_up"):
            self._stages = self._grasp_plan(v, env)
        else:
            self._stages = self._put_plan(v, env)
        self._i = 0
        self._n = 0

    def act(self, obs, env) -> np.ndarray:
        v = _snapshot(env)
        action = np.zeros(7)
        for _ in range(len(self._stages) + 1):
            if self._i >= len(self._stages):
                last = self._stages[-1].target(v)
                action, _, _ = self._servo(env, v, last)
                return action
            st = self._stages[self._i]
            target = st.target(v)
            action, pe, ae = self._servo(env, v, target)
            reached = pe < st.pos_tol and ae < st.ang_tol and self._n >= st.min_steps
            if st.done is not None:
                reached = reached and st.done(v)
            if (reached and self._n >= st.min_steps) or self._n >= st.max_steps:
                self._i += 1
                self._n = 0
                self.mem["entry"] = v
                continue
            self._n += 1
            return action
        return action

    # -- plans --------------------------------------------------------------------------------

    def _grasp_plan(self, v0: SimState, env) -> list[_Stage]:
        cfg = self.config
        spec = self.spec
        h, r = float(v0.heights[0]), float(v0.radii[0])
        if spec.kind == "push":
            az = 0.0 if spec.direction > 0 else math.pi
        elif spec.kind == "pull":
            az = math.pi if spec.direction > 0 else 0.0
        else:  # pick up: approach from where the hand is
            d = v0.obj_pos[0, :2] - v0.hand_pos[:2]
            az = math.atan2(d[1], d[0]) if np.linalg.norm(d) > 1e-3 else \
                _hand_angles(v0)[0]
        el = cfg.grasp_elevation
        u = np.array([math.cos(az), math.sin(az), 0.0])
        z_grasp = max(h / 2, 0.03)
        z_safe = h + cfg.clearance + 0.04
        open_ = env.max_opening
        closed = max(r - 0.01, 0.0)
        x_goal = float(v0.obj_pos[0, 0]) + spec.direction * cfg.drag_distance
        mem = self.mem

        def obj(v):
            return v.obj_pos[0]

        def lift(v):
            return (_raised(mem["start"], z_safe), *_hand_angles(mem["start"]), open_)

        def turn(v):
            return _raised(mem["start"], z_safe), az, el, open_

        def above(v):
            p = obj(v) - u * (r + 0.06)
            return np.array([p[0], p[1], z_safe]), az, el, open_

        def down(v):
            p = obj(v) - u * (r + 0.06)
            return np.array([p[0], p[1], z_grasp]), az, el, open_

        def into(v):
            p = obj(v)
            return np.array([p[0], p[1], z_grasp]), az, el, open_

        def close(v):
            e = mem["entry"]
            return np.array([e.obj_pos[0, 0], e.obj_pos[0, 1], z_grasp]), az, el, closed

        stages = [
            _Stage("lift", lift, pos_tol=0.02, ang_tol=10.0),
            _Stage("turn", turn, pos_tol=0.03, ang_tol=0.1),
            _Stage("above", above, pos_tol=0.015, ang_tol=0.1),
            _Stage("down", down, pos_tol=0.01, ang_tol=0.1),
            _Stage("into", into, pos_tol=0.006, ang_tol=0.1, max_steps=18),
            _Stage("close", close, pos_tol=1.0, ang_tol=10.0, min_steps=5),
        ]
        if spec.kind == "pick_up":
            def up(v):
                e = mem["entry"]
                return (np.array([e.hand_pos[0], e.hand_pos[1], z_grasp + cfg.lift_height]),
                        az, el, closed)

            stages.append(_Stage("lift_object", up, pos_tol=0.0, max_steps=10**6))
            return stages

        def drag(v):
            e = mem["entry"]
            return (np.array([e.hand_pos[0] + (x_goal - e.obj_pos[0, 0]),
                    e.hand_pos[1], z_grasp]), az, el, closed)

        def release(v):
            e = mem["entry"]
            return e.hand_pos.copy(), az, el, open_

        def back(v):
            e = mem["entry"]
            p = e.hand_pos - u * 0.10
            return p, az, el, open_

        def rise(v):
            e = mem["entry"]
            return np.array([e.hand_pos[0], e.hand_pos[1], z_safe]), az, el, open_

        stages += [
            _Stage("drag", drag, pos_tol=0.005, ang_tol=10.0, max_steps=24),
            _Stage("release", release, pos_tol=1.0, ang_tol=10.0, min_steps=4),
            _Stage("back", back, pos_tol=0.01, ang_tol=10.0),
            _Stage("rise", rise, pos_tol=0.0, max_steps=10**6),
        ]
        return stages

    def _put_plan(self, v0: SimState, env) -> list[_Stage]:
        cfg = self.config
        rel = self.spec.relation
        h0, r0 = float(v0.heights[0]), float(v0.radii[0])
        h1, r1 = float(v0.heights[1]), float(v0.radii[1])
        o0 = v0.obj_pos[0]
        d = r0 + r1 + cfg.put_gap
        if rel == "behind":
            spot = o0[:2] + [0.0, d]
        elif rel == "in_front_of":
            spot = o0[:2] + [0.0, -d]
        elif rel == "next_to":
            side = 1.0 if v0.hand_pos[0] >= o0[0] else -1.0
            spot = o0[:2] + [side * d, 0.0]
        else:  # onto
            spot = o0[:2].copy()
        if rel == "onto":
            dxy = o0[:2] - v0.hand_pos[:2]
            az = math.atan2(dxy[1], dxy[0]) if np.linalg.norm(dxy) > 1e-3 else \
                _hand_angles(v0)[0]
            support = h0
        else:
            dxy = o0[:2] - spot
            az = math.atan2(dxy[1], dxy[0])
            support = 0.0
        u = np.array([math.cos(az), math.sin(az), 0.0])
        z_safe = h0 + 0.10 + cfg.clearance * 0.5 + max(h1 / 2, r1)
        hold = max(r1 - 0.01, 0.0)
        open_ = env.max_opening
        mem = self.mem

        def el_upright(v):
            """Hand elevation that makes the held cylinder's axis vertical (it may have
            rotated in the grip about the finger axis)."""
            axis = _matrix(v.obj_quat[1])[:, 2]
            a = _hand_matrix(v).T @ axis
            if a[0] < 0:
                a = -a
            return float(math.atan2(a[2], a[0]))

        def offset(v):  # fingertip minus held-object centre
            return v.hand_pos - v.obj_pos[1]

        def lowest(v):  # lowest point of the held cylinder below its centre, m
            axz = abs(float(_matrix(v.obj_quat[1])[2, 2]))
            return h1 / 2 * axz + r1 * math.sqrt(max(0.0, 1.0 - axz * axz))

        def lift(v):
            return (_raised(mem["start"], z_safe), *_hand_angles(mem["start"]), hold)

        def turn(v):
            return _raised(mem["start"], z_safe), az, el_upright(v), hold

        def above(v):
            p = offset(mem["entry"])[:2] + spot
            return np.array([p[0], p[1], z_safe]), az, el_upright(v), hold

        def down(v):  # aim 1 cm into the support; the stage ends at the first contact
            e = mem["entry"]
            off = offset(e)
            p = off[:2] + spot
            z = support - 0.01 + lowest(e) + off[2]
            return np.array([p[0], p[1], z]), az, el_upright(v), hold

        def landed(v):
            return env.object_touches(1, 0 if rel == "onto" else None)

        def release(v):  # open just enough to let go, without a kick
            e = mem["entry"]
            return e.hand_pos.copy(), az, el_upright(e), r1 + 0.008

        def back(v):
            e = mem["entry"]
            return e.hand_pos - u * 0.12, az, _hand_angles(e)[1], open_

        def rise(v):
            e = mem["entry"]
            return np.array([e.hand_pos[0], e.hand_pos[1], z_safe]), az, _hand_angles(e)[1], open_

        return [
            _Stage("lift", lift, pos_tol=0.02, ang_tol=10.0),
            _Stage("turn", turn, pos_tol=0.03, ang_tol=0.06),
            _Stage("above", above, pos_tol=0.006, ang_tol=0.06),
            _Stage("settle", above, pos_tol=0.006, ang_tol=0.06, min_steps=3),
            _Stage("down", down, pos_tol=1.0, ang_tol=10.0, done=landed, max_steps=36),
            _Stage("release", release, pos_tol=1.0, ang_tol=10.0, min_steps=5),
            _Stage("back", back, pos_tol=0.01, ang_tol=10.0),
            _Stage("rise", rise, pos_tol=0.0, max_steps=10**6),
        ]
