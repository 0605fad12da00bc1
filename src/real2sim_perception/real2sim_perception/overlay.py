"""The front end's overlay video: masks, boxes, track names and touch drawn on the frames.

:func:`render_overlay` draws a :class:`~real2sim_perception.frontend.FrontendResult`;
:func:`write_overlay` writes it as ``overlay.mp4`` / ``overlay.gif``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .video import write_video

__all__ = ["render_overlay", "write_overlay", "TRACK_COLORS"]

TRACK_COLORS = {"hand": (255, 80, 60), "object0": (60, 140, 255), "object1": (70, 220, 90)}
"""Overlay colour per state track, RGB."""


def render_overlay(result, alpha: float = 0.45, show_all_tracks: bool = True) -> np.ndarray:
    """Frames ``(T, H, W, 3)`` uint8 with masks, boxes, track names and touch drawn on.

    Args:
        result: a :class:`~real2sim_perception.frontend.FrontendResult`.
        alpha: opacity of the mask colours.
        show_all_tracks: also draw every tracked instance (thin grey boxes with track ids).
    """
    import cv2

    frames = result.video.frames.copy()
    seq = result.masks
    dets = result.detections
    for t in range(seq.num_frames):
        img = frames[t].astype(np.float32)
        for k, name in enumerate(seq.tracks):
            m = seq.masks[k, t]
            if m.any():
                col = np.array(TRACK_COLORS.get(name, (255, 255, 0)), np.float32)
                img[m] = (1 - alpha) * img[m] + alpha * col
        out = np.clip(img, 0, 255).astype(np.uint8)
        if show_all_tracks:  # thin grey boxes: every tracked instance with its track id
            for tr in result.tracks:
                if t in tr.detections:
                    b = dets[t][tr.detections[t]].box.astype(int)
                    cv2.rectangle(out, (b[0], b[1]), (b[2] - 1, b[3] - 1), (200, 200, 200), 1)
                    cv2.putText(out, str(tr.track_id), (b[0] + 2, b[3] - 3),
                                cv2.FONT_HERSHEY_SIMPLEX, 0.35, (230, 230, 230), 1, cv2.LINE_AA)
        for k, name in enumerate(seq.tracks):
            b = result.selection.boxes[k, t]
            if np.isnan(b[0]):
                continue
            b = b.astype(int)
            col = TRACK_COLORS.get(name, (255, 255, 0))
            cv2.rectangle(out, (b[0], b[1]), (b[2] - 1, b[3] - 1), col, 2)
            cv2.putText(out, name, (b[0] + 2, max(b[1] - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, col, 1, cv2.LINE_AA)
        touch = seq.touch is not None and seq.touch[t] > 0.5
        cv2.putText(out, f"{t:03d} {'TOUCH' if touch else ''}", (4, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0) if touch else (255, 255, 255),
                    1, cv2.LINE_AA)
        frames[t] = out
    return frames


def write_overlay(result, out_dir, formats=("mp4", "gif"),
                  gif_max_width: int = 320) -> list[Path]:
    """Write the overlay video(s) ``overlay.mp4`` / ``overlay.gif`` into ``out_dir``.

    The GIF is downscaled to at most ``gif_max_width`` px wide to stay small.
    """
    import cv2

    out_dir = Path(out_dir)
    frames = render_overlay(result)
    paths = []
    for fmt in formats:
        p = out_dir / f"overlay.{fmt}"
        f = frames
        if fmt == "gif" and frames.shape[2] > gif_max_width:
            s = gif_max_width / frames.shape[2]
            size = (gif_max_width, int(round(frames.shape[1] * s)))
            f = np.stack([cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in frames])
        paths.append(write_video(p, f, result.video.fps))
    return paths
