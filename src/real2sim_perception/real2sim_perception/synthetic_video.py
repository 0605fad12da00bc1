"""Synthetic hand-object videos with known tracks, and detector output made from them.

:func:`render_scene` draws an action (push / pull / pick up / put) as textured primitives over
a textured table-and-wall background: boxes for the objects (a static distractor as well when
asked) and a skin-coloured hand blob (palm ellipse, fingers, forearm to the frame edge). The
ground truth is the *visible* mask of each body per frame (state numbering) and the touch
flags. :func:`write_scene_video` writes it as a real video file (imageio/ffmpeg), and
:func:`make_detections` turns the ground truth into detector output with controlled errors --
jittered boxes, eroded/dilated masks, missed detections, false positives and class-label
swaps between objects -- in COCO-results or 100DOH format, for the ``precomputed`` backend.
:func:`score_tracks` measures a front end's :class:`MaskSequence` against the ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action

from .detectors.masks import mask_iou, mask_to_box, rle_encode
from .errors import DetectionFormatError
from .inputs import MaskSequence, track_names
from .video import write_video

__all__ = [
    "SyntheticScene",
    "render_scene",
    "write_scene_video",
    "make_detections",
    "write_detections",
    "score_tracks",
]

_SKIN = np.array([224, 172, 140], np.float32)
_OBJ_COLORS = [np.array([40, 90, 200], np.float32), np.array([60, 170, 70], np.float32),
               np.array([150, 60, 160], np.float32)]
_COCO_LABELS = {"hand": (1, "person"), "object0": (47, "cup"), "object1": (84, "book"),
                "distractor": (86, "vase")}


@dataclass
class SyntheticScene:
    """A rendered synthetic video with ground truth.

    Attributes:
        frames: ``(T, H, W, 3)`` uint8 RGB at :attr:`fps`.
        masks: ``(K, T, H, W)`` bool visible masks per state track (:attr:`tracks`).
        touch: ``(T,)`` ground-truth touch flags: the unoccluded silhouettes of the hand and
            the manipulated object overlap.
        tracks: ``("hand", "object0"[, "object1"])``.
        fps: frame rate, frames per second.
        action: action registry name.
        distractor: ``(T, H, W)`` visible mask of a static distractor object, or None.
    """

    frames: np.ndarray
    masks: np.ndarray
    touch: np.ndarray
    tracks: tuple[str, ...]
    fps: float
    action: str
    distractor: np.ndarray | None = None


def _smooth(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _background(h: int, w: int, rng) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    horizon = int(0.35 * h)
    wall = np.array([205, 200, 185], np.float32) - 20 * (yy[:horizon, :, None] / h)
    img[:horizon] = wall
    # wood-like table: warm base, stripes along x bent a little, fine noise
    stripes = 0.5 + 0.5 * np.sin(xx[horizon:] / w * 40 + 3 * np.sin(yy[horizon:] / h * 6))
    base = np.array([150, 105, 65], np.float32)
    img[horizon:] = base + 25 * stripes[..., None] * np.array([1.0, 0.8, 0.5], np.float32)
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    return img


def _box_mask(cx, cy, bw, bh, h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    return (np.abs(xx + 0.5 - cx) <= bw / 2) & (np.abs(yy + 0.5 - cy) <= bh / 2)


def _paint_box(img, m, color, cx, cy, bw, bh):
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    u = (xx + 0.5 - (cx - bw / 2)) / max(bw, 1)
    v = (yy + 0.5 - (cy - bh / 2)) / max(bh, 1)
    tex = 0.85 + 0.15 * ((np.floor(u * 4) + np.floor(v * 3)) % 2)  # checker label texture
    shade = 1.0 - 0.25 * v  # darker towards the bottom edge
    img[m] = (color[None] * (tex * shade)[m][:, None])


def _hand_mask(tip, wrist_dir, scale, h, w):
    """Palm ellipse + 3 fingers ending at ``tip`` + a forearm from the palm off the frame."""
    import cv2

    m = np.zeros((h, w), np.uint8)
    d = np.asarray(wrist_dir, float)
    d = d / np.linalg.norm(d)
    n = np.array([-d[1], d[0]])
    palm_c = np.asarray(tip, float) + d * 0.55 * scale
    s = 16  # fixed-point subpixel shift factor
    cv2.ellipse(m, (int(palm_c[0] * s), int(palm_c[1] * s)),
                (int(0.42 * scale * s), int(0.32 * scale * s)),
                float(np.degrees(np.arctan2(d[1], d[0]))), 0, 360, 1, -1, cv2.LINE_8, 4)
    for off in (-0.18, 0.0, 0.18):
        a = np.asarray(tip, float) + n * off * scale + d * 0.05 * scale
        b = palm_c + n * off * 1.3 * scale
        cv2.line(m, tuple(int(v * s) for v in a), tuple(int(v * s) for v in b), 1,
                 max(1, int(0.13 * scale)), cv2.LINE_8, 4)
    far = palm_c + d * 3.0 * max(h, w)
    quad = np.array([palm_c + n * 0.25 * scale, far + n * 0.3 * scale,
                     far - n * 0.3 * scale, palm_c - n * 0.25 * scale])
    cv2.fillConvexPoly(m, np.round(quad * s).astype(np.int32), 1, cv2.LINE_8, 4)
    return m.astype(bool)


def render_scene(action: str = "push_left_to_right", *, height: int = 120, width: int = 160,
                 fps: float = 24.0, duration: float = 4.0, seed: int = 0,
                 distractor: bool = True) -> SyntheticScene:
    """Render one synthetic demonstration of ``action`` with ground-truth masks and touch.

    Time runs in phases (fractions of the duration): approach 0-0.3, manipulate 0.3-0.7 (the
    hand touches and moves the manipulated object), retreat 0.7-1. Two-object (put) actions
    start with the moved object held in the hand and carry it next to / behind / in front of /
    onto the static one. Ground-truth touch is the overlap of the unoccluded hand and
    manipulated-object silhouettes.

    Args:
        action: action name (METHOD section 10).
        height: frame height, px.
        width: frame width, px.
        fps: frame rate, frames per second.
        duration: seconds.
        seed: random seed (background noise, small trajectory variations).
        distractor: add a static third object away from the action.

    Returns:
        The :class:`SyntheticScene`.
    """
    spec = get_action(action)
    rng = np.random.default_rng(seed)
    h, w = int(height), int(width)
    t_n = int(round(duration * fps))
    names = track_names(spec.num_objects)
    bg = _background(h, w, rng)
    ob = np.array([0.16 * h * 1.3, 0.24 * h])  # object box size (w, h), px
    table_y = 0.66 * h + rng.uniform(-0.03, 0.03) * h
    hand_scale = 0.30 * h
    u = np.arange(t_n) / max(t_n - 1, 1)
    # the hand arrives and leaves at speed (linear), the object moves smoothly while touched
    appr, manip = np.clip(u / 0.3, 0, 1), _smooth((u - 0.3) / 0.4)
    retreat = np.clip((u - 0.7) / 0.3, 0, 1)
    touch = np.zeros(t_n)
    bodies = {}  # name -> list of (cx, cy, bw, bh) per frame
    tips = np.zeros((t_n, 2))
    wrist = np.zeros((t_n, 2))
    kind, direction = spec.kind, spec.direction
    if spec.num_objects == 1:
        x0 = (0.35 if direction >= 0 else 0.65) * w
        x1 = (0.68 if direction >= 0 else 0.32) * w
        cy = table_y - ob[1] / 2
        ox = x0 + (x1 - x0) * manip
        oy = np.full(t_n, cy)
        if kind == "pick_up":
            ox = np.full(t_n, 0.5 * w)
            oy = cy - 0.3 * h * manip
        bodies["object0"] = np.stack([ox, oy, np.full(t_n, ob[0]), np.full(t_n, ob[1])], 1)
        if kind == "pick_up":
            side = np.array([0.0, -ob[1] / 2 + 0.01 * h])  # from above, fingers on the top
            wrist[:] = (0.0, -1.0)
        else:
            push_side = -direction if kind == "push" else direction
            side = np.array([push_side * (ob[0] / 2 - 0.01 * h), 0.0])  # fingers on the side
            wrist[:] = (push_side * 0.9, 0.45)
        contact = np.stack([ox, oy], 1) + side
        arm = wrist[0] / np.linalg.norm(wrist[0])  # approach and retreat along the forearm
        start = contact[0] + arm * 0.45 * h
        away = contact[-1] + arm * 0.45 * h
        tips = np.where((u < 0.3)[:, None], start + (contact[0] - start) * appr[:, None],
                        contact)
        tips = np.where((u > 0.7)[:, None], contact[-1] + (away - contact[-1])
                        * retreat[:, None], tips)
    else:
        sx, sy = 0.58 * w, table_y - ob[1] / 2
        bodies["object0"] = np.tile([sx, sy, ob[0] * 1.2, ob[1] * 1.2], (t_n, 1))
        rel = {"next_to": (-1.35 * ob[0], 0.0), "behind": (0.0, -0.07 * h),
               "in_front_of": (0.0, 0.10 * h), "onto": (0.0, -1.1 * ob[1])}[spec.relation]
        goal = np.array([sx + rel[0], sy + rel[1] + (0.0 if spec.relation != "onto" else 0)])
        start = np.array([0.12 * w, 0.45 * h])
        # carried from the start, released at the goal at u = 0.7
        path = start + (goal - start) * _smooth(u / 0.7)[:, None]
        obj1 = np.where((u <= 0.7)[:, None], path, goal)
        bodies["object1"] = np.stack([obj1[:, 0], obj1[:, 1], np.full(t_n, ob[0] * 0.9),
                                      np.full(t_n, ob[1] * 0.8)], 1)
        grip = obj1 + np.array([0.0, -ob[1] * 0.4 + 0.02 * h])
        wrist[:] = (-0.5, -0.9)
        arm = wrist[0] / np.linalg.norm(wrist[0])
        away = grip[-1] + arm * 0.45 * h
        tips = np.where((u > 0.7)[:, None], grip + (away - grip) * retreat[:, None], grip)
    if distractor:
        # away from the action: beyond the pushed/pulled object's end, right of the put ones
        if spec.num_objects == 2:
            dx = 0.9 * w
        elif kind == "pick_up":
            dx = 0.12 * w
        else:
            dx = 0.9 * w if direction > 0 else 0.1 * w
        bodies["distractor"] = np.tile([dx, table_y - ob[1] * 0.45, ob[0] * 0.8, ob[1] * 0.9],
                                       (t_n, 1))
    order = [n for n in ("distractor", "object0", "object1") if n in bodies]
    colors = {"object0": _OBJ_COLORS[0], "object1": _OBJ_COLORS[1],
              "distractor": _OBJ_COLORS[2]}
    frames = np.zeros((t_n, h, w, 3), np.uint8)
    vis = {n: np.zeros((t_n, h, w), bool) for n in order + ["hand"]}
    for t in range(t_n):
        img = bg.copy()
        drawn = []
        for n in order:
            cx, cy, bw, bh = bodies[n][t]
            m = _box_mask(cx, cy, bw, bh, h, w)
            _paint_box(img, m, colors[n], cx, cy, bw, bh)
            drawn.append((n, m))
        hm = _hand_mask(tips[t], wrist[t], hand_scale, h, w)
        shade = 0.9 + 0.1 * np.sin(np.arange(w) / 3.0)[None, :].repeat(h, 0)
        img[hm] = _SKIN[None] * shade[hm][:, None]
        drawn.append(("hand", hm))
        full = dict(drawn)
        touch[t] = float((hm & full[names[-1]]).any())
        covered = np.zeros((h, w), bool)
        for n, m in reversed(drawn):  # visible = not covered by bodies drawn later
            vis[n][t] = m & ~covered
            covered |= m
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    masks = np.stack([vis[n] for n in names])
    return SyntheticScene(frames=frames, masks=masks, touch=touch, tracks=names, fps=float(fps),
                          action=spec.name, distractor=vis.get("distractor"))


def write_scene_video(scene: SyntheticScene, path) -> Path:
    """Write the scene's frames as a video (format from the suffix: .mp4, .webm, .avi, .gif)."""
    return write_video(path, scene.frames, scene.fps)


def make_detections(scene: SyntheticScene, *, fmt: str = "coco", seed: int = 0,
                    miss_prob: float = 0.1, jitter_px: float = 1.5, mask_noise_px: int = 1,
                    swap_prob: float = 0.1, false_positive_rate: float = 0.3,
                    contact_flip_prob: float = 0.05, polygons: bool = False) -> dict:
    """Detector output made from the ground truth, with controlled errors.

    Args:
        scene: the rendered scene.
        fmt: ``"coco"`` (instance results with RLE or polygon masks, COCO classes: hand =
            person, objects cup/book, distractor vase) or ``"100doh"`` (hand/object boxes,
            hand contact states and offsets to the touched object).
        seed: random seed.
        miss_prob: probability that a visible body is not detected in a frame.
        jitter_px: standard deviation of the box corner noise, px.
        mask_noise_px: masks are randomly eroded or dilated by up to this many px.
        swap_prob: per frame, probability that the two object class labels are swapped (one-
            object actions: the object gets the distractor's label).
        false_positive_rate: expected spurious small detections per frame.
        contact_flip_prob: 100DOH: probability that a contact state is wrong.
        polygons: COCO: write polygon masks (from contours) instead of RLE.

    Returns:
        A JSON-ready dict in the format the ``precomputed`` backend reads.
    """
    import cv2

    rng = np.random.default_rng(seed)
    t_n, h, w = scene.masks.shape[1:]
    named = {n: scene.masks[k] for k, n in enumerate(scene.tracks)}
    if scene.distractor is not None:
        named["distractor"] = scene.distractor
    manip = scene.tracks[-1]
    coco, frames_100 = [], []
    for t in range(t_n):
        labels = {n: _COCO_LABELS[n] for n in named}
        if rng.random() < swap_prob:
            objs = [n for n in named if n.startswith("object")]
            if len(objs) == 2:
                labels[objs[0]], labels[objs[1]] = labels[objs[1]], labels[objs[0]]
            else:
                labels[objs[0]] = _COCO_LABELS["distractor"]
        hands, objects = [], []
        for n, seq in named.items():
            m = seq[t]
            if m.sum() < 12 or rng.random() < miss_prob:
                continue
            r = int(rng.integers(-mask_noise_px, mask_noise_px + 1))
            if r:
                k = np.ones((2 * abs(r) + 1, 2 * abs(r) + 1), np.uint8)
                op = cv2.dilate if r > 0 else cv2.erode
                m2 = op(m.astype(np.uint8), k) > 0
                m = m2 if m2.any() else m
            box = mask_to_box(m) + rng.normal(0, jitter_px, 4)
            box = np.clip(box, 0, [w, h, w, h])
            score = float(rng.uniform(0.6, 0.99))
            if fmt == "coco":
                cid, _ = labels[n]
                if polygons:
                    cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL,
                                             cv2.CHAIN_APPROX_SIMPLE)
                    seg = [(c.reshape(-1, 2) + 0.5).reshape(-1).tolist() for c in cs
                           if len(c) >= 3]
                else:
                    seg = rle_encode(m)
                coco.append({"image_id": t, "category_id": cid, "score": round(score, 3),
                             "bbox": [round(float(v), 2) for v in
                                      (box[0], box[1], box[2] - box[0], box[3] - box[1])],
                             "segmentation": seg})
            elif n == "hand":
                state = 3 if scene.touch[t] > 0.5 else 0
                if rng.random() < contact_flip_prob:
                    state = 0 if state else 3
                target = mask_to_box(named[manip][t]) if named[manip][t].any() else None
                hc = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
                if target is not None:
                    v = np.array([(target[0] + target[2]) / 2, (target[1] + target[3]) / 2]) - hc
                else:
                    v = np.array([1.0, 0.0])
                mag = float(np.hypot(*v)) or 1.0
                hands.append(box.round(2).tolist() + [round(score, 3), state, mag / 10000.0,
                                                      v[0] / mag, v[1] / mag, 1])
            else:
                objects.append(box.round(2).tolist() + [round(score, 3), 0, 0, 0, 0, 0])
        n_fp = rng.poisson(false_positive_rate)
        for _ in range(n_fp):
            bw, bh = rng.uniform(0.05, 0.12, 2) * h
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            box = [x, y, x + bw, y + bh]
            score = float(rng.uniform(0.3, 0.6))
            if fmt == "coco":
                m = np.zeros((h, w), bool)
                m[int(y):int(y + bh), int(x):int(x + bw)] = True
                coco.append({"image_id": t, "category_id": 44, "score": round(score, 3),
                             "bbox": [x, y, bw, bh], "segmentation": rle_encode(m)})
            else:
                objects.append([round(v, 2) for v in box] + [round(score, 3), 0, 0, 0, 0, 0])
        if fmt == "coco":
            continue
        rng.shuffle(objects)
        frames_100.append({"frame": t, "hand_dets": hands or None,
                           "obj_dets": objects or None})
    if fmt == "coco":
        rng.shuffle(coco)
        return {"format": "coco", "frame_base": "source", "annotations": coco,
                "categories": [{"id": i, "name": n} for i, n in
                               sorted(set(_COCO_LABELS.values()) | {(44, "bottle")})]}
    if fmt == "100doh":
        return {"format": "100doh", "frame_base": "source", "frames": frames_100}
    raise DetectionFormatError(f"fmt must be 'coco' or '100doh', got {fmt!r}")


def write_detections(dets: dict, path) -> Path:
    """Write a detection dict (from :func:`make_detections`) as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dets))
    return path


def score_tracks(seq: MaskSequence, scene: SyntheticScene, source_indices) -> dict:
    """Compare a front end's masks with the scene's ground truth.

    Args:
        seq: the front end's output (``(K, T', H, W)`` at the resampled rate).
        scene: the ground truth at the source rate.
        source_indices: ``(T',)`` source frame of each output frame
            (:attr:`Video.source_indices`).

    Returns:
        Per track ``identity`` (fraction of frames with an output mask whose best-matching
        ground-truth body is the right one), ``iou`` (mean mask IoU with the right body over
        those frames), ``coverage`` (fraction of frames where the body is visible that have an
        output mask); and ``touch_accuracy`` (fraction of frames whose touch flag matches).
    """
    idx = np.asarray(source_indices)
    gt = scene.masks[:, idx]
    bodies = list(gt)
    if scene.distractor is not None:
        bodies.append(scene.distractor[idx])
    out = {}
    for k, name in enumerate(seq.tracks):
        has = seq.masks[k].any(axis=(1, 2))
        vis = gt[k].any(axis=(1, 2))
        right, ious = 0, []
        for t in np.flatnonzero(has):
            scores = [mask_iou(seq.masks[k, t], b[t]) for b in bodies]
            best = int(np.argmax(scores))
            right += best == k and scores[best] > 0.1
            ious.append(scores[k])
        n = int(has.sum())
        out[name] = {"identity": right / n if n else 0.0,
                     "iou": float(np.mean(ious)) if ious else 0.0,
                     "coverage": float((has & vis).sum() / max(vis.sum(), 1))}
    if seq.touch is not None:
        out["touch_accuracy"] = float(np.mean((seq.touch > 0.5) == (scene.touch[idx] > 0.5)))
    return out
