"""One policy rollout in the env, recorded in the aligned frame, and its conversions.

A rollout records the state at every control time ``t_k = k / 12`` s, k = 0..horizon (the start
state and the state after each of the 120 control steps: 121 rows). A policy error (a NaN
action, an exception inside the policy) ends the rollout early: the remaining rows repeat the
last state and ``error`` says why, so that a benchmark judges it as a failure instead of
stopping.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from real2sim_core.errors import InputError, Real2SimError
from real2sim_core.metrics import MetricResult, evaluate_arrays
from real2sim_core.plan import MAX_PLAN_OPENING, GripperPlan
from real2sim_core.textio import read_text
from real2sim_core.trajectory import ALIGNED_FRAME_ID

from real2sim_core import frames

from .env import GripperEnv, StartState

__all__ = ["Rollout", "run_rollout", "rollout_columns", "START_COLUMNS", "load_start_states"]

START_COLUMNS = ("hazi", "hele", "hposx", "hposy", "hposz", "o0posx", "o0posy", "o0posz",
                 "o0hei", "o0rad", "o1hei", "o1rad")
"""Columns of a benchmark specification CSV (METHOD section 8)."""


def rollout_columns(num_objects: int) -> tuple[str, ...]:
    """Columns of a rollout CSV (the issue's format; ``touch`` holds the gripper opening)."""
    cols = ["hposx", "hposy", "hposz", "hazi", "hele", "touch",
            "o0posx", "o0posy", "o0posz", "o0rot0", "o0rot1", "o0rot2", "ohei", "orad"]
    if num_objects == 2:
        cols += ["o1posx", "o1posy", "o1posz", "o1rot0", "o1rot1", "o1rot2", "o1hei", "o1rad"]
    return tuple(cols)


@dataclass
class Rollout:
    """A recorded rollout (aligned frame), K = horizon + 1 rows at ``times``.

    Attributes:
        action: action name. times: (K,) s.
        hand_pos: (K, 3) fingertip, m. hand_quat: (K, 4) x, y, z, w.
        hand_azi / hand_ele: (K,) rad. opening: (K,) m.
        obj_pos: (K, N, 3) m. obj_quat: (K, N, 4). heights / radii: (N,) m.
        error: "" or why the rollout ended early (counts as a failure).
        steps: control steps actually taken.
    """

    action: str
    times: np.ndarray
    hand_pos: np.ndarray
    hand_quat: np.ndarray
    hand_azi: np.ndarray
    hand_ele: np.ndarray
    opening: np.ndarray
    obj_pos: np.ndarray
    obj_quat: np.ndarray
    heights: np.ndarray
    radii: np.ndarray
    error: str = ""
    steps: int = 0

    @property
    def obj_rot(self) -> np.ndarray:
        """(K, N, 3) object rotation vectors, rad."""
        return frames.quat_to_rotvec(self.obj_quat)

    def evaluate(self, fps: float = 12.0) -> MetricResult:
        """METHOD section 8 checks; a rollout with an error fails with that reason."""
        res = evaluate_arrays(self.action, self.hand_pos, self.hand_azi, self.hand_ele,
                              self.obj_pos, self.heights, self.radii, obj_rot=self.obj_rot,
                              fps=fps)
        if self.error:
            return res.failed(self.error)
        return res

    def table(self) -> np.ndarray:
        """(K, C) values in the order of :func:`rollout_columns`."""
        k = len(self.times)
        rot = self.obj_rot
        cols = [self.hand_pos, self.hand_azi[:, None], self.hand_ele[:, None],
                self.opening[:, None]]
        for i in range(self.obj_pos.shape[1]):
            cols += [self.obj_pos[:, i], rot[:, i], np.full((k, 1), self.heights[i]),
                     np.full((k, 1), self.radii[i])]
        return np.concatenate(cols, axis=1)

    def to_csv(self, path) -> Path:
        """Write the rollout CSV (header = :func:`rollout_columns`, one row per control time)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(rollout_columns(self.obj_pos.shape[1]))
            for row in self.table():
                w.writerow([repr(float(x)) for x in row])
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
    n = env.num_objects
    op = np.zeros((horizon + 1, n, 3))
    oq = np.zeros((horizon + 1, n, 4))

    def record(k):
        hp[k], hq[k] = env.hand_pose()
        opening[k] = env.opening()
        op[k], oq[k] = env.object_poses()

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
        for arr in (hp, hq, opening, op, oq):
            arr[last + 1:] = arr[last]
    az, el = frames.hand_angles_from_gripper_quat(hq)
    times = np.arange(horizon + 1) * env.config.control_dt
    return Rollout(env.spec_action.name, times, hp, hq, np.unwrap(az), el, opening, op, oq,
                   env.heights.copy(), env.radii.copy(), error, steps)


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
