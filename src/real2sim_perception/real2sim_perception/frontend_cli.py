"""``--video`` input of ``real2sim estimate``: the front-end arguments and their handling.

``real2sim estimate --video FILE --action NAME --out DIR`` decodes the video at 12 fps, runs
the chosen detector, tracks and selects the action's hand/object tracks, estimates touch, and
writes ``DIR/frontend/`` (``overlay.mp4``, ``overlay.gif``, ``masks/`` in the ``--masks``
layout, ``frontend.json``) before the estimator runs on the masks::

    real2sim estimate --video v.mp4 --action push_left_to_right --out out \\
        --detector precomputed --detections v_coco.json
    real2sim estimate --video v.mp4 --action pick_up --out out \\
        --detector mediapipe --hand-model hand_landmarker.task --detections objects.json
    real2sim estimate --video v.mp4 --action put_onto --out out   # detectron2 where installed

Kept free of heavy imports: the parser is built for every ``real2sim`` call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .registry import DETECTORS

__all__ = ["add_video_arguments", "masks_from_video_args"]

def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the detector/front-end options used with ``--video`` to ``parser``."""
    g = parser.add_argument_group(
        "video input (--video FILE: any ffmpeg-readable video or a folder of frames)")
    g.add_argument("--detector", choices=sorted(DETECTORS), default=None,
                   help="detector backend (default: precomputed with --detections, mediapipe "
                   "with --hand-model, else detectron2 Mask R-CNN where installed)")
    g.add_argument("--detections", metavar="FILE", nargs="+",
                   help="precomputed detections: COCO instance results (RLE/polygon masks) or "
                   "100DOH hand-object detector output (JSON); further files only add contact "
                   "states to the first file's hands (e.g. COCO masks + 100DOH contact)")
    g.add_argument("--hand-model", metavar="FILE",
                   help="mediapipe hand landmarker model (.task); with --detections the "
                   "objects come from that file")
    g.add_argument("--detector-config", metavar="NAME|FILE",
                   help="detectron2 model zoo config name or YAML (default Mask R-CNN R50-FPN "
                   "3x COCO)")
    g.add_argument("--detector-weights", metavar="FILE|URL",
                   help="detectron2 weights (default: the model zoo weights of the config)")
    g.add_argument("--frame-base", choices=("source", "resampled"), default=None,
                   help="precomputed: frame indices count source frames (default) or the "
                   "12 fps frames")
    g.add_argument("--min-score", type=float, default=None,
                   help="drop detections below this confidence (default 0.3 / 0.5 detectron2)")
    g.add_argument("--max-frames", type=int, default=0,
                   help="use only the first N frames at 12 fps (0 = all)")
    g.add_argument("--folder-fps", type=float, default=12.0,
                   help="frame rate of a frame-folder --video (default 12)")


def _detector_from_args(args):
    from .detectors.combined import CombinedDetector
    from .frontend import build_detector

    files = list(args.detections or [])
    name = args.detector or ("mediapipe" if args.hand_model else
                             "precomputed" if files else None)
    pre_opts = {}
    if args.min_score is not None:
        pre_opts["min_score"] = args.min_score
    if args.frame_base:
        pre_opts["frame_base"] = args.frame_base
    extra = [build_detector("precomputed", detections=f, **pre_opts) for f in files[1:]]
    if name == "mediapipe":
        hands = build_detector("mediapipe", hand_model=args.hand_model)
        if not files:
            return hands
        objects = build_detector("precomputed", detections=files[0], **pre_opts)
        return CombinedDetector([hands, objects, *extra],
                                roles=[("hand",), ("object", "ignore")] + [()] * len(extra))
    if name == "precomputed" or (name is None and files):
        first = build_detector("precomputed", detections=files[0] if files else None,
                               **pre_opts)
        return CombinedDetector([first, *extra]) if extra else first
    det = build_detector(name, config=args.detector_config, weights=args.detector_weights,
                         **({"score_threshold": args.min_score} if args.min_score else {}))
    return CombinedDetector([det, *extra]) if extra else det


def masks_from_video_args(args: argparse.Namespace):
    """Run the front end for ``real2sim estimate --video``; returns the :class:`MaskSequence`.

    Writes ``<out>/frontend/`` (overlay MP4 + GIF, mask folder, ``frontend.json``).
    """
    from .frontend import FrontendConfig, run_frontend, write_frontend_outputs

    cfg = FrontendConfig(fps=args.fps if args.fps is not None else FrontendConfig().fps,
                         folder_fps=args.folder_fps,
                         max_frames=args.max_frames or 0)
    det = _detector_from_args(args)
    try:
        res = run_frontend(args.video, args.action, det, cfg, video_id=args.video_id or "")
    finally:
        det.close()
    paths = write_frontend_outputs(res, Path(args.out) / "frontend")
    s = res.summary()
    cov = ", ".join(f"{k} {v:.0%}" for k, v in s["coverage"].items())
    print(f"front end: {s['frames']} frames at {s['fps']:g} fps (source {s['source_fps']:.3g} "
          f"fps), {s['detections']} detections, {len(s['tracks'])} tracks; coverage {cov}; "
          f"touch in {s['touch_frames']} frames (from {res.touch_source}); "
          f"{res.timing['detect_per_frame'] * 1000:.1f} ms/frame detection; "
          f"overlay {paths['overlay_mp4']}", file=sys.stderr)
    return res.masks
