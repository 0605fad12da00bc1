"""The detector interface, its per-instance record and the backend registry.

A detector turns one RGB frame into :class:`Instance` records (box, mask, class, score and,
for hand-object detectors, a contact state). Each instance also carries a **role** --
``"hand"``, ``"object"`` or ``"ignore"`` -- derived from its class, which is all the tracker
needs: Mask R-CNN's COCO ``person`` segments the hand and arm (paper appendix A.1), a 100DOH
``hand`` is a hand, a 100DOH ``targetobject`` or a small COCO object is an object, and scene
furniture (table, chair, ...) is ignored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import numpy as np

from ..errors import DetectionFormatError
from ..registry import DETECTORS, load_entry
from .masks import box_to_mask

if TYPE_CHECKING:
    from ..video import Video

__all__ = [
    "Instance",
    "Availability",
    "Detector",
    "CONTACT_STATES",
    "COCO_CATEGORIES",
    "COCO_STATIC_CLASSES",
    "coco_name",
    "role_of_label",
    "make_detector",
    "detector_names",
    "get_detector_class",
]

CONTACT_STATES = {"N": "no contact", "S": "self contact", "O": "other person",
                  "P": "portable object", "F": "stationary object (furniture)"}
"""100DOH contact states (index 0..4 in the detector's output, in this order)."""

# COCO 2017 "thing" categories: (id, name), in the order of detectron2's contiguous class ids
COCO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1, "person"), (2, "bicycle"), (3, "car"), (4, "motorcycle"), (5, "airplane"), (6, "bus"),
    (7, "train"), (8, "truck"), (9, "boat"), (10, "traffic light"), (11, "fire hydrant"),
    (13, "stop sign"), (14, "parking meter"), (15, "bench"), (16, "bird"), (17, "cat"),
    (18, "dog"), (19, "horse"), (20, "sheep"), (21, "cow"), (22, "elephant"), (23, "bear"),
    (24, "zebra"), (25, "giraffe"), (27, "backpack"), (28, "umbrella"), (31, "handbag"),
    (32, "tie"), (33, "suitcase"), (34, "frisbee"), (35, "skis"), (36, "snowboard"),
    (37, "sports ball"), (38, "kite"), (39, "baseball bat"), (40, "baseball glove"),
    (41, "skateboard"), (42, "surfboard"), (43, "tennis racket"), (44, "bottle"),
    (46, "wine glass"), (47, "cup"), (48, "fork"), (49, "knife"), (50, "spoon"), (51, "bowl"),
    (52, "banana"), (53, "apple"), (54, "sandwich"), (55, "orange"), (56, "broccoli"),
    (57, "carrot"), (58, "hot dog"), (59, "pizza"), (60, "donut"), (61, "cake"), (62, "chair"),
    (63, "couch"), (64, "potted plant"), (65, "bed"), (67, "dining table"), (70, "toilet"),
    (72, "tv"), (73, "laptop"), (74, "mouse"), (75, "remote"), (76, "keyboard"),
    (77, "cell phone"), (78, "microwave"), (79, "oven"), (80, "toaster"), (81, "sink"),
    (82, "refrigerator"), (84, "book"), (85, "clock"), (86, "vase"), (87, "scissors"),
    (88, "teddy bear"), (89, "hair drier"), (90, "toothbrush"),
)
_COCO_BY_ID = dict(COCO_CATEGORIES)

COCO_STATIC_CLASSES = frozenset({
    "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "microwave", "oven", "sink",
    "refrigerator",
})
"""COCO classes that are scene, furniture or animals, never the manipulated object (ignored)."""

_HAND_LABELS = frozenset({"hand", "person", "left hand", "right hand", "hands"})
_OBJECT_LABELS = frozenset({"object", "targetobject", "target object"})


def coco_name(category_id: int) -> str:
    """COCO class name of a category id (1..90); ``"class<id>"`` when not a COCO id."""
    return _COCO_BY_ID.get(int(category_id), f"class{int(category_id)}")


def role_of_label(label: str, static_classes=COCO_STATIC_CLASSES) -> str:
    """The tracking role of a class name: ``"hand"``, ``"object"`` or ``"ignore"``."""
    key = str(label).strip().lower()
    if key in _HAND_LABELS:
        return "hand"
    if key in _OBJECT_LABELS:
        return "object"
    if key in static_classes:
        return "ignore"
    return "object"


@dataclass
class Instance:
    """One detection in one frame.

    Attributes:
        box: ``(4,)`` float ``x1, y1, x2, y2`` in pixels (pixel edges; clipped to the frame).
        score: detector confidence in [0, 1].
        label: the detector's class name (``"person"``, ``"cup"``, ``"hand"``, ...).
        role: ``"hand"``, ``"object"`` or ``"ignore"`` (see :func:`role_of_label`).
        mask: ``(H, W)`` bool instance mask, or None for box-only detectors.
        contact: 100DOH contact state of a hand (``"N"``, ``"S"``, ``"O"``, ``"P"``, ``"F"``),
            None when the detector does not report contact.
        side: ``"left"`` / ``"right"`` for hands when known.
        offset: ``(3,)`` 100DOH hand-to-object offset ``(magnitude, dx, dy)``: the contacted
            object's centre is near ``hand centre + 10000 * magnitude * (dx, dy)`` px.
        category_id: the detector's numeric class id when it has one.
    """

    box: np.ndarray
    score: float
    label: str
    role: str
    mask: np.ndarray | None = None
    contact: str | None = None
    side: str | None = None
    offset: np.ndarray | None = None
    category_id: int | None = None

    def __post_init__(self):
        self.box = np.asarray(self.box, dtype=float).reshape(4)
        self.score = float(self.score)
        if self.role not in ("hand", "object", "ignore"):
            raise DetectionFormatError(
                f"Instance.role = {self.role!r}; use 'hand', 'object' or 'ignore'")

    @property
    def center(self) -> np.ndarray:
        """``(2,)`` box centre ``x, y``, px."""
        return np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2])

    @property
    def area(self) -> float:
        """Box area, px^2."""
        return float(max(self.box[2] - self.box[0], 0) * max(self.box[3] - self.box[1], 0))

    def contact_point(self) -> np.ndarray | None:
        """``(2,)`` 100DOH estimate of the contacted object's centre, px (None without)."""
        if self.offset is None:
            return None
        m, dx, dy = (float(v) for v in self.offset)
        return self.center + 10000.0 * m * np.array([dx, dy])

    def mask_or_box(self, height: int, width: int) -> np.ndarray:
        """``(H, W)`` bool: the instance mask, or the filled box when there is none."""
        if self.mask is not None:
            return self.mask
        return box_to_mask(self.box, height, width)


class Availability(NamedTuple):
    """Whether a backend can run here: ``ok``, and ``detail`` (why not, or what it found)."""

    ok: bool
    detail: str


class Detector(ABC):
    """A per-frame detector backend.

    Subclasses are listed in :data:`~real2sim_perception.registry.DETECTORS`, set :attr:`name`,
    implement :meth:`detect` and, when they depend on an optional package,
    :meth:`availability`. ``hand_covers_forearm`` says whether hand masks include the
    forearm (a COCO ``person`` mask does; a landmark hull or a hand box does not).
    """

    name: ClassVar[str] = ""
    hand_covers_forearm: ClassVar[bool] = False
    reports_contact: ClassVar[bool] = False

    @classmethod
    def availability(cls) -> Availability:
        """Whether the backend's packages import here (no model loaded)."""
        return Availability(True, "built in")

    @abstractmethod
    def detect(self, frame: np.ndarray, *, index: int = 0, source_index: int | None = None,
               timestamp: float = 0.0) -> list[Instance]:
        """Detect hands and objects in one frame.

        Args:
            frame: ``(H, W, 3)`` uint8 RGB.
            index: index of the frame in the resampled video.
            source_index: index of the frame in the source stream (precomputed backends key
                their detections by it); None means ``index``.
            timestamp: seconds since the start of the video.

        Returns:
            The instances found (may be empty).
        """

    def detect_video(self, video: Video, progress: Callable[[int, int], None] | None = None
                     ) -> list[list[Instance]]:
        """Run :meth:`detect` on every frame of a :class:`~real2sim_perception.video.Video`."""
        out = []
        for t in range(video.num_frames):
            out.append(self.detect(video.frames[t], index=t,
                                   source_index=int(video.source_indices[t]),
                                   timestamp=float(video.timestamps[t])))
            if progress is not None:
                progress(t + 1, video.num_frames)
        return out

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release the model (no-op by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def detector_names() -> list[str]:
    """Names of the detector backends (:data:`~real2sim_perception.registry.DETECTORS`)."""
    return sorted(DETECTORS)


def get_detector_class(name: str) -> type[Detector]:
    """The backend class registered under ``name`` (its module is imported now).

    Raises:
        UnknownNameError: listing the known backends.
    """
    return load_entry(DETECTORS, "detector", name)


def make_detector(name: str, **options) -> Detector:
    """Construct the backend ``name`` with its keyword options (e.g. ``path=...``)."""
    return get_detector_class(name)(**options)
