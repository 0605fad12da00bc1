"""Touch flags (hand touches the manipulated object) per frame, for the state estimator.

Two sources (METHOD section 2: "touch: from the contact detector, or estimated"):

* **Detector contact states** (100DOH: N = none, S = self, O = other person, P = portable
  object, F = stationary object). A frame touches when the chosen hand's state is one of
  ``touch_states`` (P, F) and, when the detector gives its hand-to-object offset and the
  action has two objects, the offset points at the manipulated object rather than the other.
* **Mask proximity** otherwise: the gap between the hand mask and the manipulated object's
  mask (0 when they overlap), in fractions of the frame height, with hysteresis: touch starts
  when the gap falls to ``on_frac`` and ends only when it exceeds ``off_frac``.

Both are cleaned over time: frames without an observation take the nearest observed value
within ``max_fill`` frames (else 0), then touching runs shorter than ``min_on_frames`` are
dropped and non-touching gaps shorter than ``min_off_frames`` are filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from real2sim_core.config import ConfigError, check_range

from .detectors.base import CONTACT_STATES, Instance

__all__ = [
    "ContactConfig",
    "touch_from_states",
    "touch_from_masks",
    "mask_gaps",
    "hysteresis",
    "clean_runs",
    "fill_missing",
]


@dataclass
class ContactConfig:
    """Touch estimation settings.

    Attributes:
        touch_states: 100DOH contact states that count as touching the object.
        use_offsets: check that a touching hand's offset vector points at the manipulated
            object (two-object actions).
        on_frac: mask gap at or below which touch starts, fraction of the frame height.
        off_frac: mask gap above which touch ends, fraction of the frame height (>= on_frac).
        min_on_frames: touching runs shorter than this are dropped, frames.
        min_off_frames: non-touching gaps shorter than this inside touching are filled, frames.
        max_fill: frames without an observation take the nearest observed value up to this
            distance, frames; further away they are 0.
    """

    touch_states: list[str] = field(default_factory=lambda: ["P", "F"])
    use_offsets: bool = True
    on_frac: float = 0.01
    off_frac: float = 0.03
    min_on_frames: int = 2
    min_off_frames: int = 2
    max_fill: int = 6

    def __post_init__(self):
        bad = [s for s in self.touch_states if s not in CONTACT_STATES]
        if bad:
            raise ConfigError(
                f"ContactConfig.touch_states has {bad}; allowed {', '.join(CONTACT_STATES)}"
            )
        check_range(self, "on_frac", 0.0, 1.0)
        check_range(self, "off_frac", self.on_frac, 1.0)
        check_range(self, "min_on_frames", 1)
        check_range(self, "min_off_frames", 0)
        check_range(self, "max_fill", 0)


def fill_missing(values: np.ndarray, max_fill: int) -> np.ndarray:
    """Fill NaNs ``(T,)`` with the nearest observed value within ``max_fill`` frames, else 0."""
    v = np.asarray(values, dtype=float).copy()
    obs = np.flatnonzero(~np.isnan(v))
    if obs.size == 0:
        return np.zeros_like(v)
    t = np.arange(v.size)
    nearest = obs[np.argmin(np.abs(t[:, None] - obs[None, :]), axis=1)]
    dist = np.abs(nearest - t)
    out = np.where(dist <= max_fill, v[nearest], 0.0)
    return out


def clean_runs(flags: np.ndarray, min_on: int, min_off: int) -> np.ndarray:
    """Fill 0-gaps shorter than ``min_off`` between 1s, then drop 1-runs shorter than ``min_on``.

    Args:
        flags: ``(T,)`` 0/1 values.
        min_on: shortest kept touching run, frames.
        min_off: shortest kept non-touching gap between two touching runs, frames.
    """
    f = (np.asarray(flags) > 0.5).astype(int)

    def runs(x, val):
        out, start = [], None
        for i, a in enumerate(np.append(x, 1 - val)):
            if a == val and start is None:
                start = i
            elif a != val and start is not None:
                out.append((start, i))
                start = None
        return out

    for s, e in runs(f, 0):
        if s > 0 and e < f.size and e - s < min_off:
            f[s:e] = 1
    for s, e in runs(f, 1):
        if e - s < min_on:
            f[s:e] = 0
    return f.astype(float)


def hysteresis(gap: np.ndarray, on: float, off: float) -> np.ndarray:
    """Two-threshold switch on a gap series ``(T,)``: on at ``gap <= on``, off at ``gap > off``.

    NaN entries keep the current state (and are reported as NaN for later filling).
    """
    out = np.full(gap.shape, np.nan)
    state = 0.0
    for t, g in enumerate(gap):
        if np.isnan(g):
            continue
        if g <= on:
            state = 1.0
        elif g > off:
            state = 0.0
        out[t] = state
    return out


def mask_gaps(hand: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """Per-frame gap between a hand and an object mask ``(T, H, W)``, px (0 if they touch).

    Returns ``(T,)`` with NaN where either mask is empty.
    """
    import cv2

    t_n = hand.shape[0]
    out = np.full(t_n, np.nan)
    for t in range(t_n):
        if not hand[t].any() or not obj[t].any():
            continue
        if (hand[t] & obj[t]).any():
            out[t] = 0.0
            continue
        # distance of every pixel to the nearest hand pixel
        dist = cv2.distanceTransform((~hand[t]).astype(np.uint8), cv2.DIST_L2, 5)
        out[t] = float(dist[obj[t]].min())
    return out


def touch_from_masks(hand: np.ndarray, obj: np.ndarray, cfg: ContactConfig | None = None
                     ) -> np.ndarray:
    """Touch flags ``(T,)`` in {0, 1} from hand and manipulated-object masks ``(T, H, W)``."""
    cfg = cfg or ContactConfig()
    h = hand.shape[1]
    gaps = mask_gaps(hand, obj) / h
    raw = hysteresis(gaps, cfg.on_frac, cfg.off_frac)
    # frames where the hand or the object is missed take the nearest decision within
    # max_fill frames (a missed detection); further away the hand is out of view: 0
    return clean_runs(fill_missing(raw, cfg.max_fill), cfg.min_on_frames, cfg.min_off_frames)


def touch_from_states(hand_instances: list[Instance | None], object_boxes: np.ndarray,
                      cfg: ContactConfig | None = None) -> np.ndarray | None:
    """Touch flags ``(T,)`` from the detector's contact states of the chosen hand.

    Args:
        hand_instances: per frame, the hand track's instance (None where missed).
        object_boxes: ``(N, T, 4)`` boxes of the selected objects in state order (the last
            is the manipulated one), NaN where missed.
        cfg: settings.

    Returns:
        ``(T,)`` flags in {0, 1}, or None when no instance carries a contact state.
    """
    cfg = cfg or ContactConfig()
    t_n = len(hand_instances)
    raw = np.full(t_n, np.nan)
    any_state = False
    for t, inst in enumerate(hand_instances):
        if inst is None or inst.contact is None:
            continue
        any_state = True
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
    if not any_state:
        return None
    return clean_runs(fill_missing(raw, cfg.max_fill), cfg.min_on_frames, cfg.min_off_frames)
