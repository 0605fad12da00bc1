"""SORT-style multi-object tracking of detector instances (:func:`track_instances`).

Paper appendix A.1: "a Kalman filter that links frame-level detections using a simple
intersection-over-union overlap based metric". Every track carries a constant-velocity Kalman
filter (``filterpy``) on its box state ``(cx, cy, area, aspect)`` plus their velocities (px,
px^2 and 1 per frame); each frame, predicted track boxes and detections of the same role
(hand / object) are associated by IoU with the Hungarian method (``scipy``), matches below
``iou_threshold`` are refused, unmatched detections start tracks and tracks unmatched for more
than ``max_age`` frames end. Missed frames are *not* filled: the track's mask is all zero there
(the estimator skips empty masks and its acceleration terms interpolate). The choice of the
action's tracks among them is :mod:`.selection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from real2sim_core.config import check_range

from .detectors.base import Instance
from .detectors.masks import box_iou_matrix

__all__ = ["TrackerConfig", "Track", "KalmanBoxTracker", "track_instances"]


@dataclass
class TrackerConfig:
    """SORT tracker settings.

    Attributes:
        iou_threshold: minimum IoU between a predicted track box and a detection to match.
        max_age: frames a track survives without a matched detection (6 = 0.5 s at 12 fps).
        min_hits: matched detections a track needs to be kept.
        min_score: detections below this confidence are not tracked.
        position_noise: process noise of the velocity terms, relative to SORT's defaults.
        measurement_noise: measurement noise of the box centre, px^2.
    """

    iou_threshold: float = 0.2
    max_age: int = 6
    min_hits: int = 2
    min_score: float = 0.3
    position_noise: float = 1.0
    measurement_noise: float = 1.0

    def __post_init__(self):
        check_range(self, "iou_threshold", 0.0, 1.0)
        check_range(self, "max_age", 0)
        check_range(self, "min_hits", 1)
        check_range(self, "min_score", 0.0, 1.0)
        check_range(self, "position_noise", 0.0, lo_open=True)
        check_range(self, "measurement_noise", 0.0, lo_open=True)


def _box_to_z(box: np.ndarray) -> np.ndarray:
    w = max(box[2] - box[0], 1e-3)
    h = max(box[3] - box[1], 1e-3)
    return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / h])


def _x_to_box(x: np.ndarray) -> np.ndarray:
    s = max(float(x[0 + 2]), 1e-3)
    r = max(float(x[3]), 1e-3)
    w = np.sqrt(s * r)
    h = s / w
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


class KalmanBoxTracker:
    """Constant-velocity Kalman filter on ``(cx, cy, area, aspect)`` and their rates.

    State ``x`` (8,): centre x, y (px), area (px^2), aspect w/h, and their changes per frame.
    Noise follows SORT (Bewley et al. 2016): uncertain initial velocities, a trusted position.
    """

    def __init__(self, box: np.ndarray, cfg: TrackerConfig):
        from filterpy.kalman import KalmanFilter

        kf = KalmanFilter(dim_x=8, dim_z=4)
        kf.F = np.eye(8)
        kf.F[:4, 4:] = np.eye(4)
        kf.H = np.zeros((4, 8))
        kf.H[:, :4] = np.eye(4)
        kf.R = np.diag([1.0, 1.0, 10.0, 10.0]) * cfg.measurement_noise
        kf.R[3, 3] = 0.01
        kf.P = np.eye(8) * 10.0
        kf.P[4:, 4:] *= 1000.0
        kf.Q = np.eye(8)
        kf.Q[4:, 4:] *= 0.01 * cfg.position_noise
        kf.Q[6, 6] *= 0.01
        kf.Q[7, 7] *= 1e-4
        kf.Q[3, 3] *= 1e-3
        kf.x[:4, 0] = _box_to_z(box)
        self.kf = kf

    def predict(self) -> np.ndarray:
        """Advance one frame; returns the predicted box ``x1, y1, x2, y2``."""
        x = self.kf.x
        if x[2, 0] + x[6, 0] <= 1.0:
            x[6, 0] = 0.0
        self.kf.predict()
        return _x_to_box(self.kf.x[:, 0])

    def update(self, box: np.ndarray) -> None:
        self.kf.update(_box_to_z(box))

    @property
    def box(self) -> np.ndarray:
        return _x_to_box(self.kf.x[:, 0])


@dataclass
class Track:
    """One track over the video.

    Attributes:
        track_id: id in order of birth (0, 1, ...).
        role: ``"hand"`` or ``"object"``.
        detections: frame -> index of the matched instance in that frame's list.
        filtered: frame -> Kalman-filtered box after the update (matched frames only).
        labels: class names of the matched instances, in frame order.
    """

    track_id: int
    role: str
    detections: dict[int, int] = field(default_factory=dict)
    filtered: dict[int, np.ndarray] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)

    @property
    def frames(self) -> list[int]:
        return sorted(self.detections)

    @property
    def first(self) -> int:
        return min(self.detections)

    @property
    def last(self) -> int:
        return max(self.detections)

    def __len__(self) -> int:
        return len(self.detections)

    def boxes(self, dets: list[list[Instance]], num_frames: int) -> np.ndarray:
        """``(T, 4)`` detected boxes of the track, NaN in frames without a match."""
        out = np.full((num_frames, 4), np.nan)
        for t, i in self.detections.items():
            out[t] = dets[t][i].box
        return out

    @property
    def label(self) -> str:
        """The most frequent class name of the track."""
        if not self.labels:
            return ""
        names, counts = np.unique(self.labels, return_counts=True)
        return str(names[np.argmax(counts)])


def track_instances(dets: list[list[Instance]], cfg: TrackerConfig | None = None
                    ) -> list[Track]:
    """Link per-frame instances into tracks (SORT: Kalman prediction + Hungarian IoU matching).

    Args:
        dets: per frame, the detector's instances (``role`` "ignore" instances are skipped).
        cfg: tracker settings.

    Returns:
        All tracks with at least ``cfg.min_hits`` matched detections, ordered by birth.
    """
    from scipy.optimize import linear_sum_assignment

    cfg = cfg or TrackerConfig()
    tracks: list[Track] = []
    live: list[tuple[Track, KalmanBoxTracker, int]] = []  # (track, filter, frames since hit)
    next_id = 0
    for t, frame_dets in enumerate(dets):
        cand = [i for i, d in enumerate(frame_dets)
                if d.role in ("hand", "object") and d.score >= cfg.min_score]
        preds = np.array([kf.predict() for _, kf, _ in live]).reshape(-1, 4)
        det_boxes = np.array([frame_dets[i].box for i in cand]).reshape(-1, 4)
        iou = box_iou_matrix(preds, det_boxes)
        if iou.size:
            roles_t = np.array([tr.role for tr, _, _ in live])
            roles_d = np.array([frame_dets[i].role for i in cand])
            iou = np.where(roles_t[:, None] == roles_d[None, :], iou, 0.0)
        matched_t, matched_d = set(), set()
        if iou.size:
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols):
                if iou[r, c] >= cfg.iou_threshold:
                    matched_t.add(r)
                    matched_d.add(c)
                    tr, kf, _ = live[r]
                    inst = frame_dets[cand[c]]
                    kf.update(inst.box)
                    tr.detections[t] = cand[c]
                    tr.filtered[t] = kf.box
                    tr.labels.append(inst.label)
                    live[r] = (tr, kf, 0)
        for r in range(len(live)):
            if r not in matched_t:
                tr, kf, age = live[r]
                live[r] = (tr, kf, age + 1)
        for c, i in enumerate(cand):
            if c in matched_d:
                continue
            inst = frame_dets[i]
            tr = Track(track_id=next_id, role=inst.role)
            next_id += 1
            kf = KalmanBoxTracker(inst.box, cfg)
            tr.detections[t] = i
            tr.filtered[t] = inst.box.copy()
            tr.labels.append(inst.label)
            tracks.append(tr)
            live.append((tr, kf, 0))
        live = [(tr, kf, age) for tr, kf, age in live if age <= cfg.max_age]
    kept = [tr for tr in tracks if len(tr) >= cfg.min_hits]
    for i, tr in enumerate(kept):
        tr.track_id = i
    return kept
