"""The video front end: pixels -> detections -> tracks -> :class:`MaskSequence` (+ overlay).

``run_frontend(video, action, detector)`` decodes and resamples the video to 12 fps
(:mod:`.video`), runs a detector backend on every frame (:mod:`.detectors`), links the
instances into tracks (:mod:`.tracking`), picks the action's hand and object tracks
(:mod:`.selection`), estimates touch (:mod:`.touch`) and returns the masks the state estimator
takes. :func:`write_frontend_outputs` writes them with the overlay video (:mod:`.overlay`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import check_choice, check_range
from real2sim_core.trajectory import DEFAULT_FPS

from .detectors import Detector, Instance, default_detector_name, make_detector
from .errors import NoDetectionsError
from .inputs import MaskSequence
from .registry import DETECTORS
from .selection import Selection, SelectionConfig, select_tracks
from .touch import TouchConfig, TouchSource, touch_from_masks, touch_from_states
from .tracking import Track, TrackerConfig, track_instances
from .video import Video, read_video

__all__ = [
    "FrontendConfig",
    "FrontendResult",
    "run_frontend",
    "build_detector",
    "masks_from_selection",
    "write_frontend_outputs",
]

log = logging.getLogger(__name__)

@dataclass
class FrontendConfig:
    """Settings of the video front end (``frontend:`` in ``config/perception.yaml``).

    Attributes:
        detector: detector backend (:data:`~real2sim_perception.registry.DETECTORS`); ``""``
            picks detectron2 where installed, else precomputed (:func:`build_detector`).
        fps: frame rate the video is resampled to, frames per second (METHOD: 12).
        folder_fps: frame rate of a frame folder input, frames per second.
        max_frames: keep at most this many frames (0 = all).
        tracker: SORT tracker settings.
        selection: how the action's tracks are chosen.
        use_detector_contact: use the detector's contact states when it reports them
            (100DOH); False always estimates touch from the masks.
    """

    detector: str = ""
    fps: float = DEFAULT_FPS
    folder_fps: float = DEFAULT_FPS
    max_frames: int = 0
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    use_detector_contact: bool = True

    def __post_init__(self):
        check_choice(self, "detector", ("", *DETECTORS))
        check_range(self, "fps", 0.0, lo_open=True)
        check_range(self, "folder_fps", 0.0, lo_open=True)
        check_range(self, "max_frames", 0)


@dataclass
class FrontendResult:
    """Everything the front end produced for one video.

    Attributes:
        video: the resampled video.
        detections: per frame, the detector's instances.
        tracks: all tracks found.
        selection: the tracks chosen for the action (state numbering).
        masks: the :class:`MaskSequence` handed to the estimator.
        touch_source: where the touch flags come from.
        timing: seconds: ``decode``, ``detect``, ``track``, ``total``, ``detect_per_frame``.
    """

    video: Video
    detections: list[list[Instance]]
    tracks: list[Track]
    selection: Selection
    masks: MaskSequence
    touch_source: TouchSource
    timing: dict = field(default_factory=dict)

    def describe(self, overlay=None) -> str:
        """One line: frames, detections, tracks, coverage, touch, detection time."""
        s = self.summary()
        cov = ", ".join(f"{k} {v:.0%}" for k, v in s["coverage"].items())
        return (f"front end: {s['frames']} frames at {s['fps']:g} fps (source "
                f"{s['source_fps']:.3g} fps), {s['detections']} detections, {len(s['tracks'])} "
                f"tracks; coverage {cov}; touch in {s['touch_frames']} frames (from "
                f"{self.touch_source.value}); "
                f"{self.timing['detect_per_frame'] * 1000:.1f} ms/frame detection"
                + (f"; overlay {overlay}" if overlay else ""))

    def summary(self) -> dict:
        """JSON-ready description (frame counts, tracks, coverage, timing)."""
        valid = self.masks.valid
        return {
            "video": self.video.path,
            "frames": self.video.num_frames,
            "fps": self.video.fps,
            "source_fps": self.video.source_fps,
            "size": list(self.video.size),
            "detections": int(sum(len(f) for f in self.detections)),
            "tracks": [{"id": tr.track_id, "role": tr.role, "label": tr.label,
                        "first": tr.first, "last": tr.last, "hits": len(tr)}
                       for tr in self.tracks],
            "selected": self.selection.track_ids,
            "coverage": {n: float(valid[k].mean()) for k, n in enumerate(self.masks.tracks)},
            "touch_source": self.touch_source.value,
            "touch_frames": int(np.sum(self.masks.touch > 0.5)),
            "timing": self.timing,
        }


def build_detector(name: str | None = None, *, detections=None, hand_model=None,
                   config=None, weights=None, **options) -> Detector:
    """Build a detector backend from CLI-style arguments.

    Args:
        name: ``"precomputed"``, ``"mediapipe"``, ``"detectron2"``; None picks
            ``precomputed`` when ``detections`` is given, ``mediapipe`` when ``hand_model``
            is, else the default (detectron2 where installed).
        detections: detection JSON for ``precomputed``.
        hand_model: ``.task`` file for ``mediapipe``.
        config: detectron2 config (zoo name or YAML).
        weights: detectron2 weights (file or URL).
        **options: further backend keyword options.
    """
    from .errors import DetectionFormatError, DetectorUnavailableError

    if name is None:
        name = ("precomputed" if detections else "mediapipe" if hand_model
                else default_detector_name())
    name = str(name).lower()
    if name == "precomputed":
        if not detections:
            hint = ("detectron2 is not installed here, so " if
                    default_detector_name() == "precomputed" else "")
            raise DetectionFormatError(
                f"{hint}the precomputed detector needs --detections FILE (COCO instance results "
                "or 100DOH hand-object detector output, JSON); or pass --detector mediapipe "
                "--hand-model FILE.task"
            )
        return make_detector("precomputed", path=detections, **options)
    if name == "mediapipe":
        return make_detector("mediapipe", model_path=hand_model, **options)
    if name == "detectron2":
        kw = dict(options)
        if config:
            kw["config"] = config
        if weights:
            kw["weights"] = weights
        return make_detector("detectron2", **kw)
    try:
        return make_detector(name, **options)
    except TypeError as e:
        raise DetectorUnavailableError(f"detector {name!r}: {e}") from None


def masks_from_selection(sel: Selection, dets: list[list[Instance]], size: tuple[int, int]
                         ) -> np.ndarray:
    """``(K, T, H, W)`` bool masks of the selected tracks (all zero in missed frames)."""
    h, w = size
    k_n, t_n = sel.det_index.shape
    out = np.zeros((k_n, t_n, h, w), dtype=bool)
    for k in range(k_n):
        for t in range(t_n):
            i = sel.det_index[k, t]
            if i >= 0:
                out[k, t] = dets[t][i].mask_or_box(h, w)
    return out


def run_frontend(video, action, detector: Detector | str | None = None,
                 config: FrontendConfig | None = None, *, touch: TouchConfig | None = None,
                 detector_options: dict | None = None, video_id: str = "") -> FrontendResult:
    """Run decoding, detection, tracking, selection and touch estimation on one video.

    Args:
        video: a video file / frame folder path, or an already decoded :class:`Video`.
        action: action name, template id or spec (decides 1 or 2 object tracks).
        detector: a :class:`Detector`, a backend name, or None (see :func:`build_detector`).
        config: front-end settings.
        touch: touch estimation settings (``PerceptionConfig.touch``).
        detector_options: keyword arguments of :func:`build_detector` when ``detector`` is a
            name or None (e.g. ``{"detections": "dets.json"}``).
        video_id: id stored in the mask sequence (default: the file stem).

    Returns:
        The :class:`FrontendResult`; ``result.masks`` goes to
        :func:`real2sim_perception.estimator.estimate`.

    Raises:
        VideoReadError, EmptyVideoError: the video cannot be decoded / has no frames.
        NoDetectionsError: the detector finds nothing, or not the hand / objects needed.
        DetectorUnavailableError, ModelFileError, DetectionFormatError: backend problems.
    """
    cfg = config or FrontendConfig()
    touch_cfg = touch or TouchConfig()
    spec = get_action(action)
    t0 = time.perf_counter()
    if not isinstance(video, Video):
        video = read_video(video, cfg.fps, folder_fps=cfg.folder_fps,
                           max_frames=cfg.max_frames or None)
    t1 = time.perf_counter()
    own = not isinstance(detector, Detector)
    det = detector if not own else build_detector(detector, **(detector_options or {}))
    try:
        dets = det.detect_video(video)
    finally:
        if own:
            det.close()
    t2 = time.perf_counter()
    n_inst = sum(len(f) for f in dets)
    if n_inst == 0:
        raise NoDetectionsError(
            f"{video.path}: the {det.name} detector found nothing in any of the "
            f"{video.num_frames} frames; check the video (lighting, hand in view), lower the "
            "score threshold, or use another --detector"
            + (" (precomputed: do the file's frame indices match this video? see "
               "frame_base)" if det.name == "precomputed" else "")
        )
    tracks = track_instances(dets, cfg.tracker)
    sel = select_tracks(tracks, dets, spec, video.size[0], cfg.selection)
    masks = masks_from_selection(sel, dets, video.size)
    touch, source = None, TouchSource.MASKS
    if cfg.use_detector_contact:
        hand_inst = [dets[t][i] if i >= 0 else None for t, i in enumerate(sel.det_index[0])]
        touch = touch_from_states(hand_inst, sel.boxes[1:], touch_cfg)
        if touch is not None:
            source = TouchSource.DETECTOR
    if touch is None:
        # a frame without the hand track is a missed detection, not a hand out of view
        touch = touch_from_masks(masks[0], masks[-1], touch_cfg,
                                 out_of_view=np.zeros(video.num_frames, dtype=bool))
    t3 = time.perf_counter()
    notes = []
    for k, name in enumerate(sel.names):
        miss = int((sel.det_index[k] < 0).sum())
        if miss:
            notes.append(f"{name}: missed in {miss}/{video.num_frames} frames (mask zeroed)")
    seq = MaskSequence(
        masks=masks, tracks=sel.names, fps=video.fps, touch=touch, boxes=sel.boxes,
        hand_covers_forearm=bool(det.hand_covers_forearm),
        video_id=video_id or Path(video.path).stem,
        source=f"video {Path(video.path).name} ({det.name} detector + SORT tracker)",
        notes=notes,
    )
    timing = {"decode": t1 - t0, "detect": t2 - t1, "track": t3 - t2, "total": t3 - t0,
              "detect_per_frame": (t2 - t1) / max(video.num_frames, 1),
              "track_per_frame": (t3 - t2) / max(video.num_frames, 1)}
    log.info("front end: %d frames, %d instances, %d tracks, selected %s, %.2f s",
             video.num_frames, n_inst, len(tracks), sel.track_ids, timing["total"])
    return FrontendResult(video=video, detections=dets, tracks=tracks, selection=sel,
                          masks=seq, touch_source=source, timing=timing)


def write_frontend_outputs(result: FrontendResult, out_dir, overlay_formats=("mp4", "gif")
                           ) -> dict[str, Path]:
    """Write ``frontend.json`` (summary), ``masks/`` (PNG mask folder) and the overlay."""
    from .mask_folder import write_mask_folder

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"masks": write_mask_folder(result.masks, out_dir / "masks")}
    summary = result.summary()
    (out_dir / "frontend.json").write_text(json.dumps(summary, indent=2, default=_json))
    paths["summary"] = out_dir / "frontend.json"
    from .overlay import write_overlay

    for p in write_overlay(result, out_dir, overlay_formats):
        paths[f"overlay_{p.suffix[1:]}"] = p
    return paths


def _json(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)
    return str(o)
