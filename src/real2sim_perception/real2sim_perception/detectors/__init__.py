"""Detector backends of the video front end behind one interface (:class:`Detector`).

``make_detector("precomputed", path=...)``, ``make_detector("mediapipe", model_path=...)`` and
``make_detector("detectron2")`` build a backend; :func:`detector_names` lists them. Optional
packages (detectron2, mediapipe) are imported only when their backend is constructed.
"""

from .base import (
    CONTACT_STATES,
    Detector,
    Instance,
    detector_names,
    get_detector_class,
    make_detector,
    role_of_label,
)
from .masks import decode_segmentation, polygons_to_mask, rle_decode, rle_encode

__all__ = [
    "CONTACT_STATES",
    "Detector",
    "Instance",
    "detector_names",
    "get_detector_class",
    "make_detector",
    "role_of_label",
    "decode_segmentation",
    "polygons_to_mask",
    "rle_decode",
    "rle_encode",
    "default_detector_name",
]


def default_detector_name() -> str:
    """``"detectron2"`` where it imports (the paper's Mask R-CNN), else ``"precomputed"``."""
    return "detectron2" if get_detector_class("detectron2").availability().ok else "precomputed"
