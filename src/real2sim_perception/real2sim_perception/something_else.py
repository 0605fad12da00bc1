"""Something-Else ground-truth boxes (``annotations.json``) -> :class:`~.inputs.MaskSequence`.

Each box becomes a filled rectangle mask; the annotation's object numbering (``"object 0"`` is
the moved object) is mapped to the state model's (``object0`` rests, ``object1`` is moved);
corners are ordered and clipped, the frame width of Something-Something v2 videos (427 or
320 px) is inferred from the boxes, and a hand labelled as a duplicate object box is recovered.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.textio import read_json
from real2sim_core.trajectory import DEFAULT_FPS

from .errors import (
    AnnotationFormatError,
    BoxOutsideFrameError,
    EmptyAnnotationError,
    TrackMissingError,
    UnknownVideoError,
)
from .inputs import MaskSequence, track_names

__all__ = ["from_something_else", "infer_image_width", "boxes_to_masks", "SSV2_HEIGHT"]

log = logging.getLogger(__name__)

SSV2_HEIGHT = 240
"""Frame height of Something-Something v2 videos, px."""


@lru_cache(maxsize=4)
def _load_json(path: str, mtime: float):
    return read_json(path, "Something-Else annotation JSON", EmptyAnnotationError)


_BOX_KEYS = ("x1", "y1", "x2", "y2")


def _parse_box(path, vid, entry, t: int, lab) -> list[float]:
    """``[x1, y1, x2, y2]`` of one label, px; refuses a missing/non-numeric/non-finite field
    naming the frame, the object and the field."""

    def where() -> str:
        name = entry.get("name") if isinstance(entry, dict) else None
        frame = f"frame {name!r}" if name else f"frame #{t + 1}"
        obj = lab.get("gt_annotation", "?") if isinstance(lab, dict) else "?"
        cat = lab.get("category") if isinstance(lab, dict) else None
        return (f"{path}: video {vid}, {frame}, object {obj!r}"
                + (f" ({cat})" if cat and cat != obj else ""))

    if not isinstance(lab, dict):
        raise AnnotationFormatError(f"{where()}: a label must be a JSON object with 'box2d', "
                                    f"got {type(lab).__name__}")
    b = lab.get("box2d")
    if not isinstance(b, dict):
        raise AnnotationFormatError(
            f"{where()}: " + ("no 'box2d'" if b is None else
                              f"'box2d' is {type(b).__name__}, not an object")
            + f"; each label needs box2d {{{', '.join(_BOX_KEYS)}}} in pixels")
    box = []
    for key in _BOX_KEYS:
        if key not in b:
            raise AnnotationFormatError(f"{where()}: box2d has no {key!r} (has "
                                        f"{', '.join(map(repr, b)) or 'nothing'}); give "
                                        f"{', '.join(_BOX_KEYS)} in pixels")
        v = b[key]
        try:
            if isinstance(v, bool):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError):
            raise AnnotationFormatError(f"{where()}: box2d {key} = {v!r} is not a number; "
                                        "give the box corner in pixels") from None
        if not math.isfinite(f):
            raise AnnotationFormatError(f"{where()}: box2d {key} = {v!r} is not finite; give "
                                        "the box corner in pixels (drop the label if the "
                                        "object is not visible in this frame)")
        box.append(f)
    return box


def infer_image_width(x2_values, height: int = SSV2_HEIGHT) -> int:
    """Guess the frame width of a Something-Something v2 video from its boxes' right edges.

    Something-Something v2 frames are 240 px high and mostly 427 px wide (16:9); a few are
    320 px wide (4:3). Boxes are clipped to the frame by the annotators up to a few pixels,
    so a video whose boxes end within 2 px of 320 and never beyond it is taken as 4:3.

    Args:
        x2_values: right edges of all boxes of the video, px.
        height: frame height, px.

    Returns:
        The width in pixels.
    """
    x2 = np.asarray(list(x2_values), dtype=float)
    wide = int(round(height * 16 / 9))
    if x2.size == 0:
        return wide
    top = float(np.max(x2))
    narrow = int(round(height * 4 / 3))
    if narrow - 2.0 <= top <= narrow + 0.5 and np.sum(x2 >= narrow - 2.0) >= 2:
        return narrow
    return wide


def _box_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def _pick(cands, prev):
    """Choose one of several boxes of the same track: the best overlap with ``prev``."""
    if prev is None:
        return max(range(len(cands)), key=lambda i: (cands[i][2] - cands[i][0])
                   * (cands[i][3] - cands[i][1]))
    return max(range(len(cands)), key=lambda i: _box_iou(cands[i], prev))


def from_something_else(
    path,
    video_id,
    action,
    *,
    image_width: int | None = None,
    image_height: int = SSV2_HEIGHT,
    fps: float = DEFAULT_FPS,
    recover_unlabelled_hand: bool = True,
) -> MaskSequence:
    """Masks from Something-Else ground-truth boxes (``annotations.json`` format).

    Each box becomes a filled rectangle mask (clipped to the frame). Annotation ``"object 0"``
    (the moved object) becomes state object 1 in two-object actions and state object 0 in
    one-object actions; ``"object 1"`` (the static object) becomes state object 0. Frames
    without a box of a track get an empty mask. When a frame holds several boxes with the same
    label, the one overlapping the track's previous box most is kept; if the hand is never
    labelled but such extra boxes exist (a known annotation slip: the hand labelled as the
    object), the extra boxes become the hand track (``recover_unlabelled_hand``), with a note.

    Args:
        path: the annotation JSON file.
        video_id: key of the video in the file (str or int).
        action: action name (decides 1 or 2 objects).
        image_width: frame width, px; None infers it (:func:`infer_image_width`).
        image_height: frame height, px (240 for Something-Something v2).
        fps: frame rate of the annotated frames.
        recover_unlabelled_hand: see above.

    Returns:
        The :class:`MaskSequence` (boxes in :attr:`MaskSequence.boxes`), touch left None.

    Raises:
        EmptyAnnotationError: the file or the video's list is empty / unreadable.
        UnknownVideoError: the id is not in the file.
        BoxOutsideFrameError: all boxes of a track lie outside the frame.
        TrackMissingError: the hand or an object never appears.
    """
    spec = get_action(action)
    path = Path(path)
    if not path.is_file():
        raise EmptyAnnotationError(f"{path}: annotation file not found")
    data = _load_json(str(path.resolve()), path.stat().st_mtime)
    if not data:
        raise EmptyAnnotationError(f"{path}: the annotation file holds no videos")
    if not isinstance(data, dict):
        raise EmptyAnnotationError(
            f"{path}: expected a mapping video id -> list of frames, got {type(data).__name__}"
        )
    vid = str(video_id)
    if vid not in data:
        ids = sorted(data, key=lambda s: (len(s), s))
        shown = ", ".join(ids[:12]) + (" ..." if len(ids) > 12 else "")
        raise UnknownVideoError(
            f"video id {vid!r} is not in {path} ({len(ids)} videos: {shown})"
        )
    frames = data[vid]
    if not frames:
        raise EmptyAnnotationError(f"{path}: video {vid} has an empty annotation list")

    if not isinstance(frames, list) or not all(isinstance(e, dict) for e in frames):
        raise AnnotationFormatError(
            f"{path}: video {vid}: expected a list of frame objects ({{'name', 'labels'}}), "
            f"got {type(frames).__name__}")

    def frame_no(entry, i):
        m = re.search(r"(\d+)\.\w+$", str(entry.get("name", "")))
        return int(m.group(1)) if m else i + 1

    frames = sorted(frames, key=lambda e: frame_no(e, 0))
    n = spec.num_objects
    tracks = track_names(n)
    label_to_track = {"object hand": 0}
    if n == 1:
        label_to_track["object 0"] = 1
    else:
        label_to_track["object 1"] = 1
        label_to_track["object 0"] = 2
    t_count = len(frames)
    raw = np.full((len(tracks), t_count, 4), np.nan)
    extras: list[list] = [[] for _ in range(t_count)]
    ignored: set[str] = set()
    x2_all = []
    for t, entry in enumerate(frames):
        by_track: dict[int, list] = {}
        labels = entry.get("labels", []) or []
        if not isinstance(labels, list):
            raise AnnotationFormatError(f"{path}: video {vid}, frame {entry.get('name', t + 1)!r}:"
                                        f" 'labels' must be a list, got {type(labels).__name__}")
        for lab in labels:
            box = _parse_box(path, vid, entry, t, lab)
            ann = str(lab.get("gt_annotation", "")).strip().lower()
            x2_all.append(max(box[0], box[2]))
            k = label_to_track.get(ann)
            if k is None and str(lab.get("category", "")).lower() == "hand":
                k = 0
            if k is None:
                ignored.add(ann)
                continue
            by_track.setdefault(k, []).append(box)
        for k, cands in by_track.items():
            prev_idx = np.where(~np.isnan(raw[k, :t, 0]))[0]
            prev = raw[k, prev_idx[-1]] if len(prev_idx) else None
            j = _pick(cands, prev)
            raw[k, t] = cands[j]
            extras[t] += [c for i, c in enumerate(cands) if i != j]
    notes = []
    if ignored:
        notes.append(f"ignored labels {sorted(ignored)} (not used by a {n}-object action)")
    if np.isnan(raw[0, :, 0]).all() and recover_unlabelled_hand:
        hits = [t for t in range(t_count) if extras[t]]
        if hits:
            for t in hits:
                prev_idx = np.where(~np.isnan(raw[0, :t, 0]))[0]
                prev = raw[0, prev_idx[-1]] if len(prev_idx) else None
                raw[0, t] = extras[t][_pick(extras[t], prev)]
            notes.append(
                f"no box is labelled as the hand; used the {len(hits)} duplicate object boxes "
                "as the hand track (annotation slip)"
            )
    width = int(image_width) if image_width else infer_image_width(x2_all, image_height)
    boxes = raw.copy()
    # normalise corner order, then clip to the frame
    boxes[..., [0, 2]] = np.sort(raw[..., [0, 2]], axis=-1)
    boxes[..., [1, 3]] = np.sort(raw[..., [1, 3]], axis=-1)
    boxes[..., [0, 2]] = np.clip(boxes[..., [0, 2]], 0.0, width)
    boxes[..., [1, 3]] = np.clip(boxes[..., [1, 3]], 0.0, image_height)
    present = ~np.isnan(raw[..., 0])
    empty = present & (
        (boxes[..., 2] - boxes[..., 0] < 0.5) | (boxes[..., 3] - boxes[..., 1] < 0.5)
    )
    boxes[empty] = np.nan
    for k, name in enumerate(tracks):
        if not present[k].any():
            raise TrackMissingError(
                f"video {vid}: the {name} ({_annotation_label(k, n)}) has no box in any of the "
                f"{t_count} frames of {path}; the estimator needs at least one. Check the "
                f"action ({spec.name} expects {n} object(s)) or the annotation."
            )
        if empty[k].all():
            raise BoxOutsideFrameError(
                f"video {vid}: every box of the {name} lies outside the {width}x{image_height} "
                f"frame (e.g. {raw[k][present[k]][0].round(1).tolist()}); check the image "
                f"size (--image-width) or the box coordinates"
            )
        if empty[k].any():
            notes.append(f"{name}: {int(empty[k].sum())} box(es) outside the frame dropped")
        missing = int((~present[k]).sum())
        if missing:
            notes.append(f"{name}: no box in {missing}/{t_count} frames")
    masks = boxes_to_masks(boxes, image_height, width)
    for note in notes:
        log.info("video %s: %s", vid, note)
    return MaskSequence(
        masks=masks, tracks=tracks, fps=fps, touch=None, boxes=boxes,
        hand_covers_forearm=False, video_id=vid,
        source=f"Something-Else boxes ({path.name})", notes=notes,
    )


def _annotation_label(k: int, n: int) -> str:
    if k == 0:
        return 'annotation "object hand"'
    if n == 1:
        return 'annotation "object 0"'
    return 'annotation "object 1"' if k == 1 else 'annotation "object 0"'


def boxes_to_masks(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Filled-rectangle masks ``(K, T, H, W)`` bool from boxes ``(K, T, 4)`` (NaN = none).

    A pixel (row i, column j) covers ``[j, j+1) x [i, i+1)``; it is inside when its centre is.
    """
    k_n, t_n = boxes.shape[:2]
    out = np.zeros((k_n, t_n, height, width), dtype=bool)
    for k in range(k_n):
        for t in range(t_n):
            b = boxes[k, t]
            if np.isnan(b[0]):
                continue
            x1, x2 = int(np.ceil(b[0] - 0.5)), int(np.ceil(b[2] - 0.5))
            y1, y2 = int(np.ceil(b[1] - 0.5)), int(np.ceil(b[3] - 0.5))
            out[k, t, max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    return out
