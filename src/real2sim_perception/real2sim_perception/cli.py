"""``real2sim estimate``: masks or Something-Else boxes -> state trajectory files.

Registered in the ``real2sim.commands`` entry-point group (see ``real2sim_core.cli``)::

    real2sim estimate --annotations FILE --video-id ID --action NAME --out DIR
    real2sim estimate --masks DIR --action NAME --out DIR
    real2sim estimate --video FILE --action NAME --out DIR [--detector ... --detections FILE]

Writes ``DIR/states.csv`` (raw frame, all frames), ``DIR/states_aligned.csv`` (aligned
frame, the predicted action phase), ``DIR/silhouettes.gif`` (rendered silhouettes over the
input masks), ``DIR/top_view.png`` and ``DIR/summary.json`` (final losses, phase, timing,
fit-quality flag). Exit code 0 on a good fit, 3 when the fit is flagged as failed (the files
are still written), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from real2sim_core.actions import action_names

__all__ = ["register", "main"]


def register(subparsers) -> None:
    """Add ``real2sim estimate``."""
    p = subparsers.add_parser(
        "estimate",
        help="estimate a coarse 3D hand-object state trajectory from boxes or masks",
        description="Fit the Real2Sim state model (METHOD sections 2-4) to per-frame hand/object "
        "masks by differentiable silhouette rendering, and write the trajectory.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--annotations", metavar="FILE",
                     help="Something-Else annotation JSON (boxes); needs --video-id")
    src.add_argument("--masks", metavar="DIR",
                     help="mask folder: DIR/hand/*.png, DIR/object0/*.png [, DIR/object1/*.png]"
                     " [, DIR/touch.csv]")
    src.add_argument("--video", metavar="FILE",
                     help="a video (mp4/webm/avi/...) or frame folder: detector + tracker front "
                     "end (see the video input options below); writes DIR/frontend/")
    p.add_argument("--video-id", help="video id in the annotation file")
    p.add_argument("--action", required=True,
                   help=f"action name ({', '.join(action_names())}) or template id")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--config", default="perception.yaml",
                   help="perception parameters (ROS params YAML; default config/perception.yaml)")
    p.add_argument("--iterations", type=int, default=None,
                   help="override optim.iterations (>= 1; default: the config's, 400)")
    p.add_argument("--image-width", type=int, default=None,
                   help="frame width for --annotations (default: inferred, 427 or 320 px)")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of the masks/boxes, or the rate a --video is resampled to "
                   "(> 0; default 12, a mask folder's meta.json)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (>= 1; default: optim.torch_threads of the config, 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    from .frontend_cli import add_video_arguments

    add_video_arguments(p)
    p.set_defaults(func=_run)


def check_numeric_args(args: argparse.Namespace) -> None:
    """Refuse zero/negative numbers instead of silently using a default.

    Raises:
        PerceptionInputError: naming the option, the value and what is allowed.
    """
    import math

    from .errors import PerceptionInputError

    def need(flag: str, value, lo, *, strict: bool = True, default: str = "") -> None:
        if value is None:
            return
        ok = math.isfinite(value) and (value > lo if strict else value >= lo)
        if not ok:
            raise PerceptionInputError(
                f"{flag} {value:g}: must be {'>' if strict else '>='} {lo:g}"
                + (f" (leave it out for the default, {default})" if default else ""))

    need("--iterations", args.iterations, 0, default="the config's optim.iterations, 400")
    need("--threads", args.threads, 0, default="the config's optim.torch_threads, 1")
    need("--fps", args.fps, 0, default="12 fps")
    need("--image-width", args.image_width, 0, default="inferred from the boxes")
    need("--folder-fps", getattr(args, "folder_fps", None), 0, default="12 fps")
    need("--max-frames", getattr(args, "max_frames", None), 0, strict=False,
         default="0 = all frames")
    if getattr(args, "min_score", None) is not None and not 0.0 <= args.min_score <= 1.0:
        raise PerceptionInputError(f"--min-score {args.min_score:g}: must be in [0, 1]")


def _run(args: argparse.Namespace) -> int:
    from real2sim_core.textio import check_writable_dir

    from .config import load_perception_config
    from .estimator import estimate
    from .frontend_cli import detector_from_args, frontend_overrides
    from .outputs import write_outputs
    from .sources import InputSource, SourceKind, load_masks

    check_numeric_args(args)
    overrides = frontend_overrides(args)
    if args.iterations is not None:
        overrides["optim.iterations"] = args.iterations
    if args.threads is not None:
        overrides["optim.torch_threads"] = args.threads
    cfg = load_perception_config(args.config, overrides or None)
    source = InputSource(annotations=args.annotations or "", masks=args.masks or "",
                         video=args.video or "", video_id=args.video_id or "",
                         image_width=args.image_width, fps=args.fps)
    out = Path(args.out)
    if source.kind is SourceKind.VIDEO:
        check_writable_dir(out)  # the front end writes OUT/frontend/
        det = detector_from_args(args, cfg.frontend.detector)
        try:
            loaded = load_masks(source, args.action, cfg, detector=det,
                                frontend_dir=out / "frontend")
        finally:
            det.close()
        print(loaded.frontend.describe(out / "frontend" / "overlay.mp4"), file=sys.stderr)
    else:
        loaded = load_masks(source, args.action, cfg)
    seq = loaded.masks
    check_writable_dir(out)  # before minutes of fitting, not after
    for note in seq.notes:
        print(f"note: {note}", file=sys.stderr)
    res = estimate(seq, args.action, cfg, progress=not args.no_progress)
    summary = write_outputs(res, out, seq)
    t = res.timing
    print(f"{args.out}: {res.trajectory.num_frames} frames, phase {res.phase[0]}-"
          f"{res.phase[1] - 1}, {t['total']:.1f} s; silhouette loss "
          + ", ".join(f"{k.split('/')[1]} {v:.3f}" for k, v in res.losses.items()
                      if k.startswith("silhouette/"))
          + f"; fit {'ok' if res.fit_ok else 'FAILED: ' + ', '.join(res.flags['failed_tracks'])}")
    for text in res.flags.get("warnings", []):
        print(f"warning: {text}", file=sys.stderr)
    if not summary["fit_ok"]:
        print("warning: the fit is flagged as failed in summary.json (check silhouettes.gif)",
              file=sys.stderr)
        return 3
    return 0


def main(argv=None) -> int:
    """Run ``real2sim estimate`` directly (same as the ``real2sim`` CLI subcommand)."""
    from real2sim_core.cli import main as core_main

    return core_main(["estimate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
