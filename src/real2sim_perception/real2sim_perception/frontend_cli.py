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

from .registry import DETECTORS

__all__ = ["add_video_arguments", "detector_from_args", "frontend_overrides"]

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
    g.add_argument("--max-frames", type=int, default=None,
                   help="use only the first N frames at 12 fps (0 = all; default: the "
                   "config's frontend.max_frames, 0)")
    g.add_argument("--folder-fps", type=float, default=None,
                   help="frame rate of a frame-folder --video (default: the config's "
                   "frontend.folder_fps, 12)")


def detector_from_args(args: argparse.Namespace, default: str = ""):
    """The detector ``--detector``, ``--detections``, ``--hand-model`` ... name (a
    :class:`~real2sim_perception.detectors.combined.CombinedDetector` for several files or
    mediapipe hands + file objects); ``default`` (the config's ``frontend.detector``) when
    they name none. The caller closes it."""
    from .detectors.combined import CombinedDetector
    from .frontend import build_detector

    files = list(args.detections or [])
    name = args.detector or ("mediapipe" if args.hand_model else
                             "precomputed" if files else default or None)
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


def frontend_overrides(args: argparse.Namespace) -> dict:
    """Config overrides (``frontend.*``) the video options give."""
    out = {}
    if args.folder_fps is not None:
        out["frontend.folder_fps"] = args.folder_fps
    if args.max_frames is not None:
        out["frontend.max_frames"] = args.max_frames
    return out
