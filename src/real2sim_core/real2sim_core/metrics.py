"""The benchmark metrics of METHOD section 8 (paper appendix B): one binary judgement per rollout.

Shared by the policy benchmark (simulated rollouts) and the perception package's
``evaluate-states`` (estimated trajectories). Every input is in the **aligned frame** (METHOD
section 4): z up, table at z = 0, +x = image right, +y = away from the camera; metres, radians.

Checks, exactly as specified (``T`` frames at ``fps``, usually the 12 Hz control steps):

* a frame is *moving* when the first object's x velocity (forward difference, the last frame
  repeated) exceeds 1e-3 m/s in magnitude;
* push/pull, hand: the hand azimuth is within 90 deg of the expected direction (pull
  left-to-right 180, pull right-to-left 0, push left-to-right 0, push right-to-left 180 deg)
  in **more than** 75 % of the moving frames, and ``|elevation| < 80 deg`` in all moving frames
  (no moving frame at all fails the hand check);
* push/pull, object: the final x is > 0.05 m (left to right) or < -0.05 m (right to left), and
  the object is upright at the end (its axis' z component > 0.5);
* an object's *bottom* is its lowest point given its orientation: for a cylinder of height h,
  radius r and axis a, ``z - |a_z| h / 2 - r sqrt(1 - a_z^2)`` (a cylinder lying on its side on
  the table has its bottom at 0); estimated trajectories hold oriented cuboids, whose bottom is
  their lowest corner;
* pick up, object: the object's bottom is above 0.01 m at the end;
* put behind / in front of / next to, object: the moved object's (object 1) final bearing
  ``atan2(dy, dx)`` around the static object (object 0, at its final position) is within 60 deg
  of 90 / -90 / 0 or 180 deg, its centre height z < 0.05 m, its horizontal distance < 0.5 m,
  and the static object moved less than 1 cm horizontally from its start;
* put onto, object: the moved object's bottom + 1 mm is above the static object's height, its
  horizontal distance to the static object is less than the static object's radius, and the
  static object moved less than 1 cm;
* pick up and put actions have no hand check (it passes);
* success = hand check and object check.
"""

from __future__ import annotations

import argparse
import enum
import math
from dataclasses import dataclass, field, replace

import numpy as np

from . import frames
from .actions import ActionSpec, get_action
from .errors import InputError
from .trajectory import ALIGN_SCALE

__all__ = [
    "MetricResult",
    "Outcome",
    "MOVING_SPEED",
    "cuboid_bottom",
    "cylinder_bottom",
    "evaluate_arrays",
    "evaluate_trajectory",
    "moving_frames",
    "register",
]

MOVING_SPEED = 1e-3
"""|x velocity| above which an object counts as moving, m/s."""
_EXPECTED_AZIMUTH = {("pull", 1): math.pi, ("pull", -1): 0.0,
                     ("push", 1): 0.0, ("push", -1): math.pi}
_PUT_BEARINGS = {"behind": (math.pi / 2,), "in_front_of": (-math.pi / 2,),
                 "next_to": (0.0, math.pi)}


class Outcome(enum.Enum):
    """What a judged trajectory came to (the value is the phrase used in reports)."""

    SUCCEEDED = "succeeded"
    HAND_FAILED = "hand check failed"
    OBJECT_FAILED = "object check failed"
    BOTH_FAILED = "hand and object checks failed"
    ROLLOUT_ERROR = "rollout error"


@dataclass(frozen=True)
class MetricResult:
    """The judgement of one trajectory, check by check.

    Attributes:
        action: registry name of the action judged.
        hand_ok: the hand check passed.
        object_ok: the object check passed.
        hand_reason: what the hand check measured against what was needed (one line).
        object_reason: the same for the object check.
        values: the measured quantities the verdicts rest on (m, rad or fractions), e.g.
            ``final_bottom_z`` for pick up, ``moved_bottom_z`` and ``distance`` for put onto.
        error: why the trajectory could not be judged (a rollout that ended early); when set,
            both checks fail.
    """

    action: str
    hand_ok: bool
    object_ok: bool
    hand_reason: str = ""
    object_reason: str = ""
    values: dict = field(default_factory=dict)
    error: str = ""

    @property
    def success(self) -> bool:
        """Hand check and object check."""
        return self.hand_ok and self.object_ok

    @property
    def reason(self) -> str:
        """Both verdicts on one line: ``hand: ...; object: ...`` (or the error)."""
        if self.error:
            return f"rollout error: {self.error}"
        return f"hand: {self.hand_reason}; object: {self.object_reason}"

    @property
    def outcome(self) -> Outcome:
        """The verdict to branch on (nav2 ``TaskResult`` style)."""
        if self.error:
            return Outcome.ROLLOUT_ERROR
        if self.hand_ok and self.object_ok:
            return Outcome.SUCCEEDED
        if not self.hand_ok and not self.object_ok:
            return Outcome.BOTH_FAILED
        return Outcome.HAND_FAILED if not self.hand_ok else Outcome.OBJECT_FAILED

    @property
    def failed_reason(self) -> str:
        """Only the checks that failed, ``hand: ...; object: ...`` ("" on success)."""
        if self.error:
            return self.reason
        parts = ([f"hand: {self.hand_reason}"] if not self.hand_ok else []) + (
            [f"object: {self.object_reason}"] if not self.object_ok else [])
        return "; ".join(parts)

    def failed(self, error: str) -> MetricResult:
        """This result turned into a failure of both checks because of ``error``."""
        return replace(self, hand_ok=False, object_ok=False, error=str(error))

    def to_dict(self) -> dict:
        return {"action": self.action, "hand_ok": self.hand_ok, "object_ok": self.object_ok,
                "success": self.success, "outcome": self.outcome.value,
                "reason": self.reason, "failed_reason": self.failed_reason,
                "hand_reason": self.hand_reason, "object_reason": self.object_reason,
                "values": dict(self.values), "error": self.error}


def moving_frames(obj_x, fps: float = 12.0) -> np.ndarray:
    """Boolean (T,): |x velocity| > 1e-3 m/s (forward difference, last frame repeated)."""
    x = np.asarray(obj_x, dtype=float).reshape(-1)
    vel = np.diff(x, append=x[-1]) * fps
    return np.abs(vel) > MOVING_SPEED


def _axis_z(obj_rot) -> np.ndarray:
    """z component of the object axis (its local +z) for rotation vectors (..., 3)."""
    return frames.rotvec_to_matrix(obj_rot)[..., 2, 2]


def cylinder_bottom(z, axis_z, height, radius):
    """Lowest point of a cylinder (METHOD section 8): ``z - |a_z| h / 2 - r sqrt(1 - a_z^2)``.

    Args:
        z: centre height, m. axis_z: z component of the unit axis. height / radius: m.
        All broadcast against each other.
    """
    az = np.clip(np.abs(np.asarray(axis_z, dtype=float)), 0.0, 1.0)
    return np.asarray(z, dtype=float) - az * np.asarray(height, dtype=float) / 2 \
        - np.asarray(radius, dtype=float) * np.sqrt(1.0 - az ** 2)


def cuboid_bottom(z, rot_matrix, size):
    """Lowest corner of an oriented cuboid: ``z - sum_j |R[2, j]| size_j / 2``.

    Args:
        z: centre height (...,), m. rot_matrix: (..., 3, 3) object-to-world rotations.
        size: (..., 3) edge lengths along the object's local axes, m.
    """
    r = np.asarray(rot_matrix, dtype=float)
    half = np.asarray(size, dtype=float) / 2
    return np.asarray(z, dtype=float) - np.sum(np.abs(r[..., 2, :]) * half, axis=-1)


def evaluate_arrays(action, hand_pos, hand_azi, hand_ele, obj_pos, heights, radii, *,
                    obj_rot=None, obj_axis_z=None, sizes=None, fps: float = 12.0
                    ) -> MetricResult:
    """Judge one trajectory given as arrays (METHOD section 8).

    The objects are cylinders of the given heights and radii (rollouts), unless ``sizes`` makes
    them cuboids (estimated trajectories). An object's bottom is its lowest point given its
    orientation: :func:`cylinder_bottom` or :func:`cuboid_bottom`.

    Args:
        action: action name, template id or :class:`ActionSpec`.
        hand_pos: (T, 3) fingertip positions, m (not used by the checks; validated only).
        hand_azi: (T,) hand azimuth, rad.
        hand_ele: (T,) hand elevation, rad (positive pointing down).
        obj_pos: (T, N, 3) object centres, m; object 0 rests on the table, object 1 is the one
            the hand moves in two-object actions.
        heights: (N,) object heights, m (or (T, N): the last frame is used).
        radii: (N,) object radii, m (or (T, N)).
        obj_rot: (T, N, 3) object rotation vectors, rad (give this or ``obj_axis_z``).
        obj_axis_z: (T, N) z component of each object's axis, alternatively (cylinders only).
        sizes: (N, 3) or (T, N, 3) cuboid edge lengths, m (the last frame is used); needs
            ``obj_rot``.
        fps: frame rate of the arrays, Hz.

    Returns:
        :class:`MetricResult`.

    Raises:
        InputError: wrong shapes, NaN values or an object count that does not fit the action.
    """
    spec: ActionSpec = get_action(action)
    azi = np.asarray(hand_azi, dtype=float).reshape(-1)
    n_t = len(azi)
    ele = np.asarray(hand_ele, dtype=float).reshape(-1)
    hp = np.asarray(hand_pos, dtype=float)
    op = np.asarray(obj_pos, dtype=float)
    if n_t == 0:
        raise InputError("metrics: the trajectory has no frames")
    if op.ndim == 2:
        op = op[:, None, :]
    if ele.shape != (n_t,) or hp.shape != (n_t, 3) or op.ndim != 3 or op.shape[0] != n_t \
            or op.shape[2] != 3:
        raise InputError(
            f"metrics: inconsistent shapes: hand_azi {azi.shape}, hand_ele {ele.shape}, "
            f"hand_pos {hp.shape}, obj_pos {op.shape}; expected (T,), (T,), (T, 3), (T, N, 3)"
        )
    n_obj = op.shape[1]
    if n_obj < spec.num_objects:
        raise InputError(
            f"metrics: action {spec.name!r} needs {spec.num_objects} object(s), got {n_obj}"
        )
    hei = np.asarray(heights, dtype=float)
    rad = np.asarray(radii, dtype=float)
    hei = hei[-1] if hei.ndim == 2 else hei.reshape(-1)
    rad = rad[-1] if rad.ndim == 2 else rad.reshape(-1)
    if len(hei) < n_obj or len(rad) < n_obj:
        raise InputError(f"metrics: need {n_obj} heights and radii, got {len(hei)} and {len(rad)}")
    rot_final = None
    if obj_rot is not None:
        rot = np.asarray(obj_rot, dtype=float)
        if rot.size != n_t * n_obj * 3:
            raise InputError(f"metrics: obj_rot has shape {rot.shape}; expected ({n_t}, "
                             f"{n_obj}, 3)")
        rot_m = frames.rotvec_to_matrix(rot.reshape(n_t, n_obj, 3))
        rot_final = rot_m[-1]
    if obj_axis_z is None:
        if obj_rot is None:
            raise InputError("metrics: give obj_rot (T, N, 3) or obj_axis_z (T, N)")
        axz = rot_m[..., 2, 2]
    else:
        axz = np.asarray(obj_axis_z, dtype=float).reshape(n_t, n_obj)
    size_final = None
    if sizes is not None:
        if rot_final is None:
            raise InputError("metrics: cuboid sizes need obj_rot (T, N, 3), not only the axis")
        sz = np.asarray(sizes, dtype=float)
        sz = sz[-1] if sz.ndim == 3 else sz
        if sz.shape != (n_obj, 3):
            raise InputError(f"metrics: sizes has shape {np.shape(sizes)}; expected ({n_obj}, 3)"
                             f" or (T, {n_obj}, 3)")
        size_final = sz
    for name, arr in (("hand_azi", azi), ("hand_ele", ele), ("hand_pos", hp), ("obj_pos", op),
                      ("heights", hei), ("radii", rad), ("object axis", axz),
                      ("sizes", size_final if size_final is not None else np.zeros(1))):
        if not np.isfinite(arr).all():
            raise InputError(f"metrics: {name} contains NaN/inf")

    def bottom(i: int) -> float:
        """Final lowest point of object ``i``, m."""
        if size_final is not None:
            return float(cuboid_bottom(op[-1, i, 2], rot_final[i], size_final[i]))
        return float(cylinder_bottom(op[-1, i, 2], axz[-1, i], hei[i], rad[i]))

    values: dict[str, float] = {}
    if spec.kind in ("push", "pull"):
        hand_ok, hand_reason = _hand_check(spec, azi, ele, op[:, 0, 0], fps, values)
    else:
        hand_ok, hand_reason = True, "no hand check for this action"

    final = op[-1]
    if spec.kind in ("push", "pull"):
        x = float(final[0, 0])
        up = float(axz[-1, 0])
        values.update(final_x=x, axis_z=up)
        if spec.direction > 0:
            x_ok, need = x > 0.05, "> 0.05"
        else:
            x_ok, need = x < -0.05, "< -0.05"
        object_ok = bool(x_ok and up > 0.5)
        reason = (f"final x = {x:+.3f} m (need {need}){'' if x_ok else ' FAIL'}; "
                  f"axis z = {up:.2f} (need > 0.5){'' if up > 0.5 else ' FAIL'}")
    elif spec.kind == "pick_up":
        b = bottom(0)
        values.update(final_bottom_z=b, axis_z=float(axz[-1, 0]))
        object_ok = bool(b > 0.01)
        reason = f"final bottom z = {b:.3f} m (need > 0.01)" + ("" if object_ok else " FAIL")
    else:
        object_ok, reason = _put_check(spec, op, hei, rad, bottom(1), values)
    return MetricResult(spec.name, bool(hand_ok), bool(object_ok), hand_reason, reason, values)


def _hand_check(spec: ActionSpec, azi, ele, obj_x, fps, values: dict) -> tuple[bool, str]:
    expected = _EXPECTED_AZIMUTH[(spec.kind, spec.direction)]
    moving = moving_frames(obj_x, fps)
    n_mov = int(moving.sum())
    values["moving_frames"] = n_mov
    if n_mov == 0:
        return False, "the object never moves (no moving frame) FAIL"
    az_ok = np.abs(frames.angle_difference(azi[moving], expected)) < math.radians(90.0)
    n_az = int(az_ok.sum())
    ele_ok = bool((np.abs(ele[moving]) < math.radians(80.0)).all())
    values.update(azimuth_ok_fraction=n_az / n_mov,
                  max_abs_elevation=float(np.abs(ele[moving]).max()))
    ok = n_az > 0.75 * n_mov and ele_ok
    reason = (f"azimuth within 90 deg of {math.degrees(expected):.0f} deg in {n_az}/{n_mov} "
              f"moving frames (need > 75 %); |elevation| < 80 deg in all moving frames: "
              f"{'yes' if ele_ok else 'no'}{'' if ok else ' FAIL'}")
    return ok, reason


def _put_check(spec: ActionSpec, op, hei, rad, moved_bottom: float, values: dict
               ) -> tuple[bool, str]:
    static0, static1, moved = op[0, 0], op[-1, 0], op[-1, 1]
    static_shift = float(np.hypot(*(static1[:2] - static0[:2])))
    static_ok = static_shift < 0.01
    dx, dy = moved[0] - static1[0], moved[1] - static1[1]
    dist = float(np.hypot(dx, dy))
    values.update(static_shift=static_shift, distance=dist)
    parts = []
    if spec.relation == "onto":
        values["moved_bottom_z"] = moved_bottom
        above = moved_bottom + 1e-3 > hei[0]
        inside = dist < rad[0]
        ok = bool(above and inside and static_ok)
        parts.append(f"moved bottom z = {moved_bottom:.3f} m (need > {hei[0] - 1e-3:.3f})"
                     + ("" if above else " FAIL"))
        parts.append(f"horizontal distance {dist:.3f} m (need < radius {rad[0]:.3f})"
                     + ("" if inside else " FAIL"))
    else:
        bearing = math.atan2(dy, dx)
        values.update(bearing=bearing, moved_z=float(moved[2]))
        targets = _PUT_BEARINGS[spec.relation]
        dev = min(abs(float(frames.angle_difference(bearing, t))) for t in targets)
        bearing_ok = dev < math.radians(60.0)
        low = moved[2] < 0.05
        near = dist < 0.5
        ok = bool(bearing_ok and low and near and static_ok)
        want = " or ".join(f"{math.degrees(t):.0f}" for t in targets)
        parts.append(f"bearing {math.degrees(bearing):.0f} deg (need within 60 of {want})"
                     + ("" if bearing_ok else " FAIL"))
        parts.append(f"moved z = {moved[2]:.3f} m (need < 0.05)" + ("" if low else " FAIL"))
        parts.append(f"distance {dist:.3f} m (need < 0.5)" + ("" if near else " FAIL"))
    parts.append(f"static object moved {100 * static_shift:.1f} cm (need < 1)"
                 + ("" if static_ok else " FAIL"))
    return ok, ", ".join(parts)


def evaluate_trajectory(traj, action=None) -> MetricResult:
    """Judge an aligned :class:`~real2sim_core.trajectory.StateTrajectory`.

    The objects are the state model's oriented cuboids: their bottom is the lowest corner
    (:func:`cuboid_bottom`); heights (put onto: the static object's top) are the size z, radii
    half the mean of size x and y. The trajectory's own frame rate is used.

    Raises:
        InputError: the trajectory is not in the aligned frame, or no action is known.
    """
    if not traj.aligned:
        raise InputError(
            "evaluate_trajectory: the trajectory is not in the aligned frame; call "
            "traj.aligned_frame() first (the checks of METHOD section 8 are in the aligned frame)"
        )
    name = action or traj.action
    if not name:
        raise InputError("evaluate_trajectory: the trajectory names no action; pass action=")
    size = traj.obj_size
    return evaluate_arrays(
        name, traj.hand_pos, traj.hand_azi, traj.hand_ele, traj.obj_pos,
        heights=size[:, :, 2], radii=0.25 * (size[:, :, 0] + size[:, :, 1]),
        obj_rot=traj.obj_rot, sizes=size, fps=traj.fps,
    )


# --- CLI: real2sim evaluate-states -----------------------------------------------------------


def register(subparsers) -> None:
    """Add ``real2sim evaluate-states``."""
    p = subparsers.add_parser(
        "evaluate-states",
        help="judge a state-trajectory CSV with the benchmark checks (METHOD section 8)",
        description="Align a states CSV (unless it is already aligned) and print which of the "
        "METHOD section 8 checks and of the physical plausibility checks "
        "(real2sim_core.plausibility) pass. Exit code 0 when all pass, 1 when a check fails.",
    )
    p.add_argument("file", metavar="FILE.csv", help="states CSV (published or our format)")
    p.add_argument("--action", default=None,
                   help="action name or template id (default: the file's '# action:' line)")
    p.add_argument("--scale", type=float, default=ALIGN_SCALE,
                   help=f"alignment scale for unaligned files (default {ALIGN_SCALE}, METHOD "
                   "section 4)")
    p.set_defaults(func=_run_evaluate_states)


def _run_evaluate_states(args: argparse.Namespace) -> int:
    from .trajectory import read_states_csv

    traj = read_states_csv(args.file, action=args.action)
    if not traj.action:
        raise InputError(f"{args.file}: no action given; pass --action NAME")
    aligned = traj if traj.aligned else traj.aligned_frame(scale=args.scale)
    res = evaluate_trajectory(aligned)
    print(f"{args.file}: action {res.action}, {aligned.num_frames} frames")
    print(f"  hand check:   {'PASS' if res.hand_ok else 'FAIL'}  ({res.hand_reason})")
    print(f"  object check: {'PASS' if res.object_ok else 'FAIL'}  ({res.object_reason})")
    print(f"  success:      {'yes' if res.success else 'no'}")
    from .plausibility import check_trajectory

    pl = check_trajectory(aligned)
    print(f"  plausible:    {'yes' if pl.plausible else 'no'}  ({pl.reason})")
    return 0 if res.success and pl.plausible else 1
