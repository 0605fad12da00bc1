"""Pictures of an estimate: silhouettes over masks (GIF) and a top view of the trajectory (PNG).

Colours: hand red, object 0 green, object 1 blue. In the GIF the input masks are the dim
filled areas and the rendered soft silhouettes the bright overlay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from real2sim_core.trajectory import StateTrajectory

__all__ = ["silhouette_frames", "write_silhouette_gif", "plot_top_view"]

_COLOURS = np.array([[230, 60, 50], [60, 200, 80], [70, 120, 240]], dtype=np.float32)


def silhouette_frames(targets: np.ndarray, rendered: np.ndarray, upscale: int = 3
                      ) -> list[np.ndarray]:
    """RGB frames ``(h * upscale, w * upscale, 3)`` uint8: masks dim, renderings bright.

    Args:
        targets: ``(K, T, h, w)`` masks in [0, 1].
        rendered: ``(K, T, h, w)`` soft silhouettes in [0, 1] (NaN = not rendered).
        upscale: nearest-neighbour enlargement.
    """
    k_n, t_n, h, w = targets.shape
    out = []
    for t in range(t_n):
        img = np.full((h, w, 3), 20.0, dtype=np.float32)
        for k in range(k_n):
            col = _COLOURS[k % len(_COLOURS)]
            img += 0.35 * targets[k, t, :, :, None] * col
        for k in range(k_n):
            r = np.nan_to_num(rendered[k, t])
            col = _COLOURS[k % len(_COLOURS)]
            edge = (r > 0.5).astype(np.float32)
            img = img * (1 - 0.45 * edge[..., None]) + 0.45 * edge[..., None] * col
        img = np.clip(img, 0, 255).astype(np.uint8)
        out.append(np.repeat(np.repeat(img, upscale, 0), upscale, 1))
    return out


def write_silhouette_gif(path, targets, rendered, fps: float = 12.0) -> Path:
    """Write :func:`silhouette_frames` as an animated GIF (imageio)."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, silhouette_frames(targets, rendered), duration=1.0 / fps, loop=0)
    return path


def plot_top_view(traj: StateTrajectory, path, title: str = "") -> Path:
    """Top view (x-y) of fingertip and object trajectories, with hand directions and phase.

    Axes are those of the trajectory's frame (aligned: +x image right, +y away from the
    camera). Metres.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    hp = traj.hand_pos
    ax.plot(hp[:, 0], hp[:, 1], "-", color="#e63c32", lw=1.5, label="fingertip")
    touch = traj.touch > 0.5
    ax.scatter(hp[touch, 0], hp[touch, 1], s=10, color="#e63c32", label="touch")
    d = traj.hand_direction()
    step = max(1, traj.num_frames // 12)
    ax.quiver(hp[::step, 0], hp[::step, 1], d[::step, 0], d[::step, 1], color="#e63c32",
              alpha=0.5, scale=15, width=0.004)
    cols = ["#3cc850", "#4678f0"]
    for i in range(traj.num_objects):
        op = traj.obj_pos[:, i]
        ax.plot(op[:, 0], op[:, 1], "-", color=cols[i % 2], lw=2, label=f"object {i}")
        ax.scatter(op[0, 0], op[0, 1], marker="o", color=cols[i % 2])
        ax.scatter(op[-1, 0], op[-1, 1], marker="s", color=cols[i % 2])
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [m]" + (" (image right)" if traj.aligned else ""))
    ax.set_ylabel("y [m]" + (" (away from camera)" if traj.aligned else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title or f"{traj.action} {traj.video_id} ({traj.frame_id})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
