"""The input of the state estimator: :class:`MaskSequence`, per-frame, per-track binary masks.

Every source (Something-Else box annotations, :mod:`.something_else`; a folder of mask PNGs,
:mod:`.mask_folder`; a video through the detector + tracker front end, :mod:`.frontend`)
produces one :class:`MaskSequence`; :mod:`.sources` picks the source. Tracks are named in
the **state model's numbering** (METHOD section 2): ``"hand"``, ``"object0"`` (rests on the
table; in two-object actions the one that stays), ``"object1"`` (two-object actions only: the
one the hand carries).

Something-Else annotations number the objects the other way round (``"object 0"`` is the
moved object): :func:`~.something_else.from_something_else` maps them on import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from real2sim_core.trajectory import DEFAULT_FPS

from .errors import MaskShapeError, TrackMissingError

__all__ = ["MaskSequence", "track_names"]


def track_names(num_objects: int) -> tuple[str, ...]:
    """Track names for a 1- or 2-object action: ``("hand", "object0"[, "object1"])``."""
    return ("hand",) + tuple(f"object{i}" for i in range(num_objects))


@dataclass
class MaskSequence:
    """Binary masks of the hand and the objects over the frames of one video.

    Attributes:
        masks: ``(K, T, H, W)`` bool, one binary mask per track and frame, tracks ordered
            as :attr:`tracks`. An all-zero mask means "not observed in this frame" (the
            silhouette loss skips it; the physics terms interpolate).
        tracks: track names in state numbering, ``("hand", "object0"[, "object1"])``.
        fps: frame rate, frames per second (12 for the paper's pipeline).
        touch: optional ``(T,)`` touch flags in [0, 1] (1 = the hand touches the manipulated
            object). None: estimate from the masks
            (:func:`~real2sim_perception.touch.estimate_touch`).
        boxes: optional ``(K, T, 4)`` boxes ``x1, y1, x2, y2`` in pixels, NaN where missing.
        hand_covers_forearm: True when the hand masks include the forearm (segmenter
            output); False when only the hand up to the wrist is masked (box annotations).
            Selects the hand cylinder length of the state model.
        video_id: source video id.
        source: a short description of where the masks come from.
        notes: warnings collected on import (missing frames, clipped boxes, recoveries).
    """

    masks: np.ndarray
    tracks: tuple[str, ...]
    fps: float = DEFAULT_FPS
    touch: np.ndarray | None = None
    boxes: np.ndarray | None = None
    hand_covers_forearm: bool = False
    video_id: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        m = np.asarray(self.masks)
        if m.ndim != 4:
            raise MaskShapeError(
                f"masks must have shape (tracks, frames, height, width); got {m.shape}"
            )
        self.masks = m.astype(bool, copy=False)
        self.tracks = tuple(self.tracks)
        if len(self.tracks) != m.shape[0]:
            raise MaskShapeError(
                f"{m.shape[0]} mask tracks but {len(self.tracks)} names {self.tracks}"
            )
        if self.tracks not in (track_names(1), track_names(2)):
            raise MaskShapeError(
                f"tracks must be {track_names(1)} or {track_names(2)}; got {self.tracks}"
            )
        if m.shape[1] < 1:
            raise MaskShapeError("the mask sequence has no frames")
        if self.touch is not None:
            t = np.asarray(self.touch, dtype=float).reshape(-1)
            if t.shape[0] != m.shape[1]:
                raise MaskShapeError(
                    f"touch has {t.shape[0]} flags for {m.shape[1]} frames; give one per frame"
                )
            self.touch = np.clip(t, 0.0, 1.0)
        if self.boxes is not None:
            b = np.asarray(self.boxes, dtype=float)
            if b.shape != (m.shape[0], m.shape[1], 4):
                raise MaskShapeError(f"boxes must be (K, T, 4) = {(m.shape[0], m.shape[1], 4)}")
            self.boxes = b
        if not self.fps > 0:
            raise MaskShapeError(f"fps must be positive, got {self.fps}")

    # -- properties -----------------------------------------------------------------------

    @property
    def num_frames(self) -> int:
        return int(self.masks.shape[1])

    @property
    def num_objects(self) -> int:
        return len(self.tracks) - 1

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of the frames, px."""
        return int(self.masks.shape[2]), int(self.masks.shape[3])

    @property
    def valid(self) -> np.ndarray:
        """``(K, T)`` bool: the track has a non-empty mask in the frame."""
        return self.masks.any(axis=(2, 3))

    def track(self, name: str) -> np.ndarray:
        """Masks ``(T, H, W)`` of one track."""
        return self.masks[self.tracks.index(name)]

    def slice(self, start: int, stop: int) -> MaskSequence:
        """Frames ``start:stop``."""
        return replace(
            self,
            masks=self.masks[:, start:stop],
            touch=None if self.touch is None else self.touch[start:stop],
            boxes=None if self.boxes is None else self.boxes[:, start:stop],
            notes=list(self.notes),
        )

    def check_tracks_present(self) -> None:
        """Raise :class:`TrackMissingError` when the hand or an object is never observed."""
        valid = self.valid
        for k, name in enumerate(self.tracks):
            if not valid[k].any():
                raise TrackMissingError(
                    f"video {self.video_id or '?'}: track {name!r} is empty in all "
                    f"{self.num_frames} frames ({self.source}); the estimator needs at least "
                    f"one frame with a {name} mask. Check the annotation/segmentation, or the "
                    f"action (it decides how many objects are expected)."
                )


