"""The files of an estimate, written the same way by ``real2sim estimate`` and the node.

``OUT/states.csv`` (raw frame, all frames), ``OUT/states_aligned.csv`` (aligned frame, the
predicted action phase), ``OUT/silhouettes.gif`` (rendered silhouettes over the input masks),
``OUT/top_view.png`` and ``OUT/summary.json`` (final losses, phase, camera, timing, fit-quality
flags).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["write_outputs", "OUTPUT_FILES"]

OUTPUT_FILES = ("states.csv", "states_aligned.csv", "silhouettes.gif", "top_view.png")
"""The files :func:`write_outputs` writes besides ``summary.json``."""


def write_outputs(res, out_dir, inputs=None) -> dict:
    """Write the files of an estimate into ``out_dir``; returns the ``summary.json`` dict.

    Args:
        res: an :class:`~real2sim_perception.estimator.EstimateResult`.
        out_dir: the folder (created if needed).
        inputs: the :class:`~real2sim_perception.inputs.MaskSequence` estimated from (its
            ``source`` goes into the summary), or None.
    """
    from .visualize import plot_top_view, write_silhouette_gif

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res.trajectory.to_csv(out / "states.csv")
    res.aligned.to_csv(out / "states_aligned.csv")
    if res.rendered is not None:
        write_silhouette_gif(out / "silhouettes.gif", res.targets, res.rendered,
                             fps=res.trajectory.fps)
    plot_top_view(res.aligned, out / "top_view.png")
    cam = res.trajectory.camera
    summary = {
        "video_id": res.trajectory.video_id,
        "action": res.trajectory.action,
        "frames": res.trajectory.num_frames,
        "fit_ok": res.fit_ok,
        "warnings": res.flags.get("warnings", []),
        "flags": res.flags,
        "losses": res.losses,
        "phase": {"start": res.phase[0], "stop": res.phase[1],
                  "note": "0-based frame indices, stop exclusive; states_aligned.csv holds "
                          "these frames"},
        "camera": {"distance_m": cam.distance, "azimuth_rad": cam.azimuth,
                   "elevation_rad": cam.elevation},
        "timing_s": res.timing,
        "files": list(OUTPUT_FILES),
    }
    if inputs is not None:
        summary["source"] = inputs.source
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
