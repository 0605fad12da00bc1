"""Action phase estimation (METHOD section 4, paper appendix A.2) and its IoU against labels.

The action phase is where the hand touches the manipulated object or that object moves
faster than a speed threshold (after smoothing). With ``PhaseConfig.touch_span`` (default) a
video with touch frames has the span of its touch frames as its phase: the plausible object
model keeps the object still outside that span, so its motion could only add the smoothing's
spill; the speed decides only without any touch. Short gaps are filled and short blips
dropped; the phase is the span from the first to the last remaining frame (one contiguous
window, like the ground-truth ``phase_action`` column of ``videos.csv``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from real2sim_core.textio import read_text

from .config import PhaseConfig
from .errors import PerceptionInputError

__all__ = [
    "detect_phase",
    "estimate_phase",
    "object_speed",
    "phase_iou",
    "parse_frame_range",
    "read_videos_csv",
]


def object_speed(positions, fps: float, smooth_frames: int = 5) -> np.ndarray:
    """Speed ``(T,)`` m/s of a point trajectory ``(T, 3)`` m after a moving-average filter.

    The filter has ``smooth_frames`` taps with edge padding; the derivative is a central
    difference with edge padding, times ``fps``.
    """
    p = np.asarray(positions, dtype=float)
    if len(p) < 2:
        return np.zeros(len(p))
    k = max(1, int(smooth_frames))
    if k > 1:
        pad = np.pad(p, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
        kern = np.ones(k) / k
        p = np.stack([np.convolve(pad[:, i], kern, mode="valid") for i in range(3)], -1)
    padded = np.pad(p, ((1, 1), (0, 0)), mode="edge")
    v = (padded[2:] - padded[:-2]) / 2.0 * fps
    return np.linalg.norm(v, axis=-1)


def _clean(active: np.ndarray, min_gap: int, min_seg: int) -> np.ndarray:
    a = active.astype(bool).copy()
    idx = np.where(a)[0]
    for s, e in zip(idx[:-1], idx[1:]):  # fill short gaps
        if 1 < e - s <= min_gap + 1:
            a[s:e] = True
    # drop short segments
    t = len(a)
    i = 0
    while i < t:
        if a[i]:
            j = i
            while j < t and a[j]:
                j += 1
            if j - i < min_seg:
                a[i:j] = False
            i = j
        else:
            i += 1
    return a


def estimate_phase(obj_positions, touch, fps: float, cfg: PhaseConfig | None = None
                   ) -> tuple[int, int]:
    """Predicted action phase as a frame range ``[start, stop)`` (0-based, stop exclusive).

    Args:
        obj_positions: ``(T, 3)`` manipulated object's centre, m (raw world frame).
        touch: ``(T,)`` touch flags in [0, 1] (or None).
        fps: frame rate, Hz.
        cfg: thresholds; defaults of :class:`PhaseConfig`.

    Returns:
        ``(start, stop)``; the whole video when nothing is active (see :func:`detect_phase`).
    """
    found = detect_phase(obj_positions, touch, fps, cfg)
    return found if found is not None else (0, len(obj_positions))


def detect_phase(obj_positions, touch, fps: float, cfg: PhaseConfig | None = None
                 ) -> tuple[int, int] | None:
    """Like :func:`estimate_phase`, but None when no frame is active (no detectable phase)."""
    cfg = cfg or PhaseConfig()
    p = np.asarray(obj_positions, dtype=float)
    t = len(p)
    if cfg.use_touch and cfg.touch_span and touch is not None:
        touched = np.where(np.asarray(touch, dtype=float).reshape(-1)[:t] > 0.5)[0]
        if len(touched):
            return int(touched[0]), int(touched[-1]) + 1
    active = object_speed(p, fps, cfg.smooth_frames) > cfg.speed_threshold
    if cfg.use_touch and touch is not None:
        active |= np.asarray(touch, dtype=float).reshape(-1)[:t] > 0.5
    active = _clean(active, cfg.min_gap_frames, cfg.min_segment_frames)
    idx = np.where(active)[0]
    if len(idx) == 0:
        return None
    return int(idx[0]), int(idx[-1]) + 1


def phase_iou(pred: tuple[int, int], gt: tuple[int, int]) -> float:
    """Temporal IoU of two ``[start, stop)`` frame ranges."""
    inter = max(0, min(pred[1], gt[1]) - max(pred[0], gt[0]))
    union = max(pred[1], gt[1]) - min(pred[0], gt[0])
    return inter / union if union > 0 else 0.0


def parse_frame_range(text: str) -> tuple[int, int] | None:
    """``"16-44"`` (1-based, inclusive, as in ``videos.csv``) -> ``(15, 44)``; ``"-"`` -> None."""
    s = str(text).strip()
    if s in ("", "-"):
        return None
    try:
        a, b = (int(x) for x in s.split("-"))
    except ValueError:
        raise PerceptionInputError(f"bad frame range {text!r}; expected 'first-last'") from None
    return a - 1, b


def read_videos_csv(path) -> list[dict]:
    """Rows of ``something_else/videos.csv`` with ``phase_*`` columns parsed to ranges."""
    path = Path(path)
    if not path.is_file():
        raise PerceptionInputError(f"{path}: videos table not found")
    rows = []
    text = read_text(path, "videos table CSV", PerceptionInputError)
    for row in csv.DictReader(io.StringIO(text, newline="")):
        row = dict(row)
        for k in ("phase_approach", "phase_action", "phase_leave"):
            if k in row:
                row[k] = parse_frame_range(row[k])
        row["num_objects"] = int(row.get("num_objects", 1))
        rows.append(row)
    return rows
