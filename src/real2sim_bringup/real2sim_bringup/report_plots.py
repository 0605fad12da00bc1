"""The pictures a run report adds to what the stages wrote (matplotlib, Agg, PNG):

* :func:`plot_plan_3d`: the rolled-out gripper plan in 3-D (aligned frame), with the object
  cylinders at the start and end of the simulated rollout when ``rollout.csv`` is there;
* :func:`plot_joints`: the executed joint positions, the gripper command and the IK error over
  time, from the executor's ``joint_trajectory.csv``;
* :func:`video_stills`: a poster frame and a strip of stills of the execution video (cheap:
  a handful of decoded frames, never the whole video held in memory).

Each function reads files and writes one PNG; a file it cannot read raises ``ValueError``
with the file and the problem, which the report shows in red instead of the picture.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from real2sim_core.errors import InputError

__all__ = ["plot_plan_3d", "plot_joints", "video_stills"]

_DPI = 80
_HAND = "#d92d20"
_OBJ = ("#12b76a", "#2e90fa")
_JOINT_NAMES = tuple(f"panda_joint{i}" for i in range(1, 8))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name}: cannot read ({type(e).__name__}: {e})") from None
    if len(rows) < 2:
        raise InputError(f"{path.name}: no data rows")
    return rows[0], rows[1:]


def _columns(path: Path, names) -> dict[str, np.ndarray]:
    header, rows = _read_csv(path)
    out = {}
    for n in names:
        if n not in header:
            continue
        j = header.index(n)
        out[n] = np.array([float(r[j]) if j < len(r) and r[j] != "" else np.nan for r in rows])
    return out


def _cylinder(ax, centre, height, radius, colour, alpha, label=None):
    th = np.linspace(0, 2 * np.pi, 24)
    x = centre[0] + radius * np.cos(th)
    y = centre[1] + radius * np.sin(th)
    z0, z1 = centre[2] - height / 2, centre[2] + height / 2
    ax.plot(x, y, np.full_like(x, z0), color=colour, alpha=alpha, lw=1)
    ax.plot(x, y, np.full_like(x, z1), color=colour, alpha=alpha, lw=1, label=label)
    for k in range(0, len(th), 6):
        ax.plot([x[k], x[k]], [y[k], y[k]], [z0, z1], color=colour, alpha=alpha, lw=1)


def plot_plan_3d(plan_json, out_png, rollout_csv=None, title: str = "") -> Path:
    """3-D plot of a gripper plan (``plan.json``, aligned frame, metres).

    The fingertip path is coloured by time; short bars show the gripper's approach axis
    (wrist -> fingertips) every few waypoints. With ``rollout_csv`` (the policy node's
    ``rollout.csv``) the objects are drawn at the start (faint) and the end of the rollout.
    """
    from real2sim_core.frames import quat_to_matrix
    from real2sim_core.plan import read_plan_json

    plt = _plt()
    plan = read_plan_json(plan_json)
    p = plan.positions
    fig = plt.figure(figsize=(6.2, 4.8), dpi=_DPI)
    ax = fig.add_subplot(projection="3d")
    t = plan.times
    pts = ax.scatter(p[:, 0], p[:, 1], p[:, 2], c=t, cmap="viridis", s=9, depthshade=False)
    ax.plot(p[:, 0], p[:, 1], p[:, 2], color="#98a2b3", lw=0.8)
    z_axis = quat_to_matrix(plan.quats)[:, :, 2]
    step = max(1, len(t) // 12)
    for k in range(0, len(t), step):
        w = p[k] - 0.05 * z_axis[k]
        ax.plot([w[0], p[k, 0]], [w[1], p[k, 1]], [w[2], p[k, 2]], color=_HAND, lw=1.6,
                alpha=0.8, label="gripper axis" if k == 0 else None)
    ax.scatter(*p[0], color="k", marker="o", s=30, label="start")
    ax.scatter(*p[-1], color="k", marker="s", s=30, label="end")
    if rollout_csv is not None and Path(rollout_csv).is_file():
        from real2sim_core.trajectory import read_states_csv

        ro = read_states_csv(rollout_csv)  # a rollout CSV is a states CSV (+ opening)
        for i in range(ro.num_objects):  # cylinders stored as their (2 r, 2 r, h) cuboids
            hei, rad = ro.obj_size[0, i, 2], ro.obj_size[0, i, 0] / 2
            o = ro.obj_pos[:, i]
            _cylinder(ax, o[0], hei, rad, _OBJ[i], 0.35)
            _cylinder(ax, o[-1], hei, rad, _OBJ[i], 1.0, label=f"object {i} (faint: start)")
            ax.plot(o[:, 0], o[:, 1], o[:, 2], color=_OBJ[i], lw=1, ls="--")
    lo, hi = p.min(axis=0), p.max(axis=0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.05) * 1.1
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_zlim(max(0.0, mid[2] - half), max(0.0, mid[2] - half) + 2 * half)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_zlabel("z [m]")
    ax.view_init(elev=24, azim=-60)
    fig.colorbar(pts, ax=ax, shrink=0.6, pad=0.1, label="time [s]")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title or f"{plan.action} plan ({plan.frame_id}), {len(t)} waypoints",
                 fontsize=9)
    return _save(fig, out_png)


def plot_joints(joint_csv, out_png) -> Path:
    """Joint positions, gripper command and IK error over time from ``joint_trajectory.csv``
    (columns ``time, segment, gripper_closed, panda_jointN_pos, ik_position_error_mm``)."""
    plt = _plt()
    path = Path(joint_csv)
    header, rows = _read_csv(path)
    if "time" not in header:
        raise InputError(f"{path.name}: no 'time' column")
    c = _columns(path, ["time", "gripper_closed", "ik_position_error_mm"]
                 + [f"{j}_pos" for j in _JOINT_NAMES])
    t = c["time"]
    seg_col = header.index("segment") if "segment" in header else None
    fig, axes = plt.subplots(3, 1, figsize=(6.4, 4.8), dpi=_DPI, sharex=True,
                             gridspec_kw={"height_ratios": [3, 1, 1]})
    ax = axes[0]
    for i, j in enumerate(_JOINT_NAMES):
        if f"{j}_pos" in c:
            ax.plot(t, c[f"{j}_pos"], lw=1.3, label=f"joint {i + 1}")
    ax.set_ylabel("joint [rad]")
    ax.grid(alpha=0.3)
    if seg_col is not None:  # shade the parts before the plan: move to start, approach
        shades = {"move_to_start": ("#eaecf0", "move to start"),
                  "approach": ("#fef0c7", "approach")}
        segs = [r[seg_col] if seg_col < len(r) else "" for r in rows]
        start, labelled = 0, set()
        for k in range(1, len(segs) + 1):
            if k == len(segs) or segs[k] != segs[start]:
                if segs[start] in shades:
                    colour, label = shades[segs[start]]
                    for n, a in enumerate(axes):
                        a.axvspan(t[start], t[min(k, len(t) - 1)], color=colour, zorder=0,
                                  label=label if n == 0 and label not in labelled else None)
                    labelled.add(label)
                start = k
    ax.legend(fontsize=7, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    g = c.get("gripper_closed")
    if g is not None:
        gv = np.where(np.isnan(g), 0.0, g)
        axes[1].step(t, gv, where="post", color="#7a5af8", lw=1.5)
        axes[1].set_yticks([0, 1], ["open", "closed"])
        axes[1].set_ylim(-0.3, 1.3)
    axes[1].set_ylabel("gripper")
    e = c.get("ik_position_error_mm")
    if e is not None:
        axes[2].plot(t, e, color="#d92d20", lw=1.2)
    axes[2].set_ylabel("IK err [mm]")
    axes[2].set_xlabel("time [s]")
    for a in axes[1:]:
        a.grid(alpha=0.3)
    return _save(fig, out_png)


def _save(fig, out_png) -> Path:
    """Lay ``fig`` out, write it to ``out_png`` (folders created) and close it."""
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    _plt().close(fig)
    return out_png


def video_stills(video_file, poster_png, strip_png, n: int = 5) -> tuple[Path, Path]:
    """A poster (the middle frame) and a strip of ``n`` evenly spaced stills of a video."""
    import imageio.v2 as imageio

    path = Path(video_file)
    try:
        reader = imageio.get_reader(path)
        try:
            count = reader.count_frames()
            want = {int(round(x)) for x in np.linspace(0, count - 1, n)} if count else set()
            stills = [np.asarray(fr) for k, fr in enumerate(reader) if k in want]
        finally:
            reader.close()
    except (OSError, RuntimeError, ValueError, IndexError) as e:
        raise InputError(f"{path.name}: cannot read the video ({e})") from None
    if not stills:
        raise InputError(f"{path.name}: no frames")
    poster = stills[len(stills) // 2]
    h = min(s.shape[0] for s in stills)
    gap = np.full((h, 4, 3), 255, dtype=np.uint8)
    row = []
    for s in stills:
        row += [s[:h, :, :3], gap]
    poster_png, strip_png = Path(poster_png), Path(strip_png)
    poster_png.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(poster_png, poster[:, :, :3])
    imageio.imwrite(strip_png, np.concatenate(row[:-1], axis=1))
    return poster_png, strip_png
