"""``mediapipe`` backend: the MediaPipe Tasks hand landmarker from a local ``.task`` model.

Built with the Tasks API: ``mediapipe.tasks.python.BaseOptions(model_asset_path=...)``,
``vision.HandLandmarkerOptions`` and ``vision.HandLandmarker.create_from_options``; frames go
in as ``mediapipe.Image(image_format=ImageFormat.SRGB, ...)``. Each hand's 21 landmarks
(normalised image coordinates) become a mask: their convex hull, dilated by a fraction of the
hull's size (the landmarks are joint centres, so the hull misses the finger and palm
thickness); the box is the mask's extent. The model reports hands only (no objects, no
contact): pair it with an object detector or with the mask-based contact estimate.

mediapipe installs from PyPI but ships no model files: pass a ``hand_landmarker.task`` (the
hand landmark and palm detection TFLite models in one zip) with ``--hand-model``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import DetectorUnavailableError, ModelFileError
from .base import Availability, Detector, Instance

__all__ = ["MediaPipeHandDetector", "landmarks_to_mask"]


class MediaPipeHandDetector(Detector):
    """Hand landmarker (MediaPipe Tasks) as a hand detector.

    Args:
        model_path: local ``.task`` model bundle.
        num_hands: maximum number of hands per frame.
        min_detection_confidence: palm detector threshold.
        min_presence_confidence: landmark presence threshold.
        min_tracking_confidence: landmark tracking threshold (video mode).
        video_mode: use ``RunningMode.VIDEO`` (temporal tracking, needs increasing
            timestamps); False runs every frame independently (``RunningMode.IMAGE``).
        dilate_frac: dilation of the landmark hull, fraction of the hull's larger side.

    Raises:
        ModelFileError: the model file does not exist or mediapipe cannot load it.
        DetectorUnavailableError: mediapipe does not import here.
    """

    name = "mediapipe"
    hand_covers_forearm = False

    def __init__(self, model_path, *, num_hands: int = 2, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 video_mode: bool = True, dilate_frac: float = 0.12):
        if model_path is None:
            raise ModelFileError(
                "the mediapipe backend needs a hand landmarker model: pass --hand-model "
                "FILE.task (mediapipe ships no models)"
            )
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelFileError(
                f"{path}: hand landmarker model not found; pass --hand-model with a local "
                "hand_landmarker.task file (the MediaPipe hand landmark + palm detection "
                "models; mediapipe installs without them)"
            )
        available = self.availability()
        if not available.ok:
            raise DetectorUnavailableError(
                f"the mediapipe backend needs mediapipe ({available.detail}): "
                "pip install mediapipe"
            )
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.video_mode = bool(video_mode)
        self.dilate_frac = float(dilate_frac)
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO if video_mode else vision.RunningMode.IMAGE,
            num_hands=int(num_hands),
            min_hand_detection_confidence=float(min_detection_confidence),
            min_hand_presence_confidence=float(min_presence_confidence),
            min_tracking_confidence=float(min_tracking_confidence),
        )
        try:
            self._landmarker = vision.HandLandmarker.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as e:
            raise ModelFileError(
                f"{path}: mediapipe cannot load this hand landmarker model ({e}); pass a "
                "hand_landmarker.task bundle"
            ) from None
        self.model_path = path
        self._last_ms = -1

    @classmethod
    def availability(cls) -> Availability:
        if importlib.util.find_spec("mediapipe") is None:
            return Availability(False, "No module named 'mediapipe'")
        return Availability(True, "mediapipe importable (needs a .task model file)")

    def detect(self, frame, *, index=0, source_index=None, timestamp=0.0) -> list[Instance]:
        mp = self._mp
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        if self.video_mode:
            ms = max(int(round(timestamp * 1000.0)), self._last_ms + 1)
            self._last_ms = ms
            result = self._landmarker.detect_for_video(image, ms)
        else:
            result = self._landmarker.detect(image)
        h, w = frame.shape[:2]
        out = []
        for i, lms in enumerate(result.hand_landmarks or []):
            xy = np.array([[lm.x * w, lm.y * h] for lm in lms], dtype=float)
            mask = landmarks_to_mask(xy, h, w, self.dilate_frac)
            if not mask.any():
                continue
            ys, xs = np.nonzero(mask)
            box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=float)
            cats = result.handedness[i] if result.handedness and i < len(result.handedness) \
                else []
            score = float(cats[0].score) if cats else 1.0
            side = str(cats[0].category_name).lower() if cats and cats[0].category_name \
                else None
            out.append(Instance(box=box, score=score, label="hand", role="hand", mask=mask,
                                side=side))
        return out

    def close(self) -> None:
        lm = getattr(self, "_landmarker", None)
        if lm is not None:
            lm.close()
            self._landmarker = None


def landmarks_to_mask(xy: np.ndarray, height: int, width: int,
                      dilate_frac: float = 0.12) -> np.ndarray:
    """Filled, dilated convex hull of hand landmarks.

    Args:
        xy: ``(N, 2)`` landmark positions ``x, y`` in pixels (may lie outside the frame).
        height: frame height, px.
        width: frame width, px.
        dilate_frac: dilation radius as a fraction of the hull's larger side.

    Returns:
        ``(H, W)`` bool mask (empty when the hull lies outside the frame).
    """
    import cv2

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    mask = np.zeros((height, width), dtype=np.uint8)
    if len(xy) < 3 or not np.isfinite(xy).all():
        return mask.astype(bool)
    hull = cv2.convexHull(np.round(xy * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    side = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])))
    r = int(round(dilate_frac * side))
    if r > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        mask = cv2.dilate(mask, kernel)
    return mask.astype(bool)
