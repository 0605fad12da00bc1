"""Physical plausibility checks of a state trajectory (stricter than METHOD section 8).

The follow-up of the paper (Petrik et al., *Learning Object Manipulation Skills from Video via
Approximate Differentiable Physics*, IROS 2022; its public benchmark evaluation) judges an
estimated trajectory not only with the checks of METHOD section 8 but also asks whether the
manipulated object behaves like a rigid body on a table. Implemented here in the project's own
words, for the manipulated object (object 0 of push/pull/pick up, object 1 of put actions), with
the cuboid's **oriented** corners (rotation vector and size of each frame):

* **below table**: its lowest corner is more than 2 cm below the table (z < -0.02 m) in at most
  25 % of the frames;
* **push/pull, on the ground**: the vertical motion of its centre (max z - min z) stays below
  its own vertical extent (the largest top-minus-lowest-corner height over the frames);
* **put behind / in front of / next to, put down**: at the end its lowest corner is no higher
  than the static object's top (object 0, first frame; 1 mm tolerance, as METHOD 8's put onto
  allows); *put onto* has no such check (METHOD 8 judges the height);
* **pick up, starts on the table**: its lowest corner in the first frame is below 1 cm.

A trajectory is *plausible* when all checks of its action pass. The inputs are the same frame
as for :mod:`real2sim_core.metrics` (usually the aligned frame: z up, table at z = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import frames
from .actions import ActionSpec, get_action
from .errors import InputError

__all__ = [
    "BELOW_TABLE_EPS",
    "BELOW_TABLE_MAX_FRACTION",
    "PICK_START_EPS",
    "PUT_DOWN_EPS",
    "PlausibilityResult",
    "cuboid_corners",
    "lowest_point",
    "highest_point",
    "check_arrays",
    "check_trajectory",
]

BELOW_TABLE_EPS = 0.02
"""A corner lower than this below the table (m) counts as below the table."""
BELOW_TABLE_MAX_FRACTION = 0.25
"""At most this fraction of the frames may have the manipulated object below the table."""
PICK_START_EPS = 0.01
"""Pick up: the lowest corner in the first frame must be below this height, m."""
PUT_DOWN_EPS = 0.001
"""Put actions: the final lowest corner may be this much above the static object's top, m
(the 1 mm of METHOD section 8's put onto check)."""

_UNIT_CORNERS = np.array([[sx, sy, sz] for sx in (-0.5, 0.5) for sy in (-0.5, 0.5)
                          for sz in (-0.5, 0.5)])


@dataclass(frozen=True)
class PlausibilityResult:
    """The plausibility judgement of one trajectory.

    Attributes:
        action: registry name of the action judged.
        checks: check name -> passed (``below_table`` always; ``on_ground`` for push/pull,
            ``put_down`` for put behind / in front of / next to, ``starts_on_table`` for pick
            up).
        values: the measured numbers by name (fractions, metres).
        reason: one clause per check, what was measured against what was needed.
    """

    action: str
    checks: dict
    values: dict
    reason: str

    @property
    def plausible(self) -> bool:
        """All checks of the action passed."""
        return all(self.checks.values())

    def to_dict(self) -> dict:
        return {"action": self.action, "plausible": self.plausible,
                "checks": dict(self.checks), "values": dict(self.values),
                "reason": self.reason}


def cuboid_corners(pos, rotvec, size) -> np.ndarray:
    """World corners ``(..., 8, 3)`` of cuboids with centres, rotation vectors and edge lengths
    ``(..., 3)`` each."""
    p = np.asarray(pos, dtype=float)
    r = frames.rotvec_to_matrix(np.asarray(rotvec, dtype=float))
    s = np.asarray(size, dtype=float)
    local = _UNIT_CORNERS * s[..., None, :]
    return local @ np.swapaxes(r, -1, -2) + p[..., None, :]


def lowest_point(pos, rotvec, size) -> np.ndarray:
    """Height ``(...)`` of the lowest corner of oriented cuboids, m."""
    return cuboid_corners(pos, rotvec, size)[..., 2].min(-1)


def highest_point(pos, rotvec, size) -> np.ndarray:
    """Height ``(...)`` of the highest corner of oriented cuboids, m."""
    return cuboid_corners(pos, rotvec, size)[..., 2].max(-1)


def check_arrays(action, obj_pos, obj_rot, obj_size, *, below_eps: float = BELOW_TABLE_EPS,
                 below_max_fraction: float = BELOW_TABLE_MAX_FRACTION,
                 pick_start_eps: float = PICK_START_EPS,
                 put_down_eps: float = PUT_DOWN_EPS) -> PlausibilityResult:
    """Judge the object states of one trajectory.

    Args:
        action: action name, template id or :class:`ActionSpec`.
        obj_pos: ``(T, N, 3)`` object centres, m.
        obj_rot: ``(T, N, 3)`` object rotation vectors, rad.
        obj_size: ``(T, N, 3)`` object edge lengths, m (or ``(N, 3)``: constant).
        below_eps, below_max_fraction, pick_start_eps: the thresholds (defaults: the
            follow-up's 2 cm, 25 % and 1 cm).
        put_down_eps: tolerance of the put-down check (default 1 mm).

    Raises:
        InputError: wrong shapes, NaN values, or fewer objects than the action needs.
    """
    spec: ActionSpec = get_action(action)
    pos = np.asarray(obj_pos, dtype=float)
    if pos.ndim == 2:
        pos = pos[:, None, :]
    if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[0] == 0:
        raise InputError(f"plausibility: obj_pos must be (T, N, 3) with T > 0, got {pos.shape}")
    t_n, n_obj = pos.shape[:2]
    try:
        rot = np.asarray(obj_rot, dtype=float).reshape(t_n, n_obj, 3)
        size = np.asarray(obj_size, dtype=float)
        size = np.broadcast_to(size.reshape((-1, n_obj, 3)) if size.ndim == 3
                               else size.reshape(n_obj, 3), (t_n, n_obj, 3))
    except ValueError:
        raise InputError(
            f"plausibility: obj_rot {np.shape(obj_rot)} / obj_size {np.shape(obj_size)} do not "
            f"match obj_pos {pos.shape}; expected (T, N, 3)") from None
    if n_obj < spec.num_objects:
        raise InputError(
            f"plausibility: action {spec.name!r} needs {spec.num_objects} object(s), got {n_obj}")
    for name, arr in (("obj_pos", pos), ("obj_rot", rot), ("obj_size", size)):
        if not np.isfinite(arr).all():
            raise InputError(f"plausibility: {name} contains NaN/inf")
    m = spec.manipulated_object
    corners = cuboid_corners(pos[:, m], rot[:, m], size[:, m])  # (T, 8, 3)
    low = corners[..., 2].min(-1)
    high = corners[..., 2].max(-1)
    checks, values, parts = {}, {}, []

    frac = float((low < -below_eps).mean())
    checks["below_table"] = frac <= below_max_fraction
    values["below_table_fraction"] = frac
    values["min_lowest_point"] = float(low.min())
    parts.append(f"more than {100 * below_eps:.0f} cm below the table in {100 * frac:.0f} % of "
                 f"the frames (need <= {100 * below_max_fraction:.0f} %)"
                 + ("" if checks["below_table"] else " FAIL"))
    if spec.kind in ("push", "pull"):
        z_motion = float(pos[:, m, 2].max() - pos[:, m, 2].min())
        extent = float((high - low).max())
        checks["on_ground"] = z_motion < extent
        values["z_motion"] = z_motion
        values["vertical_extent"] = extent
        parts.append(f"centre z motion {z_motion:.3f} m (need < vertical extent {extent:.3f})"
                     + ("" if checks["on_ground"] else " FAIL"))
    elif spec.kind == "pick_up":
        checks["starts_on_table"] = bool(low[0] < pick_start_eps)
        values["start_lowest_point"] = float(low[0])
        parts.append(f"first lowest point {low[0]:.3f} m (need < {pick_start_eps:.3f})"
                     + ("" if checks["starts_on_table"] else " FAIL"))
    elif spec.kind == "put" and spec.relation != "onto":
        static_top = float(highest_point(pos[0, 0], rot[0, 0], size[0, 0]))
        checks["put_down"] = bool(low[-1] <= static_top + put_down_eps)
        values["final_lowest_point"] = float(low[-1])
        values["static_top"] = static_top
        parts.append(f"final lowest point {low[-1]:.3f} m (need <= static top {static_top:.3f}"
                     f" + {1000 * put_down_eps:.0f} mm)"
                     + ("" if checks["put_down"] else " FAIL"))
    return PlausibilityResult(spec.name, {k: bool(v) for k, v in checks.items()}, values,
                              "plausibility: " + "; ".join(parts))


def check_trajectory(traj, action=None, **thresholds) -> PlausibilityResult:
    """:func:`check_arrays` of a :class:`~real2sim_core.trajectory.StateTrajectory` (its own
    frame; the project judges aligned trajectories, like METHOD section 8)."""
    name = action or traj.action
    if not name:
        raise InputError("plausibility: the trajectory names no action; pass action=")
    return check_arrays(name, traj.obj_pos, traj.obj_rot, traj.obj_size, **thresholds)
