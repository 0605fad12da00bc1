"""COCO mask encodings in pure numpy: run-length (RLE, plain and compressed) and polygons.

COCO stores an ``(H, W)`` binary mask as run lengths of the **column-major** (Fortran-order)
flattened mask, starting with a run of zeros (which may be 0 long). The compressed form writes
the runs as a string: each run after the second is stored as the difference to the run two
before; each number is split into 5-bit groups, low group first, each group written as one
character ``48 + group`` with bit 0x20 set while more groups follow (the last group's bit 0x10
carries the sign). Polygons are lists of ``[x0, y0, x1, y1, ...]`` vertices in pixel
coordinates where pixel (row i, column j) covers ``[j, j+1) x [i, i+1)``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DetectionFormatError, MaskShapeError

__all__ = [
    "rle_encode",
    "rle_decode",
    "rle_counts_to_string",
    "rle_string_to_counts",
    "polygons_to_mask",
    "decode_segmentation",
    "mask_to_box",
    "box_to_mask",
    "mask_iou",
    "box_iou_matrix",
]


def rle_encode(mask: np.ndarray, compress: bool = True) -> dict:
    """Encode an ``(H, W)`` binary mask as a COCO RLE dict ``{"size": [H, W], "counts": ...}``.

    Args:
        mask: ``(H, W)`` bool/0-1 array.
        compress: write ``counts`` as the compressed string (as pycocotools does); False
            writes the plain list of run lengths ("uncompressed RLE").
    """
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2:
        raise MaskShapeError(f"mask must be (H, W), got shape {m.shape}")
    flat = m.flatten(order="F").astype(np.int8)
    if flat.size == 0:
        counts = [0]
    else:
        change = np.flatnonzero(np.diff(flat)) + 1
        bounds = np.concatenate([[0], change, [flat.size]])
        counts = np.diff(bounds).tolist()
        if flat[0] == 1:
            counts = [0] + counts
    rle = {"size": [int(m.shape[0]), int(m.shape[1])]}
    rle["counts"] = rle_counts_to_string(counts) if compress else [int(c) for c in counts]
    return rle


def rle_decode(rle: dict) -> np.ndarray:
    """Decode a COCO RLE dict (compressed string or list ``counts``) to an ``(H, W)`` bool mask.

    Raises:
        DetectionFormatError: missing keys, or run lengths that do not add up to ``H * W``.
    """
    try:
        h, w = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise DetectionFormatError(
            f"an RLE mask needs 'size': [H, W] and 'counts'; got keys {sorted(rle)}"
        ) from None
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if isinstance(counts, str):
        counts = rle_string_to_counts(counts)
    counts = np.asarray(counts, dtype=np.int64)
    if (counts < 0).any() or counts.sum() != h * w:
        raise DetectionFormatError(
            f"RLE run lengths sum to {int(counts.sum())} but the mask is {h}x{w} = {h * w} "
            "pixels (or a run is negative); the counts do not belong to this size"
        )
    values = np.zeros(counts.size, dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((h, w), order="F")


def rle_counts_to_string(counts) -> str:
    """Compress COCO run lengths to the COCO RLE string."""
    out = []
    cnts = [int(c) for c in counts]
    for i, c in enumerate(cnts):
        x = c - cnts[i - 2] if i > 2 else c
        while True:
            group = x & 0x1F
            x >>= 5  # arithmetic shift: negative numbers end at -1
            more = (x != -1) if (group & 0x10) else (x != 0)
            if more:
                group |= 0x20
            out.append(chr(group + 48))
            if not more:
                break
    return "".join(out)


def rle_string_to_counts(s: str) -> list[int]:
    """Decompress a COCO RLE string to run lengths.

    Raises:
        DetectionFormatError: a character outside the RLE alphabet or a truncated number.
    """
    counts: list[int] = []
    p, n = 0, len(s)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                raise DetectionFormatError(f"truncated RLE string (ends inside a number): {s!r}")
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                raise DetectionFormatError(f"character {s[p]!r} is not in a COCO RLE string")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def polygons_to_mask(polygons, height: int, width: int, supersample: int = 4) -> np.ndarray:
    """Rasterise COCO polygons ``[[x0, y0, x1, y1, ...], ...]`` to an ``(H, W)`` bool mask.

    Vertices are continuous pixel coordinates (pixel (i, j) covers ``[j, j+1) x [i, i+1)``).
    The polygons are filled with ``cv2.fillPoly`` on a ``supersample`` times finer grid and a
    pixel is set when at least half of it is covered (so a pixel is inside when its area
    mostly is, independent of OpenCV's inclusive boundary rule).
    """
    import cv2

    s = int(supersample)
    h, w = int(height), int(width)
    fine = np.zeros((h * s, w * s), dtype=np.uint8)
    pts = []
    for poly in polygons:
        a = np.asarray(poly, dtype=float).reshape(-1)
        if a.size < 6 or a.size % 2:
            raise DetectionFormatError(
                f"a polygon needs at least 3 (x, y) vertices as a flat list; got {a.size} numbers"
            )
        xy = a.reshape(-1, 2) * s - 0.5  # fine-grid pixel-centre coordinates
        pts.append(np.round(xy * 16).astype(np.int32))
    if pts:
        cv2.fillPoly(fine, pts, 1, lineType=cv2.LINE_8, shift=4)
    cover = fine.reshape(h, s, w, s).mean(axis=(1, 3))
    return cover >= 0.5


def decode_segmentation(seg, height: int | None, width: int | None) -> np.ndarray:
    """Decode a COCO ``segmentation`` field (RLE dict or polygon list) to an ``(H, W)`` mask.

    Args:
        seg: ``{"size": [H, W], "counts": str | list}`` or ``[[x0, y0, ...], ...]``.
        height: frame height, px (needed for polygons; checked against an RLE's size).
        width: frame width, px.
    """
    if isinstance(seg, dict):
        m = rle_decode(seg)
        if height is not None and width is not None and m.shape != (height, width):
            raise DetectionFormatError(
                f"an RLE mask is {m.shape[1]}x{m.shape[0]} px but the frame is {width}x{height}"
            )
        return m
    if isinstance(seg, list):
        if height is None or width is None:
            raise DetectionFormatError("polygon masks need the frame size (height, width)")
        if seg and not isinstance(seg[0], list | tuple):
            seg = [seg]
        return polygons_to_mask(seg, height, width)
    raise DetectionFormatError(
        f"segmentation must be an RLE dict or a list of polygons, got {type(seg).__name__}"
    )


def mask_to_box(mask: np.ndarray) -> np.ndarray:
    """Tight box ``(4,)`` ``x1, y1, x2, y2`` (pixel edges) of a mask; NaN when empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        return np.full(4, np.nan)
    return np.array([xs[0], ys[0], xs[-1] + 1, ys[-1] + 1], dtype=float)


def box_to_mask(box, height: int, width: int) -> np.ndarray:
    """Filled ``(H, W)`` bool rectangle of a box ``x1, y1, x2, y2`` (pixel centres inside)."""
    m = np.zeros((height, width), dtype=bool)
    b = np.asarray(box, dtype=float)
    if not np.isfinite(b).all():
        return m
    x1, x2 = int(np.ceil(b[0] - 0.5)), int(np.ceil(b[2] - 0.5))
    y1, y2 = int(np.ceil(b[1] - 0.5)), int(np.ceil(b[3] - 0.5))
    m[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    return m


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two binary masks (0 when both are empty)."""
    inter = np.logical_and(a, b).sum()
    union = np.logical_or(a, b).sum()
    return float(inter / union) if union else 0.0


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes ``(N, 4)`` and ``(M, 4)`` (``x1, y1, x2, y2``) -> ``(N, M)``."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0],
                 b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1],
                 b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(out)
