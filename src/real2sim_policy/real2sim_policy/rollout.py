"""One policy rollout in the env, recorded as a state trajectory in the aligned frame.

A rollout records the state at every control time ``t_k = k / 12`` s, k = 0..horizon (the start
state and the state after each of the 120 control steps: 121 rows). A policy error (a NaN
action, an exception inside the policy) ends the rollout early: the remaining rows repeat the
last state and ``error`` says why, so that a benchmark judges it as a failure instead of
stopping.

The recording is a :class:`~real2sim_core.trajectory.StateTrajectory` (the stack's one state
model; the cylinders are stored as their bounding cuboids ``(2 r, 2 r, h)``, ``touch`` is 1
where the hand touches the manipulated object) plus the gripper opening as the named column
:data:`OPENING_COLUMN`. A rollout CSV is a states CSV (any states reader reads it) with that
extra column and ``# rollout_error:`` / ``# steps:`` metadata lines (:meth:`Rollout.to_csv`,
:func:`read_rollout_csv`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from real2sim_core.errors import InputError, Real2SimError, TrajectoryFormatError
from real2sim_core.metrics import MetricResult, evaluate_arrays
from real2sim_core.plan import MAX_PLAN_OPENING, GripperPlan
from real2sim_core.textio import read_text
from real2sim_core.trajectory import (
    ALIGNED_FRAME_ID,
    StateTrajectory,
    read_states_csv,
    state_columns,
    write_states_csv,
)

from real2sim_core import frames

from .env import GripperEnv
from .env_config import StartState

__all__ = ["Rollout", "run_rollout", "rollout_columns", "read_rollout_csv", "OPENING_COLUMN",
           "START_COLUMNS", "load_start_states"]

START_COLUMNS = ("hazi", "hele", "hposx", "hposy", "hposz", "o0posx", "o0posy", "o0posz",
                 "o0hei", "o0rad", "o1hei", "o1rad")
"""Columns of a benchmark specification CSV (METHOD section 8)."""

OPENING_COLUMN = "opening"
"""The rollout CSV's extra column: the finger opening from the centre, m."""


def rollout_columns(num_objects: int) -> tuple[str, ...]:
    """Columns of a rollout CSV: ``time``, the published state columns, :data:`OPENING_COLUMN`."""
    return ("time",) + state_columns(num_objects) + (OPENING_COLUMN,)


def _from_trajectory(name: str, doc: str) -> property:
    """A read-only view of ``Rollout.trajectory.<name>``."""
    return property(lambda self: getattr(self.trajectory, name), doc=doc)


@dataclass
class Rollout:
    """A recorded rollout (aligned frame), K = horizon + 1 rows.

    Attributes:
        trajectory: the states (see the module docstring), action set, ``aligned`` true, frame
            rate the control rate.
        opening: (K,) finger opening from the centre, m (as measured; contacts can push it a
            little past the fingers' travel).
        hand_quat: (K, 4) gripper orientation x, y, z, w (the plan's orientation; the
            trajectory's azimuth and elevation leave out the roll about the hand direction).
        error: "" or why the rollout ended early (counts as a failure).
        steps: control steps actually taken.
    """

    trajectory: StateTrajectory
    opening: np.ndarray
    hand_quat: np.ndarray
    error: str = ""
    steps: int = 0

    # -- the trajectory's arrays, by their rollout names ------------------------------------

    action = _from_trajectory("action", "The action name.")
    times = _from_trajectory("times", "(K,) s.")
    hand_pos = _from_trajectory("hand_pos", "(K, 3) fingertip, m.")
    hand_azi = _from_trajectory("hand_azi", "(K,) rad, unwrapped.")
    hand_ele = _from_trajectory("hand_ele", "(K,) rad.")
    obj_pos = _from_trajectory("obj_pos", "(K, N, 3) object centres, m.")
    obj_rot = _from_trajectory("obj_rot", "(K, N, 3) object rotation vectors, rad.")

    @property
    def heights(self) -> np.ndarray:
        """(N,) cylinder heights, m."""
        return self.trajectory.obj_size[0, :, 2]

    @property
    def radii(self) -> np.ndarray:
        """(N,) cylinder radii, m."""
        return self.trajectory.obj_size[0, :, 0] / 2

    def evaluate(self, fps: float = 12.0) -> MetricResult:
        """METHOD section 8 checks; a rollout with an error fails with that reason."""
        res = evaluate_arrays(self.action, self.hand_pos, self.hand_azi, self.hand_ele,
                              self.obj_pos, self.heights, self.radii, obj_rot=self.obj_rot,
                              fps=fps)
        if self.error:
            return res.failed(self.error)
        return res

    def to_csv(self, path) -> Path:
        """Write the rollout CSV (:func:`rollout_columns`, one row per control time)."""
        path = write_states_csv(self.trajectory, path)
        lines = path.read_text().splitlines()
        body = next(i for i, line in enumerate(lines) if not line.startswith("#"))
        meta = [f"# steps: {self.steps}"]
        if self.error:
            meta.append(f"# rollout_error: {' '.join(self.error.split())}")
        rows = [f"{lines[body]},{OPENING_COLUMN}"]
        rows += [f"{line},{float(v)!r}" for line, v in zip(lines[body + 1:], self.opening,
                                                           strict=True)]
        path.write_text("\n".join(lines[:body] + meta + rows) + "\n")
        return path

    def to_plan(self) -> GripperPlan:
        """The gripper path as a :class:`GripperPlan` (aligned frame, one waypoint per row).

        The opening is the measured finger position; contacts can push a finger past its travel
        in the simulator, so it is clipped to ``[0, MAX_PLAN_OPENING]`` (the fingers' range and
        the plan format's).
        """
        return GripperPlan(times=self.times, positions=self.hand_pos, quats=self.hand_quat,
                           openings=np.clip(self.opening, 0.0, MAX_PLAN_OPENING),
                           frame_id=ALIGNED_FRAME_ID, action=self.action)


def read_rollout_csv(path) -> Rollout:
    """Read a rollout CSV written by :meth:`Rollout.to_csv`.

    The hand orientation comes back from the azimuth and elevation (roll 0: the CSV does not
    hold the roll about the hand direction).

    Raises:
        TrajectoryFormatError: not a states CSV, or no :data:`OPENING_COLUMN` column.
    """
    traj = read_states_csv(path)
    text = read_text(Path(path), "rollout CSV", TrajectoryFormatError)
    meta, body = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, val = line[1:].partition(":")
            meta[key.strip()] = val.strip()
        elif line.strip():
            body.append(line)
    header = [h.strip() for h in next(csv.reader(body[:1]))]
    if OPENING_COLUMN not in header:
        raise TrajectoryFormatError(f"{path}: no {OPENING_COLUMN!r} column; not a rollout CSV "
                                    "(a states CSV has no gripper opening)")
    j = header.index(OPENING_COLUMN)
    opening = np.array([float(r[j]) for r in csv.reader(body[1:])])
    quat = frames.gripper_quat_from_hand_angles(traj.hand_azi, traj.hand_ele)
    return Rollout(traj, opening, quat, meta.get("rollout_error", ""),
                   int(meta.get("steps", traj.num_frames - 1)))


def run_rollout(env: GripperEnv, policy, start: StartState | None = None,
                seed: int | None = None) -> Rollout:
    """Reset ``env`` (to ``start`` when given) and run ``policy`` for the whole horizon.

    Policy errors (NaN actions, exceptions raised by the policy) end the rollout with
    ``Rollout.error`` set; they are not raised.
    """
    options = {"start": start} if start is not None else None
    obs, _ = env.reset(seed=seed, options=options)
    horizon = env.config.horizon
    hp = np.zeros((horizon + 1, 3))
    hq = np.zeros((horizon + 1, 4))
    opening = np.zeros(horizon + 1)
    touch = np.zeros(horizon + 1)
    n = env.num_objects
    op = np.zeros((horizon + 1, n, 3))
    oq = np.zeros((horizon + 1, n, 4))
    held = env.spec_action.manipulated_object

    def record(k):
        hp[k], hq[k] = env.hand_pose()
        opening[k] = env.opening()
        op[k], oq[k] = env.object_poses()
        touch[k] = float(env.hand_touches(held))

    record(0)
    error = ""
    k = 0
    try:
        policy.reset(env)
        for k in range(1, horizon + 1):
            action = policy.act(obs, env)
            obs, _, terminated, truncated, _ = env.step(action)
            record(k)
            if terminated:
                error = f"episode terminated at step {k}"
                break
    except Real2SimError as e:
        error = str(e)
    except Exception as e:  # noqa: BLE001 - a faulty policy fails its rollout, not the run
        error = f"policy raised {type(e).__name__}: {e}"
    steps = env.step_count
    if steps < horizon:  # hold the last recorded state
        last = steps
        for arr in (hp, hq, opening, touch, op, oq):
            arr[last + 1:] = arr[last]
    az, el = frames.hand_angles_from_gripper_quat(hq)
    times = np.arange(horizon + 1) * env.config.control_dt
    size = np.stack([2 * env.radii, 2 * env.radii, env.heights], axis=-1)  # (N, 3)
    traj = StateTrajectory(times=times, hand_pos=hp, hand_azi=np.unwrap(az), hand_ele=el,
                           obj_pos=op, obj_rot=frames.quat_to_rotvec(oq),
                           obj_size=np.broadcast_to(size, (horizon + 1, n, 3)), touch=touch,
                           fps=env.config.control_hz, action=env.spec_action.name,
                           aligned=True)
    return Rollout(traj, opening, hq, error, steps)


def load_start_states(path) -> list[tuple[str, StartState]]:
    """Read a benchmark specification CSV into ``(row label, StartState)`` pairs.

    The first column may be an unnamed index (its value becomes the row label, else the
    0-based row number). Required columns: :data:`START_COLUMNS`.

    Raises:
        InputError: missing file/columns, non-numeric or NaN values (naming line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: benchmark specification file not found")
    text = read_text(path, "benchmark specification CSV")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(x.strip() for x in r)]
    if not rows:
        raise InputError(f"{path}: empty file; expected a header with {', '.join(START_COLUMNS)}")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in START_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a benchmark specification needs "
            f"{', '.join(START_COLUMNS)} (found: {', '.join(h or '<unnamed>' for h in header)})"
        )
    if len(rows) < 2:
        raise InputError(f"{path}: header only, no start states")
    idx = {c: header.index(c) for c in START_COLUMNS}
    label_col = 0 if header[0] in ("", "index", "row") else None
    out = []
    for r, row in enumerate(rows[1:]):
        line = r + 2
        vals = {}
        for c, j in idx.items():
            if j >= len(row):
                raise InputError(f"{path}: line {line} has {len(row)} fields; column {c!r} "
                                 "is missing")
            txt = row[j].strip()
            try:
                val = float(txt)
            except ValueError:
                raise InputError(f"{path}: line {line}, column {c!r}: {txt!r} is not a "
                                 "number") from None
            if not np.isfinite(val):
                raise InputError(f"{path}: line {line}, column {c!r}: value {txt} is not finite")
            vals[c] = val
        label = row[label_col].strip() if label_col is not None and row[label_col].strip() \
            else str(r)
        try:
            st = StartState(
                hand_pos=[vals["hposx"], vals["hposy"], vals["hposz"]],
                hand_azi=vals["hazi"], hand_ele=vals["hele"],
                obj0_pos=[vals["o0posx"], vals["o0posy"], vals["o0posz"]],
                obj0_height=vals["o0hei"], obj0_radius=vals["o0rad"],
                obj1_height=vals["o1hei"], obj1_radius=vals["o1rad"],
            )
        except InputError as e:
            raise InputError(f"{path}: line {line}: {e}") from None
        out.append((label, st))
    return out
