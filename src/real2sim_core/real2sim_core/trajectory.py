"""The coarse 3D hand-object state trajectory: one data model for the whole stack.

A :class:`StateTrajectory` holds, per frame (METHOD sections 2 and 4):

* ``hand_pos``  ``(T, 3)``  fingertip position, m
* ``hand_azi``  ``(T,)``    direction azimuth from +x in the x-y plane, rad (unbounded)
* ``hand_ele``  ``(T,)``    direction elevation below the horizontal, rad (positive = down)
* ``obj_pos``   ``(T, N, 3)`` object centres, m (object 0 rests on the table; object 1 is the
  one the hand carries in two-object actions)
* ``obj_rot``   ``(T, N, 3)`` object rotation vectors, rad
* ``obj_size``  ``(T, N, 3)`` cuboid edge lengths, m
* ``touch``     ``(T,)``    1 where the hand touches the manipulated object, else 0
* ``times``     ``(T,)``    seconds from the first frame, strictly increasing

plus one camera per video (distance m, azimuth rad, elevation rad), the frame rate, the action
name and the source video id. ``aligned`` says whether positions are in the aligned frame of
METHOD section 4 (see :func:`align`). ``phase`` says which frames of the source video the rows
are when the trajectory has been cut to its action phase (METHOD section 4), else None.
``warnings`` are one-line flags of whoever made the trajectory (e.g. the estimator's
bad-input warnings); a flagged trajectory is not a good fit.

CSV files use the column names of the paper authors' published state files (headers may have
spaces after commas). Our writer adds a ``time`` column and ``# key: value`` comment lines with
the metadata so that a write/read round trip is lossless.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from . import frames
from .actions import get_action
from .errors import InputError, TrajectoryFormatError, UnknownNameError
from .textio import read_text

__all__ = [
    "Camera",
    "StateTrajectory",
    "read_states_csv",
    "write_states_csv",
    "align",
    "CAMERA_COLUMNS",
    "HAND_COLUMNS",
    "object_columns",
    "state_columns",
    "DEFAULT_FPS",
    "RAW_FRAME_ID",
    "ALIGNED_FRAME_ID",
    "ALIGN_SCALE",
    "HAND_LENGTH_WRIST",
    "MIRROR_SUFFIX",
]

DEFAULT_FPS = 12.0
RAW_FRAME_ID = "real2sim_world"
ALIGNED_FRAME_ID = "real2sim_aligned"
ALIGN_SCALE = 1.5
"""The scale of the spatial alignment (METHOD section 4): positions and sizes in the aligned
frame are the estimate's times this factor."""
HAND_LENGTH_WRIST = 0.15
"""Length of the hand (fingertip to wrist) in the estimate's raw frame, m: the estimator's hand
cylinder when only the hand is masked, and the hand drawn in RViz."""
MIRROR_SUFFIX = "~mirrored"
"""Appended to the video id of a trajectory reflected in x = 0
(:meth:`StateTrajectory.mirrored_x`)."""
CAMERA_COLUMNS = ("cdis", "cazi", "cele")
HAND_COLUMNS = ("hposx", "hposy", "hposz", "hazi", "hele", "touch")
_OBJECT_FIELDS = ("szx", "szy", "szz", "posx", "posy", "posz", "rot0", "rot1", "rot2")
_INDEX_COLUMNS = ("", "frame", "unnamed: 0", "index")


def object_columns(i: int) -> tuple[str, ...]:
    """Published column names of object ``i``: ``o{i}szx ... o{i}rot2``."""
    return tuple(f"o{i}{f}" for f in _OBJECT_FIELDS)


def state_columns(num_objects: int) -> tuple[str, ...]:
    """All published state columns for ``num_objects`` objects, in the published order."""
    cols = list(CAMERA_COLUMNS)
    for i in range(num_objects):
        cols += object_columns(i)
    return tuple(cols) + HAND_COLUMNS


@dataclass(frozen=True)
class Camera:
    """Camera of one video: distance to the origin (m), azimuth and elevation (rad)."""

    distance: float = 2.0
    azimuth: float = 0.0
    elevation: float = 0.0

    def position(self) -> np.ndarray:
        """Camera centre in the trajectory's frame, ``(3,)`` m."""
        return frames.camera_position(self.distance, self.azimuth, self.elevation)


@dataclass
class StateTrajectory:
    """Per-frame hand and object states of one demonstration (see the module docstring)."""

    times: np.ndarray
    hand_pos: np.ndarray
    hand_azi: np.ndarray
    hand_ele: np.ndarray
    obj_pos: np.ndarray
    obj_rot: np.ndarray
    obj_size: np.ndarray
    touch: np.ndarray
    camera: Camera = field(default_factory=Camera)
    fps: float = DEFAULT_FPS
    action: str = ""
    video_id: str = ""
    aligned: bool = False
    phase: tuple[int, int] | None = None
    """Frames ``[start, stop)`` (0-based) of the source video that the rows are, set by whoever
    cut the trajectory to its action phase (the estimator's ``states_aligned.csv``); None: not
    cut to an action phase (a whole video, or unknown). Carried unchanged by the methods."""
    warnings: tuple = ()

    def __post_init__(self):
        f = np.asarray
        self.times = f(self.times, dtype=float).reshape(-1)
        t = self.times.shape[0]
        self.hand_pos = f(self.hand_pos, dtype=float).reshape(t, 3)
        self.hand_azi = f(self.hand_azi, dtype=float).reshape(t)
        self.hand_ele = f(self.hand_ele, dtype=float).reshape(t)
        self.obj_pos = f(self.obj_pos, dtype=float).reshape(t, -1, 3)
        n = self.obj_pos.shape[1]
        self.obj_rot = f(self.obj_rot, dtype=float).reshape(t, n, 3)
        self.obj_size = f(self.obj_size, dtype=float).reshape(t, n, 3)
        self.touch = f(self.touch, dtype=float).reshape(t)
        self.fps = float(self.fps)
        self.action = str(self.action)
        self.video_id = str(self.video_id)
        if self.phase is not None:
            self.phase = (int(self.phase[0]), int(self.phase[1]))
        self.warnings = tuple(str(w).replace("\n", " ") for w in self.warnings)
        self.validate()

    # -- validation ---------------------------------------------------------------------------

    def validate(self, source: str = "state trajectory") -> None:
        """Raise :class:`TrajectoryFormatError` for empty, NaN, non-monotonic or mismatched
        data."""
        if self.num_frames == 0:
            raise TrajectoryFormatError(f"{source}: has no frames")
        if self.num_objects not in (1, 2):
            raise TrajectoryFormatError(
                f"{source}: has {self.num_objects} objects; the state model supports 1 or 2"
            )
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise TrajectoryFormatError(f"{source}: frame rate must be positive, got {self.fps}")
        for name in ("times", "hand_pos", "hand_azi", "hand_ele", "obj_pos", "obj_rot",
                     "obj_size", "touch"):
            arr = getattr(self, name)
            bad = ~np.isfinite(arr)
            if bad.any():
                frame = int(np.argwhere(bad)[0][0])
                raise TrajectoryFormatError(
                    f"{source}: {name} is not finite (NaN or inf) at frame {frame}"
                )
        if self.num_frames > 1:
            dt = np.diff(self.times)
            if (dt <= 0).any():
                k = int(np.argmax(dt <= 0)) + 1
                raise TrajectoryFormatError(
                    f"{source}: time is not strictly increasing at frame {k} "
                    f"({self.times[k - 1]!r} -> {self.times[k]!r})"
                )
        for c in (self.camera.distance, self.camera.azimuth, self.camera.elevation):
            if not math.isfinite(c):
                raise TrajectoryFormatError(f"{source}: camera parameters must be finite")
        if self.phase is not None and not 0 <= self.phase[0] < self.phase[1]:
            raise TrajectoryFormatError(
                f"{source}: action phase frames {self.phase[0]}:{self.phase[1]} are not a "
                "non-empty range start:stop (0-based, stop exclusive)"
            )
        if self.action:
            try:
                spec = get_action(self.action)
            except UnknownNameError as e:
                raise TrajectoryFormatError(f"{source}: {e}") from None
            self.action = spec.name
            if spec.num_objects != self.num_objects:
                raise TrajectoryFormatError(
                    f"{source}: action {spec.name!r} needs {spec.num_objects} object(s) but the "
                    f"trajectory has {self.num_objects}"
                )

    # -- basic properties ---------------------------------------------------------------------

    @property
    def num_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def num_objects(self) -> int:
        return int(self.obj_pos.shape[1])

    @property
    def duration(self) -> float:
        """Time from the first to the last frame, seconds."""
        return float(self.times[-1] - self.times[0])

    @property
    def frame_id(self) -> str:
        return ALIGNED_FRAME_ID if self.aligned else RAW_FRAME_ID

    def hand_direction(self) -> np.ndarray:
        """Unit fingertip directions ``(T, 3)``."""
        return frames.hand_direction(self.hand_azi, self.hand_ele)

    def object_quat(self) -> np.ndarray:
        """Object orientations as quaternions (x, y, z, w), ``(T, N, 4)``."""
        return frames.rotvec_to_quat(self.obj_rot)

    def copy(self, **changes) -> StateTrajectory:
        """Deep copy, optionally replacing fields (arrays or metadata)."""
        arrays = {
            k: np.array(getattr(self, k))
            for k in ("times", "hand_pos", "hand_azi", "hand_ele", "obj_pos", "obj_rot",
                      "obj_size", "touch")
        }
        arrays.update(changes)
        return replace(self, **arrays)

    def allclose(self, other: StateTrajectory, atol: float = 0.0) -> bool:
        """True when every array and metadata field matches (exactly, by default)."""
        if (self.num_frames, self.num_objects) != (other.num_frames, other.num_objects):
            return False
        meta = ("camera", "fps", "action", "video_id", "aligned", "phase")
        if any(getattr(self, k) != getattr(other, k) for k in meta if k != "camera"):
            return False
        if not np.allclose(
            [self.camera.distance, self.camera.azimuth, self.camera.elevation],
            [other.camera.distance, other.camera.azimuth, other.camera.elevation],
            atol=atol, rtol=0,
        ):
            return False
        return all(
            np.allclose(getattr(self, k), getattr(other, k), atol=atol, rtol=0)
            for k in ("times", "hand_pos", "hand_azi", "hand_ele", "obj_pos", "obj_rot",
                      "obj_size", "touch")
        )

    # -- time ---------------------------------------------------------------------------------

    def interpolate(self, times) -> StateTrajectory:
        """States at arbitrary times (s), clamped to the trajectory's time span.

        Positions, sizes and angles are interpolated linearly (azimuth on its unwrapped value),
        object rotations by spherical linear interpolation, touch by the nearest frame.
        """
        t_new = np.atleast_1d(np.asarray(times, dtype=float))
        if not np.isfinite(t_new).all():
            raise TrajectoryFormatError("interpolate: requested times must be finite")
        if self.num_frames == 1:
            idx = np.zeros(len(t_new), dtype=int)
            return self._take(idx, t_new)
        tc = np.clip(t_new, self.times[0], self.times[-1])
        i = np.clip(np.searchsorted(self.times, tc, side="right") - 1, 0, self.num_frames - 2)
        w = (tc - self.times[i]) / (self.times[i + 1] - self.times[i])

        def lerp(a):
            ww = w.reshape((-1,) + (1,) * (a.ndim - 1))
            return a[i] * (1.0 - ww) + a[i + 1] * ww

        rots = np.empty((len(t_new), self.num_objects, 3))
        for k in range(self.num_objects):
            slerp = Slerp(self.times, Rotation.from_rotvec(self.obj_rot[:, k]))
            rots[:, k] = slerp(tc).as_rotvec()
        nearest = np.where(w < 0.5, i, i + 1)
        return replace(
            self,
            times=t_new,
            hand_pos=lerp(self.hand_pos),
            hand_azi=lerp(self.hand_azi),
            hand_ele=lerp(self.hand_ele),
            obj_pos=lerp(self.obj_pos),
            obj_rot=rots,
            obj_size=lerp(self.obj_size),
            touch=self.touch[nearest],
        )

    def _take(self, idx, times) -> StateTrajectory:
        return replace(
            self,
            times=times,
            hand_pos=self.hand_pos[idx],
            hand_azi=self.hand_azi[idx],
            hand_ele=self.hand_ele[idx],
            obj_pos=self.obj_pos[idx],
            obj_rot=self.obj_rot[idx],
            obj_size=self.obj_size[idx],
            touch=self.touch[idx],
        )

    def mirrored_x(self) -> StateTrajectory:
        """This trajectory reflected in the plane x = 0: the same scene in a horizontally
        flipped video (image right is +x; in the aligned frame the plane holds object 0's
        centre). Positions and the camera are reflected, object rotations and the hand
        direction turned accordingly (:mod:`real2sim_core.frames`); sizes, touch and times are
        unchanged; the video id gets :data:`MIRROR_SUFFIX`. A flip keeps what an action label
        without left or right says (``ActionSpec.x_mirror``)."""
        cam_azi = float(frames.mirror_x_camera_azimuth(self.camera.azimuth))
        return self.copy(hand_pos=frames.mirror_x(self.hand_pos),
                         hand_azi=frames.mirror_x_hand_azimuth(self.hand_azi),
                         obj_pos=frames.mirror_x(self.obj_pos),
                         obj_rot=frames.mirror_x_rotvec(self.obj_rot),
                         camera=replace(self.camera, azimuth=cam_azi),
                         video_id=self.video_id + MIRROR_SUFFIX)

    def slice(self, start: int, stop: int) -> StateTrajectory:
        """Frames ``start:stop`` (times keep their values)."""
        idx = np.arange(self.num_frames)[start:stop]
        if len(idx) == 0:
            raise TrajectoryFormatError(
                f"slice {start}:{stop} of {self.num_frames} frames is empty")
        return self._take(idx, self.times[idx])

    def retimed(self, start: float, end: float) -> StateTrajectory:
        """Map the frames linearly onto ``[start, end]`` seconds (temporal alignment, METHOD 4)."""
        if not end > start:
            raise InputError(f"retimed: end ({end}) must be after start ({start})")
        if self.num_frames == 1:
            return replace(self, times=np.array([start]))
        u = (self.times - self.times[0]) / (self.times[-1] - self.times[0])
        return replace(self, times=start + u * (end - start))

    # -- frames -------------------------------------------------------------------------------

    def aligned_frame(self, scale: float = ALIGN_SCALE) -> StateTrajectory:
        """This trajectory in the aligned frame (see :func:`align`)."""
        return align(self, scale=scale)

    # -- I/O ----------------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, path, action: str | None = None, fps: float | None = None):
        """Read a states CSV (see :func:`read_states_csv`)."""
        return read_states_csv(path, action=action, fps=fps)

    def to_csv(self, path) -> Path:
        """Write a states CSV (see :func:`write_states_csv`)."""
        return write_states_csv(self, path)


# --- alignment ------------------------------------------------------------------------------


def align(traj: StateTrajectory, scale: float = ALIGN_SCALE) -> StateTrajectory:
    """Spatial alignment of METHOD section 4, into the aligned frame.

    1. rotate the scene about z by ``-camera.azimuth`` so the camera stands on the -y side;
    2. translate in x, y so that object 0 starts at the origin;
    3. express object rotations relative to their first frame, ``R(t) R(0)^T``;
    4. scale all positions and object sizes by ``scale`` (the table stays at z = 0).

    The hand azimuth loses the camera azimuth; elevations are unchanged. Camera fields of the
    result are zero (the camera has been removed) and ``aligned`` is True. Aligning an already
    aligned trajectory is an error, not a second transformation.
    """
    if traj.aligned:
        raise TrajectoryFormatError("align: the trajectory is already in the aligned frame")
    if not (math.isfinite(scale) and scale > 0):
        raise InputError(f"align: scale must be a positive number, got {scale!r}")
    az = traj.camera.azimuth
    rz = frames.rot_z(-az)
    hand = traj.hand_pos @ rz.T
    obj = traj.obj_pos @ rz.T
    origin = np.array([obj[0, 0, 0], obj[0, 0, 1], 0.0])
    hand = hand - origin
    obj = obj - origin
    r_world = rz @ frames.rotvec_to_matrix(traj.obj_rot)  # (T, N, 3, 3)
    r_rel = r_world @ np.swapaxes(r_world[0:1], -1, -2)
    return replace(
        traj,
        times=traj.times.copy(),
        hand_pos=hand * scale,
        hand_azi=traj.hand_azi - az,
        hand_ele=traj.hand_ele.copy(),
        obj_pos=obj * scale,
        obj_rot=frames.matrix_to_rotvec(r_rel),
        obj_size=traj.obj_size * scale,
        touch=traj.touch.copy(),
        camera=Camera(0.0, 0.0, 0.0),
        aligned=True,
    )


# --- CSV ------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return repr(float(x))


def write_states_csv(traj: StateTrajectory, path) -> Path:
    """Write ``traj`` with the published column names plus a ``time`` column.

    Metadata (action, video id, fps, aligned and, for a trajectory cut to its action phase,
    ``phase: START:STOP``, the source video's frames, 0-based, stop exclusive) goes into
    ``# key: value`` lines at the top; floats are written with ``repr`` so a read gives back
    identical values.
    Each warning is written as a ``# warning:`` line and read back.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = state_columns(traj.num_objects)
    buf = io.StringIO()
    buf.write("# real2sim state trajectory\n")
    buf.write(f"# action: {traj.action}\n# video_id: {traj.video_id}\n")
    buf.write(f"# fps: {_fmt(traj.fps)}\n# aligned: {str(traj.aligned).lower()}\n")
    if traj.phase is not None:
        buf.write(f"# phase: {traj.phase[0]}:{traj.phase[1]}\n")
    for text in traj.warnings:
        buf.write(f"# warning: {text}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("time",) + cols)
    c = traj.camera
    for k in range(traj.num_frames):
        row = [traj.times[k], c.distance, c.azimuth, c.elevation]
        for i in range(traj.num_objects):
            row += list(traj.obj_size[k, i]) + list(traj.obj_pos[k, i]) + list(traj.obj_rot[k, i])
        row += list(traj.hand_pos[k]) + [traj.hand_azi[k], traj.hand_ele[k], traj.touch[k]]
        w.writerow([_fmt(v) for v in row])
    path.write_text(buf.getvalue())
    return path


def read_states_csv(path, action: str | None = None, fps: float | None = None) -> StateTrajectory:
    """Read a states CSV in the published format (or ours).

    Accepts headers with spaces after commas, an unnamed/``frame`` index column, and an
    optional ``time`` column (otherwise ``time = row / fps``). ``# key: value`` lines before the
    header give metadata; ``action`` and ``fps`` arguments override them.

    Raises:
        TrajectoryFormatError: naming the file, the line/column and the problem, for a missing
            file, missing columns, non-numeric or NaN values, non-monotonic time, camera values
            that change between rows, or an unknown action / object count mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise TrajectoryFormatError(f"{path}: no such file")
    meta: dict[str, str] = {}
    warnings: list[str] = []
    lines = read_text(path, "state CSV", TrajectoryFormatError).splitlines()
    body_start = 0
    for n, line in enumerate(lines):
        s = line.strip()
        if s.startswith("#"):
            if ":" in s:
                k, v = s[1:].split(":", 1)
                if k.strip().lower() == "warning":
                    warnings.append(v.strip())
                else:
                    meta[k.strip().lower()] = v.strip()
            body_start = n + 1
        elif s == "":
            body_start = n + 1
        else:
            break
    rows = list(csv.reader(lines[body_start:]))
    rows = [r for r in rows if any(x.strip() for x in r)]
    if not rows:
        raise TrajectoryFormatError(f"{path}: no header row")
    header = [h.strip() for h in rows[0]]
    header_line = body_start + 1
    data = rows[1:]
    if not data:
        raise TrajectoryFormatError(f"{path}: header only, no data rows")
    index = {h: j for j, h in enumerate(header) if h.lower() not in _INDEX_COLUMNS or h == "time"}
    num_objects = 2 if any(h.startswith("o1") for h in header) else 1
    required = state_columns(num_objects)
    missing = [c for c in required if c not in index]
    if missing:
        raise TrajectoryFormatError(
            f"{path}: missing column(s) {', '.join(missing)} in the header on line {header_line}; "
            f"a {num_objects}-object states file needs: {', '.join(required)}"
        )
    wanted = list(required) + (["time"] if "time" in index else [])
    table = np.empty((len(data), len(wanted)))
    for r, row in enumerate(data):
        line_no = header_line + 1 + r
        for j, name in enumerate(wanted):
            col = index[name]
            if col >= len(row):
                raise TrajectoryFormatError(
                    f"{path}: line {line_no} (data row {r}) has {len(row)} fields; "
                    f"column {name!r} is missing"
                )
            txt = row[col].strip()
            try:
                val = float(txt)
            except ValueError:
                raise TrajectoryFormatError(
                    f"{path}: line {line_no} (data row {r}), column {name!r}: "
                    f"{txt!r} is not a number"
                ) from None
            if not math.isfinite(val):
                raise TrajectoryFormatError(
                    f"{path}: line {line_no} (data row {r}), column {name!r}: value is {txt} "
                    f"(NaN/inf is not allowed; interpolate or drop the frame)"
                )
            table[r, j] = val
    col = {name: table[:, j] for j, name in enumerate(wanted)}

    fps_val = fps if fps is not None else float(meta.get("fps", DEFAULT_FPS))
    if "time" in col:
        times = col["time"]
        dt = np.diff(times)
        if (dt <= 0).any():
            r = int(np.argmax(dt <= 0)) + 1
            raise TrajectoryFormatError(
                f"{path}: line {header_line + 1 + r} (data row {r}), column 'time': time is not "
                f"strictly increasing ({times[r - 1]!r} -> {times[r]!r})"
            )
    else:
        times = np.arange(len(data)) / fps_val
    cam = np.stack([col[c] for c in CAMERA_COLUMNS], axis=1)
    varying = np.abs(cam - cam[0]).max(axis=1) > 1e-9
    if varying.any():
        r = int(np.argmax(varying))
        raise TrajectoryFormatError(
            f"{path}: line {header_line + 1 + r} (data row {r}): camera columns cdis/cazi/cele "
            f"change within the file; there is one camera per video"
        )

    def stack(names):
        return np.stack([col[n] for n in names], axis=-1)

    obj_size = np.stack([stack(object_columns(i)[0:3]) for i in range(num_objects)], axis=1)
    obj_pos = np.stack([stack(object_columns(i)[3:6]) for i in range(num_objects)], axis=1)
    obj_rot = np.stack([stack(object_columns(i)[6:9]) for i in range(num_objects)], axis=1)
    act = action if action is not None else meta.get("action", "")
    aligned = meta.get("aligned", "false").lower() in ("1", "true", "yes")
    phase = None
    if "phase" in meta:
        start, sep, stop = meta["phase"].partition(":")
        try:
            phase = (int(start), int(stop))
        except ValueError:
            raise TrajectoryFormatError(
                f"{path}: '# phase: {meta['phase']}' is not START:STOP (the source video's "
                "frames of the action phase, 0-based, stop exclusive, e.g. '# phase: 15:44')"
            ) from None
    try:
        return StateTrajectory(
            times=times,
            hand_pos=stack(("hposx", "hposy", "hposz")),
            hand_azi=col["hazi"],
            hand_ele=col["hele"],
            obj_pos=obj_pos,
            obj_rot=obj_rot,
            obj_size=obj_size,
            touch=col["touch"],
            camera=Camera(*cam[0]),
            fps=fps_val,
            action=act,
            video_id=meta.get("video_id", ""),
            aligned=aligned,
            phase=phase,
            warnings=tuple(warnings),
        )
    except TrajectoryFormatError as e:
        raise TrajectoryFormatError(f"{path}: {e}") from None
