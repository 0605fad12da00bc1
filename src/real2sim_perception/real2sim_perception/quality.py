"""Checks of the input masks before the fit: :func:`input_warnings`, one-line warnings about
input the state model cannot explain plausibly (``cfg.quality``), and whether one is severe.

Imports no rclpy.
"""

from __future__ import annotations

import numpy as np
from real2sim_core.actions import ActionSpec

from .config import PerceptionConfig
from .inputs import MaskSequence

__all__ = ["input_warnings"]


def input_warnings(seq: MaskSequence, touch: np.ndarray, spec: ActionSpec,
                   cfg: PerceptionConfig) -> tuple[list[str], bool]:
    """One-line warnings about input the state model cannot explain plausibly
    (``cfg.quality``) and whether one is severe.

    * the manipulated object is never separated from the hand (touch in nearly every frame
      where it is seen): its resting pose and the phase are not observed (not severe: the
      fit fails only when its result is then not plausible);
    * an object mask covers (nearly) the whole frame: not an object (severe: the fit fails).
    """
    q = cfg.quality
    out = []
    severe = False
    name = seq.tracks[1 + spec.manipulated_object]
    seen = seq.track(name).any(axis=(1, 2))
    if seen.any():
        frac = float((np.asarray(touch)[seen] > 0.5).mean())
        if frac >= q.max_touch_fraction:
            out.append(
                f"{name}: the hand touches it in {100 * frac:.0f} % of the frames where it is "
                f"seen (>= {100 * q.max_touch_fraction:.0f} %): it is never separated from the "
                f"hand, so its resting pose and the action phase are not observable; check the "
                f"annotations (object and hand boxes) before using this trajectory")
    h, w = seq.image_size
    for name in seq.tracks[1:]:
        masks = seq.track(name)
        seen = masks.any(axis=(1, 2))
        if not seen.any():
            continue
        area = float(np.median(masks[seen].sum((1, 2)))) / float(h * w)
        if area >= q.max_object_area_fraction:
            out.append(
                f"{name}: its mask covers {100 * area:.0f} % of the frame (median; >= "
                f"{100 * q.max_object_area_fraction:.0f} %): a box around the whole frame is not "
                f"an object; check the annotations before using this trajectory")
            severe = True
    return out, severe
