"""Touch flags (the hand touches the manipulated object) per frame: one estimator, one config.

METHOD section 2: "touch: from the contact detector, or estimated". Each frame first gets a
decision (1, 0, or unknown) from one of two sources:

* **masks** (:func:`touch_from_masks`, what :func:`estimate_touch` runs on a
  :class:`~real2sim_perception.inputs.MaskSequence` without touch flags): a frame touches when
  the hand mask, dilated by ``dilate_frac`` of the frame height, covers at least
  ``min_overlap`` of the manipulated object's mask. A frame where the hand is out of view does
  not touch (annotations: a frame without a hand box); other frames without both masks (a
  missed detection) are unknown.
* **detector contact states** (:func:`touch_from_states`; 100DOH: N = none, S = self,
  O = other person, P = portable object, F = stationary object): a frame touches when the
  chosen hand's state is one of ``touch_states`` and, when the detector gives its
  hand-to-object offset and the action has two objects, the offset points at the manipulated
  object rather than the other. A frame without a hand instance or state is unknown.

Then the same cleaning for both: unknown frames take the nearest decided frame's value within
``max_fill`` frames (else 0), and a temporal median filter of ``median_frames`` frames removes
isolated flips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from real2sim_core.config import ConfigError, check_range

from .detectors.base import CONTACT_STATES, Instance

__all__ = [
    "TouchSource",
    "TouchConfig",
    "estimate_touch",
    "touch_from_masks",
    "touch_from_states",
    "fill_missing",
]


class TouchSource(Enum):
    """Where a sequence's touch flags come from."""

    DETECTOR = "detector"  # the detector's contact states (:func:`touch_from_states`)
    MASKS = "masks"  # hand / object masks (:func:`touch_from_masks`)


@dataclass
class TouchConfig:
    """Touch estimation settings (``touch:`` in ``config/perception.yaml``).

    Attributes:
        dilate_frac: dilation of the hand mask, fraction of the frame height.
        min_overlap: fraction of the object mask the dilated hand mask must cover to touch.
        touch_states: 100DOH contact states that count as touching the object.
        use_offsets: check that a touching hand's offset vector points at the manipulated
            object (two-object actions).
        max_fill: a frame without a decision takes the nearest decided frame's value up to
            this distance, frames; further away it does not touch. 0 = no limit.
        median_frames: odd width of the temporal median filter, frames (1 = none).
    """

    dilate_frac: float = 0.02
    min_overlap: float = 0.05
    touch_states: list[str] = field(default_factory=lambda: ["P", "F"])
    use_offsets: bool = True
    max_fill: int = 0
    median_frames: int = 5

    def __post_init__(self):
        check_range(self, "dilate_frac", 0.0, 0.5)
        check_range(self, "min_overlap", 0.0, 1.0)
        bad = [s for s in self.touch_states if s not in CONTACT_STATES]
        if bad:
            raise ConfigError(
                f"TouchConfig.touch_states has {bad}; allowed {', '.join(CONTACT_STATES)}"
            )
        check_range(self, "max_fill", 0)
        check_range(self, "median_frames", 1)
        if self.median_frames % 2 == 0:
            raise ConfigError(
                f"TouchConfig.median_frames = {self.median_frames} must be odd (e.g. 5)"
            )


def fill_missing(values: np.ndarray, max_fill: int) -> np.ndarray:
    """Fill NaNs ``(T,)`` with the nearest observed value within ``max_fill`` frames, else 0.

    ``max_fill`` 0 means no limit. Ties take the earlier frame; no observation at all gives 0.
    """
    v = np.asarray(values, dtype=float).copy()
    obs = np.flatnonzero(~np.isnan(v))
    if obs.size == 0:
        return np.zeros_like(v)
    t = np.arange(v.size)
    nearest = obs[np.argmin(np.abs(t[:, None] - obs[None, :]), axis=1)]
    limit = max_fill if max_fill > 0 else math.inf
    return np.where(np.abs(nearest - t) <= limit, v[nearest], 0.0)


def _smooth(flags: np.ndarray, cfg: TouchConfig) -> np.ndarray:
    """Median-filter ``(T,)`` filled decisions and threshold them to 0/1 floats."""
    from scipy.ndimage import median_filter

    if cfg.median_frames > 1:
        flags = median_filter(flags, size=cfg.median_frames, mode="nearest")
    return (flags > 0.5).astype(float)


def touch_from_masks(hand: np.ndarray, obj: np.ndarray, cfg: TouchConfig | None = None, *,
                     out_of_view: np.ndarray | None = None) -> np.ndarray:
    """Touch flags ``(T,)`` in {0, 1} from hand and manipulated-object masks ``(T, H, W)``.

    Frames with both masks are decided; frames where the hand is out of view do not touch;
    the others take the nearest decided frame's value (``max_fill``).

    Args:
        hand: ``(T, H, W)`` bool hand masks.
        obj: ``(T, H, W)`` bool masks of the manipulated object.
        cfg: settings.
        out_of_view: ``(T,)`` bool, frames where the hand is known to be out of view. None:
            every frame without a hand mask (annotations: no box = not visible); a tracker
            passes all False (an empty mask there is a missed detection).
    """
    import cv2

    cfg = cfg or TouchConfig()
    r = max(1, int(round(cfg.dilate_frac * hand.shape[1])))
    kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    hand_seen = hand.any(axis=(1, 2))
    decided = np.full(hand.shape[0], np.nan)
    for t in np.flatnonzero(hand_seen & obj.any(axis=(1, 2))):
        dil = cv2.dilate(hand[t].astype(np.uint8), kernel) > 0
        decided[t] = float((dil & obj[t]).sum() / max(obj[t].sum(), 1) >= cfg.min_overlap)
    away = ~hand_seen if out_of_view is None else np.asarray(out_of_view, dtype=bool)
    filled = np.where(away, 0.0, fill_missing(decided, cfg.max_fill))
    return _smooth(filled, cfg)


def estimate_touch(seq, cfg: TouchConfig | None = None) -> np.ndarray:
    """Touch flags ``(T,)`` in {0, 1} of a :class:`~real2sim_perception.inputs.MaskSequence`,
    from its hand and manipulated-object (the last track's) masks."""
    return touch_from_masks(seq.track("hand"), seq.track(seq.tracks[-1]), cfg)


def touch_from_states(hand_instances: list[Instance | None], object_boxes: np.ndarray,
                      cfg: TouchConfig | None = None) -> np.ndarray | None:
    """Touch flags ``(T,)`` from the detector's contact states of the chosen hand.

    Args:
        hand_instances: per frame, the hand track's instance (None where missed).
        object_boxes: ``(N, T, 4)`` boxes of the selected objects in state order (the last
            is the manipulated one), NaN where missed.
        cfg: settings.

    Returns:
        ``(T,)`` flags in {0, 1}, or None when no instance carries a contact state.
    """
    cfg = cfg or TouchConfig()
    raw = np.full(len(hand_instances), np.nan)
    for t, inst in enumerate(hand_instances):
        if inst is None or inst.contact is None:
            continue
        touching = inst.contact in cfg.touch_states
        if touching and cfg.use_offsets and object_boxes.shape[0] > 1:
            p = inst.contact_point()
            if p is not None:
                b = object_boxes[:, t]
                ok = ~np.isnan(b[:, 0])
                if ok.sum() > 1:
                    c = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
                    d = np.where(ok, np.hypot(*(c - p).T), np.inf)
                    touching = int(np.argmin(d)) == object_boxes.shape[0] - 1
        raw[t] = float(touching)
    if np.isnan(raw).all():
        return None
    return _smooth(fill_missing(raw, cfg.max_fill), cfg)
