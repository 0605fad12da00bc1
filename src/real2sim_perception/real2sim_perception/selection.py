"""The choice of an action's hand and object tracks among all tracks (:func:`select_tracks`).

The hand is the hand track (plus later non-overlapping hand tracklets that continue it) that
stays nearest the objects; the manipulated object is the object track that moves most and that
the hand approaches or touches (100DOH contact offsets when present); for two-object actions
the static object is the longest-lived remaining track that moves least and lies nearest the
moved object's end position. Output numbering is the state model's (METHOD section 2):
``object0`` rests on the table (static), ``object1`` is the moved one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import check_range

from .detectors.base import Instance
from .detectors.masks import box_iou_matrix
from .errors import NoDetectionsError
from .tracking import Track

__all__ = ["SelectionConfig", "Selection", "select_tracks"]

log = logging.getLogger(__name__)


@dataclass
class SelectionConfig:
    """How the hand and object tracks of an action are chosen among all tracks.

    Attributes:
        near_frac: a hand box within this distance of an object box (fraction of the frame
            height) counts as "near" the object.
        stitch_distance: a tracklet continues another when its first box centre is within
            this many box diagonals of the other's last one (plus the gap times the speed).
        stitch_max_gap: largest gap between tracklets that may be stitched, frames.
        object_labels: preferred object class names (e.g. ``["cup"]``, placeholders of the
            action's "something"); empty: any object class.
    """

    near_frac: float = 0.05
    stitch_distance: float = 1.0
    stitch_max_gap: int = 24
    object_labels: list[str] = field(default_factory=list)

    def __post_init__(self):
        check_range(self, "near_frac", 0.0, 1.0)
        check_range(self, "stitch_distance", 0.0)
        check_range(self, "stitch_max_gap", 0)


@dataclass
class Selection:
    """The tracks chosen for an action.

    Attributes:
        names: state-model track names, ``("hand", "object0"[, "object1"])``.
        track_ids: per name, the ids of the (stitched) tracks that form it.
        det_index: ``(K, T)`` int, index of the instance used in each frame, -1 when missed.
        boxes: ``(K, T, 4)`` boxes ``x1, y1, x2, y2`` px, NaN when missed.
        scores: per name, the selection score of the chosen track (diagnostics).
    """

    names: tuple[str, ...]
    track_ids: dict[str, list[int]]
    det_index: np.ndarray
    boxes: np.ndarray
    scores: dict[str, float] = field(default_factory=dict)


def _centers(b: np.ndarray) -> np.ndarray:
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)


def _box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame distance between two box series ``(T, 4)`` (0 when overlapping), px."""
    dx = np.maximum(0.0, np.maximum(a[:, 0], b[:, 0]) - np.minimum(a[:, 2], b[:, 2]))
    dy = np.maximum(0.0, np.maximum(a[:, 1], b[:, 1]) - np.minimum(a[:, 3], b[:, 3]))
    return np.hypot(dx, dy)


def _stitch(seed: Track, pool: list[Track], dets, num_frames: int, cfg: SelectionConfig
            ) -> list[Track]:
    """Grow ``seed`` with tracklets of ``pool`` that continue it in time without overlap."""
    chosen = [seed]
    used = {seed.track_id}
    frames = set(seed.detections)
    changed = True
    while changed:
        changed = False
        best = None
        for tr in sorted(pool, key=len, reverse=True):
            if tr.track_id in used or tr.role != seed.role:
                continue
            if frames & set(tr.detections):
                continue
            # the neighbouring observed frames of the current union before / after tr
            before = [f for f in frames if f < tr.first]
            after = [f for f in frames if f > tr.last]
            links = []
            if before:
                links.append((max(before), tr.first))
            if after:
                links.append((tr.last, min(after)))
            ok = bool(links)
            for a, b in links:
                gap = b - a
                if gap > cfg.stitch_max_gap:
                    ok = False
                    break
                ba = _union_box(chosen + [tr], dets, a)
                bb = _union_box(chosen + [tr], dets, b)
                diag = max(np.hypot(ba[2] - ba[0], ba[3] - ba[1]),
                           np.hypot(bb[2] - bb[0], bb[3] - bb[1]))
                dist = np.hypot(*(_centers(bb[None])[0] - _centers(ba[None])[0]))
                if dist > cfg.stitch_distance * diag * (1.0 + 0.25 * gap):
                    ok = False
                    break
            if ok:
                best = tr
                break
        if best is not None:
            chosen.append(best)
            used.add(best.track_id)
            frames |= set(best.detections)
            changed = True
    return chosen


def _union_box(tracks: list[Track], dets, t: int) -> np.ndarray:
    for tr in tracks:
        if t in tr.detections:
            return dets[t][tr.detections[t]].box
    raise KeyError(t)


def _series(tracks: list[Track], dets, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.full((num_frames, 4), np.nan)
    idx = np.full(num_frames, -1, dtype=int)
    for tr in tracks:
        for t, i in tr.detections.items():
            boxes[t] = dets[t][i].box
            idx[t] = i
    return boxes, idx


def _motion(boxes: np.ndarray) -> float:
    """Largest displacement of the box centre from its first position, in box diagonals."""
    ok = ~np.isnan(boxes[:, 0])
    if ok.sum() < 2:
        return 0.0
    b = boxes[ok]
    c = _centers(b)
    diag = float(np.median(np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))) or 1.0
    # robust to single-frame outliers: median of the first / last few positions
    k = max(1, min(3, len(c) // 4))
    start = np.median(c[:k], axis=0)
    disp = np.hypot(*(c - start).T)
    return float(np.percentile(disp, 90) / diag)


def select_tracks(tracks: list[Track], dets: list[list[Instance]], action, image_height: int,
                  cfg: SelectionConfig | None = None) -> Selection:
    """Choose the hand track and the object track(s) the action needs.

    Args:
        tracks: output of :func:`track_instances`.
        dets: the per-frame instances the tracks index into.
        action: action name or :class:`~real2sim_core.actions.ActionSpec` (1 or 2 objects).
        image_height: frame height, px (scales the "near" distance).
        cfg: selection settings.

    Returns:
        The :class:`Selection` in state numbering.

    Raises:
        NoDetectionsError: no hand track, or fewer object tracks than the action needs
            (names what is missing and what to try).
    """
    cfg = cfg or SelectionConfig()
    spec = get_action(action)
    n_obj = spec.num_objects
    t_n = len(dets)
    hands = [tr for tr in tracks if tr.role == "hand"]
    objects = [tr for tr in tracks if tr.role == "object"]
    if not hands:
        raise NoDetectionsError(
            f"no hand was tracked in any of the {t_n} frames; the detector found "
            f"{sum(1 for f in dets for d in f if d.role == 'hand')} hand instance(s). Use a "
            "detector that reports hands (detectron2 'person', 100DOH 'hand', mediapipe) or "
            "lower the score threshold"
        )
    if len(objects) < n_obj:
        raise NoDetectionsError(
            f"{spec.name} needs {n_obj} object track(s) but {len(objects)} object track(s) were "
            f"found in {t_n} frames; use a detector that reports objects (detectron2, 100DOH "
            "'targetobject' or COCO results), or check the action"
        )
    obj_series = {tr.track_id: tr.boxes(dets, t_n) for tr in objects}
    near_px = cfg.near_frac * image_height

    # hand: long tracks that stay near objects
    def hand_score(tr: Track) -> float:
        hb = tr.boxes(dets, t_n)
        ok = ~np.isnan(hb[:, 0])
        near = 0.0
        for ob in obj_series.values():
            both = ok & ~np.isnan(ob[:, 0])
            if both.any():
                near = max(near, float((_box_gap(hb[both], ob[both]) <= near_px).mean()))
        return len(tr) / t_n + near

    hand_seed = max(hands, key=hand_score)
    hand_tracks = _stitch(hand_seed, hands, dets, t_n, cfg)
    hand_boxes, hand_idx = _series(hand_tracks, dets, t_n)
    hand_ok = ~np.isnan(hand_boxes[:, 0])

    # contact points of the chosen hand (100DOH offsets), per frame
    contact_pts = np.full((t_n, 2), np.nan)
    for t in range(t_n):
        if hand_idx[t] >= 0:
            inst = dets[t][hand_idx[t]]
            if inst.contact in ("P", "F") and inst.offset is not None:
                contact_pts[t] = inst.contact_point()

    def interaction(tr: Track) -> tuple[float, float, float]:
        ob = obj_series[tr.track_id]
        ok = ~np.isnan(ob[:, 0])
        both = ok & hand_ok
        near = float((_box_gap(hand_boxes[both], ob[both]) <= near_px).mean()) if both.any() \
            else 0.0
        pts = ~np.isnan(contact_pts[:, 0]) & ok
        link = 0.0
        if pts.any():
            hits = 0
            for t in np.flatnonzero(pts):
                cands = [(k, s[t]) for k, s in obj_series.items() if not np.isnan(s[t, 0])]
                d = [np.hypot(*(_centers(b[None])[0] - contact_pts[t])) for _, b in cands]
                hits += cands[int(np.argmin(d))][0] == tr.track_id
            link = hits / max(1, int((~np.isnan(contact_pts[:, 0])).sum()))
        return near, link, min(_motion(ob), 3.0) / 3.0

    def label_bonus(tr: Track) -> float:
        if not cfg.object_labels:
            return 0.0
        want = {s.lower() for s in cfg.object_labels}
        return 0.5 if tr.label.lower() in want else 0.0

    scored = {}
    for tr in objects:
        near, link, move = interaction(tr)
        scored[tr.track_id] = (near, link, move)
    moved_score = {}
    for tr in objects:
        near, link, move = scored[tr.track_id]
        moved_score[tr.track_id] = (1.5 * move + near + 1.5 * link + 0.5 * len(tr) / t_n
                                    + label_bonus(tr))
    by_id = {tr.track_id: tr for tr in objects}
    moved_seed = by_id[max(moved_score, key=moved_score.get)]
    moved = _stitch(moved_seed, objects, dets, t_n, cfg)
    moved_boxes, moved_idx = _series(moved, dets, t_n)
    names = ("hand",) + tuple(f"object{i}" for i in range(n_obj))
    scores = {"hand": hand_score(hand_seed), names[-1]: moved_score[moved_seed.track_id]}
    chosen = {"hand": hand_tracks, names[-1]: moved}
    series = {"hand": (hand_boxes, hand_idx), names[-1]: (moved_boxes, moved_idx)}
    if n_obj == 2:
        used = {tr.track_id for tr in moved}
        rest = [tr for tr in objects if tr.track_id not in used]
        if not rest:
            raise NoDetectionsError(
                f"{spec.name} needs a second (static) object track but every object tracklet "
                "belongs to the moved object; check the detections of the static object"
            )
        ok_m = ~np.isnan(moved_boxes[:, 0])
        end = _centers(moved_boxes[ok_m][-3:]).mean(axis=0)
        diag_m = float(np.nanmedian(np.hypot(moved_boxes[:, 2] - moved_boxes[:, 0],
                                             moved_boxes[:, 3] - moved_boxes[:, 1])))

        def static_score(tr: Track) -> float:
            ob = obj_series[tr.track_id]
            c = _centers(ob[~np.isnan(ob[:, 0])]).mean(axis=0)
            close = 1.0 / (1.0 + np.hypot(*(c - end)) / max(diag_m, 1.0))
            # put actions end with the moved object next to the static one: closeness first
            return 0.5 * len(tr) / t_n - scored[tr.track_id][2] + 2.0 * close + label_bonus(tr)

        # candidates: long-lived tracks that are not duplicates of the moved object
        def duplicate(tr: Track) -> bool:
            ob = obj_series[tr.track_id]
            both = ~np.isnan(ob[:, 0]) & ok_m
            if not both.any():
                return False
            iou = [box_iou_matrix(ob[t][None], moved_boxes[t][None])[0, 0]
                   for t in np.flatnonzero(both)]
            return float(np.median(iou)) > 0.5

        longest = max(len(tr) for tr in rest)
        pool = [tr for tr in rest if len(tr) >= 0.5 * longest and not duplicate(tr)] or rest
        static_seed = max(pool, key=static_score)
        static = _stitch(static_seed, rest, dets, t_n, cfg)
        series["object0"] = _series(static, dets, t_n)
        chosen["object0"] = static
        scores["object0"] = static_score(static_seed)
    det_index = np.stack([series[n][1] for n in names])
    boxes = np.stack([series[n][0] for n in names])
    ids = {n: sorted(tr.track_id for tr in chosen[n]) for n in names}
    log.info("selected tracks %s (scores %s)", ids, {k: round(v, 2) for k, v in scores.items()})
    return Selection(names=names, track_ids=ids, det_index=det_index, boxes=boxes,
                     scores=scores)
