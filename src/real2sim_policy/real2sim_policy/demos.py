"""Demonstrations: reading, checking and keeping the state trajectories a policy learns from.

A demonstration is an estimated :class:`~real2sim_core.trajectory.StateTrajectory` cut to its
action phase, in the aligned frame (METHOD section 4).

* :func:`load_demos` reads them from CSV files or folders (``real2sim train --states``);
* :func:`check_demonstrations` is the one check of a demonstration set against an action and
  a reward reduction, used by :func:`~real2sim_policy.train.train_policy`, the CLI and the node;
* :class:`DemonstrationStore` keeps the trajectories a node receives (per video id, with the
  reasons of the rejected ones) and selects those of one action;
* :func:`demo_anchors` (two-object resets) and :func:`demo_fingerprint` (checkpoint signature).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
from real2sim_core.actions import ActionSpec, get_action
from real2sim_core.errors import InputError, Real2SimError
from real2sim_core.trajectory import StateTrajectory

__all__ = ["MIN_DEMO_FRAMES", "DemonstrationStore", "check_demonstrations", "demo_anchors",
           "demo_files", "demo_fingerprint", "load_demos", "mirror_note", "with_mirrored"]

MIN_DEMO_FRAMES = 2
"""Fewest frames a demonstration needs (the imitation reward follows its motion)."""


def _ids(demos) -> str:
    return ", ".join(repr(d.video_id or "no id") for d in demos)


def check_demonstrations(demos, action, reduction: str | None = None) -> ActionSpec:
    """Check a demonstration set for training ``action`` with reward ``reduction``.

    Returns:
        The action's :class:`~real2sim_core.actions.ActionSpec`.

    Raises:
        InputError: no demonstrations, demonstrations with another number of objects or with
            fewer than :data:`MIN_DEMO_FRAMES` frames, or reward ``single`` with other than
            exactly one demonstration (each message names the demonstrations).
    """
    spec = get_action(action)
    if not demos:
        raise InputError(f"no demonstrations of {spec.name} given")
    wrong = [d for d in demos if d.num_objects != spec.num_objects]
    if wrong:
        raise InputError(
            f"demonstration(s) {_ids(wrong)} have {wrong[0].num_objects} object(s); "
            f"{spec.name} needs {spec.num_objects} (use trajectories of {spec.name})")
    short = [d for d in demos if d.num_frames < MIN_DEMO_FRAMES]
    if short:
        raise InputError(f"demonstration(s) {_ids(short)} have fewer than {MIN_DEMO_FRAMES} "
                         "frames")
    if reduction == "single" and len(demos) != 1:
        raise InputError(f"reward 'single' needs exactly one demonstration, got {len(demos)} "
                         f"({_ids(demos)})")
    return spec


def mirror_note(mirror_demos: bool) -> str:
    """What a training announcement adds after its demonstrations with ``train.mirror_demos``."""
    return " and their left-right mirror images" if mirror_demos else ""


def with_mirrored(demos, action) -> list[StateTrajectory]:
    """``demos`` followed by each of them reflected in x = 0 (``train.mirror_demos``).

    Raises:
        InputError: ``action`` names left or right (a flipped push or pull shows the opposite
            action).
    """
    spec = get_action(action)
    if spec.x_mirror != spec.name:
        raise InputError(
            f"train.mirror_demos: a left-right flipped video of {spec.name} shows "
            f"{spec.x_mirror}, so its demonstrations cannot be mirrored into more of "
            f"{spec.name}; set train.mirror_demos to false for this action")
    return list(demos) + [d.mirrored_x() for d in demos]


def demo_files(paths) -> list[Path]:
    """The CSV files named by ``paths`` (files, or folders searched recursively for ``*.csv``).

    Raises:
        InputError: a path that does not exist, or a folder without CSV files.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(x for x in p.rglob("*.csv") if x.is_file())
            if not found:
                raise InputError(f"{p}: no *.csv state trajectories in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder (pass state CSVs written by "
                             "`real2sim estimate`, or folders of them)")
    return files


def load_demos(paths, action) -> list[StateTrajectory]:
    """Read the action-phase demonstrations of ``action`` (CSV files or folders of them).

    A demonstration is an estimated trajectory cut to its predicted action phase, in the aligned
    frame (METHOD section 4): the ``states_aligned.csv`` of ``real2sim estimate``, whose
    ``# phase: START:STOP`` line says which video frames it holds (``make demos`` copies them
    into ``models/demos/<action>/``). Everything is checked before training starts.

    Raises:
        InputError: naming the file, for no files, an unreadable file, a trajectory of another
            action or with the wrong number of objects, a trajectory without a detectable action
            phase (a whole video: no ``# phase:`` line), one not in the aligned frame, or fewer
            than 2 action-phase frames.
    """
    spec = get_action(action)
    files = demo_files(paths)
    if not files:
        raise InputError("no demonstrations given: pass --states FILE_OR_DIR ...")
    demos = []
    for f in files:
        d = StateTrajectory.from_csv(f)
        if d.num_objects != spec.num_objects:
            raise InputError(
                f"{f}: has {d.num_objects} object(s) but {spec.name} is a "
                f"{spec.num_objects}-object action; pass trajectories of {spec.name}")
        if d.action and get_action(d.action).name != spec.name:
            raise InputError(f"{f}: is a demonstration of {get_action(d.action).name!r}, "
                             f"not of {spec.name!r}; pass demonstrations of {spec.name} only")
        if d.phase is None:
            raise InputError(
                f"{f}: no detectable action phase: the file has no '# phase: START:STOP' line "
                "(a whole-video states.csv, or the estimator found no frame where the hand "
                "touches or the object moves); pass the states_aligned.csv that `real2sim "
                "estimate` writes (`make demos`), or leave this video out")
        if not d.aligned:
            raise InputError(f"{f}: is not in the aligned frame ('# aligned: false'); pass "
                             "the states_aligned.csv that `real2sim estimate` writes")
        if d.num_frames < MIN_DEMO_FRAMES:
            raise InputError(f"{f}: has {d.num_frames} action-phase frame(s) (phase "
                             f"{d.phase[0]}:{d.phase[1]}); a demonstration needs at least 2")
        demos.append(d)
    return demos


def demo_anchors(reward) -> np.ndarray | None:
    """Fingertip offsets for two-object resets: the first object-1 positions (m) of the
    demonstrations of ``reward`` (a :class:`~real2sim_policy.reward.DemoReward`), ``(D, 3)``;
    None for one-object actions."""
    if reward.obj_pos.shape[2] < 2:
        return None
    first = reward.obj_pos[0, :, 1].copy()  # (D, 3), z at the object's bottom
    first[:, 2] = np.maximum(first[:, 2], 0.0) + 0.01
    return first


def demo_fingerprint(d: StateTrajectory) -> str:
    """``<video id>: <frames> frames, sha1 <12 hex>`` of the trajectory's numbers."""
    h = hashlib.sha1()
    for arr in (d.times, d.hand_pos, d.hand_azi, d.hand_ele, d.obj_pos, d.obj_rot, d.obj_size,
                d.touch):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return f"{d.video_id or 'no id'}: {d.num_frames} frames, sha1 {h.hexdigest()[:12]}"


def _same_action(label: str, action: str) -> bool:
    try:
        return get_action(label).name == action
    except Real2SimError:
        return False


class DemonstrationStore:
    """Demonstrations received one at a time (e.g. on a topic), per video id; thread-safe.

    A trajectory that is refused (it did not validate, or has fewer than
    :data:`MIN_DEMO_FRAMES` frames) is remembered with its reason, never kept, so it cannot
    block a later training; a later good trajectory of the same video id replaces the record.
    """

    def __init__(self):
        self.kept: dict[str, StateTrajectory] = {}
        self.rejected: dict[str, tuple[str, str]] = {}  # video id -> (labelled action, reason)
        self._lock = threading.Lock()

    def add(self, traj: StateTrajectory) -> int:
        """Keep ``traj``; returns the number kept.

        Raises:
            InputError: ``traj`` has fewer than :data:`MIN_DEMO_FRAMES` frames (not kept; the
                caller records it with :meth:`reject`).
        """
        if traj.num_frames < MIN_DEMO_FRAMES:
            raise InputError(
                f"demonstration {traj.video_id or '?'!r} ({traj.action}) has "
                f"{traj.num_frames} frame(s); a demonstration needs at least "
                f"{MIN_DEMO_FRAMES} (not kept)")
        with self._lock:
            self.kept[traj.video_id or str(len(self.kept))] = traj
            self.rejected.pop(traj.video_id, None)
            return len(self.kept)

    def reject(self, video_id: str, action: str, reason: str) -> None:
        """Record that the trajectory of ``video_id`` labelled ``action`` was refused."""
        with self._lock:
            self.rejected[video_id or f"#{len(self.rejected)}"] = (str(action), str(reason))

    def for_action(self, action, source: str = "", hint: str = "") -> list[StateTrajectory]:
        """The kept demonstrations of ``action``.

        Raises:
            InputError: none kept for ``action``; the message says what is kept (of which
                actions), why trajectories of ``action`` were rejected, where they come from
                (``source``) and ``hint``.
        """
        name = get_action(action).name
        with self._lock:
            kept = dict(self.kept)
            rejected = dict(self.rejected)
        demos = [d for d in kept.values() if d.action == name]
        if demos:
            return demos
        others = sorted({d.action or "unlabelled" for d in kept.values()})
        why = [f"{vid}: {reason}" for vid, (act, reason) in rejected.items()
               if _same_action(act, name)]
        raise InputError(
            f"no demonstrations of {name} received{' on ' + source if source else ''} ("
            + (f"kept: {len(kept)} of {', '.join(others)}" if kept else "none kept")
            + (f"; rejected: {'; '.join(why)}" if why else "")
            + f"); publish state trajectories of {name} there{hint} first")
