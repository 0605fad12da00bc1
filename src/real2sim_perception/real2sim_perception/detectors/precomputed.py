"""``precomputed`` backend: detections read from a JSON file, so any external detector plugs in.

Two formats are read (the format is detected from the content, or named by ``"format"``):

**COCO instance results** (what detectron2's ``COCOEvaluator`` / pycocotools write), either a
bare list or wrapped::

    [{"image_id": 3, "category_id": 1, "bbox": [x, y, w, h], "score": 0.98,
      "segmentation": {"size": [H, W], "counts": "..."}}, ...]

    {"format": "coco", "frame_base": "source", "categories": [{"id": 1, "name": "person"}],
     "annotations": [...same records...], "images": [{"id": 3, "frame_index": 3}]}

``segmentation`` is a COCO RLE (compressed string or list counts) or a polygon list; without
it the box is the mask. ``image_id`` is the frame index (or mapped through ``images[].
frame_index``). Class names come from ``categories`` (else the COCO table); a record may also
name its class directly (``"label"``) and carry ``"contact_state"``.

**100DOH hand-object detector output** (Shan et al., CVPR 2020: ``hand_dets`` / ``obj_dets``
rows of ``x1, y1, x2, y2, score, contact, offset_magnitude, offset_dx, offset_dy, side`` with
contact 0..4 = N, S, O, P, F and side 0 = left, 1 = right)::

    {"format": "100doh", "frames": [{"frame": 0, "hand_dets": [[...10 values...]],
                                     "obj_dets": [[...]] or null}, ...]}

or, per frame, readable records ``{"hands": [{"box": [x1, y1, x2, y2], "score": 0.9,
"contact_state": "P", "hand_side": "right", "offset": [m, dx, dy]}], "objects": [{"box":
[...], "score": 0.8}]}``; ``"frames"`` may also be a mapping ``"frame index" -> record``.

``frame_base`` says which frames the indices count: ``"source"`` (default: every frame of the
original video, as an external detector run on the decoded stream writes them) or
``"resampled"`` (the 12 fps frames).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np
from real2sim_core.textio import read_json

from ..errors import DetectionFormatError, NoDetectionsError
from .base import CONTACT_STATES, Detector, Instance, coco_name, role_of_label
from .masks import decode_segmentation

__all__ = ["PrecomputedDetector", "DetectionFile", "load_detections", "CONTACT_CODES"]

log = logging.getLogger(__name__)

CONTACT_CODES = tuple(CONTACT_STATES)  # index in the 100DOH output -> letter
_SIDES = {0: "left", 1: "right", "l": "left", "r": "right", "left": "left", "right": "right"}


class PrecomputedDetector(Detector):
    """Detections from a JSON file (COCO instance results or 100DOH output).

    Args:
        path: the JSON file.
        frame_base: ``"source"`` or ``"resampled"``; None takes the file's ``frame_base``
            (default ``"source"``).
        min_score: instances below this score are dropped.
        hand_covers_forearm: whether the file's hand masks include the forearm (COCO
            ``person`` masks do); None: True for COCO files with masks, else False.
    """

    name = "precomputed"

    def __init__(self, path, *, frame_base: str | None = None, min_score: float = 0.3,
                 hand_covers_forearm: bool | None = None):
        self.path = Path(path)
        self.min_score = float(min_score)
        loaded = load_detections(self.path)
        self.format, self._records, has_masks = loaded.format, loaded.records, loaded.has_masks
        self.frame_base = frame_base or loaded.frame_base
        if self.frame_base not in ("source", "resampled"):
            raise DetectionFormatError(
                f"{self.path}: frame_base {self.frame_base!r}; use 'source' or 'resampled'"
            )
        self.reports_contact = self.format == "100doh" or any(
            r.get("contact") is not None for recs in self._records.values() for r in recs)
        self.hand_covers_forearm = (self.format == "coco" and has_masks
                                    if hand_covers_forearm is None else hand_covers_forearm)

    @property
    def frame_indices(self) -> list[int]:
        """Frame indices that have at least one record in the file."""
        return sorted(self._records)

    def _fit(self, mask: np.ndarray, h: int, w: int, key) -> np.ndarray:
        """Crop/pad a mask made for a frame padded or cropped by up to 2 px (even-size
        encoders); larger differences mean the file belongs to another video."""
        if abs(mask.shape[0] - h) > 2 or abs(mask.shape[1] - w) > 2:
            raise DetectionFormatError(
                f"{self.path}: frame {key}: a mask is {mask.shape[1]}x{mask.shape[0]} px but "
                f"the video frame is {w}x{h}; are these detections of this video?"
            )
        return _fit_mask(mask, h, w)

    def detect(self, frame, *, index=0, source_index=None, timestamp=0.0) -> list[Instance]:
        key = index if self.frame_base == "resampled" or source_index is None else source_index
        h, w = frame.shape[:2]
        out = []
        for r in self._records.get(int(key), []):
            if r["score"] < self.min_score:
                continue
            box = np.asarray(r["box"], dtype=float).copy()
            box[[0, 2]] = np.clip(box[[0, 2]], 0, w)
            box[[1, 3]] = np.clip(box[[1, 3]], 0, h)
            mask = None
            seg = r.get("segmentation")
            if seg is not None:
                rle = isinstance(seg, dict)
                try:
                    mask = decode_segmentation(seg, None if rle else h, None if rle else w)
                except DetectionFormatError as e:
                    raise DetectionFormatError(f"{self.path}: frame {key}: {e}") from None
                if mask.shape != (h, w):
                    mask = self._fit(mask, h, w, key)
                if not mask.any():
                    continue
            if box[2] - box[0] < 1 or box[3] - box[1] < 1:
                continue
            out.append(Instance(
                box=box, score=r["score"], label=r["label"], role=role_of_label(r["label"]),
                mask=mask, contact=r.get("contact"), side=r.get("side"),
                offset=None if r.get("offset") is None else np.asarray(r["offset"], float),
                category_id=r.get("category_id"),
            ))
        return out


def _fit_mask(mask: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w), dtype=bool)
    hh, ww = min(h, mask.shape[0]), min(w, mask.shape[1])
    out[:hh, :ww] = mask[:hh, :ww]
    return out


class DetectionFile(NamedTuple):
    """A parsed detection file.

    Attributes:
        format: ``"coco"`` or ``"100doh"``.
        frame_base: the file's ``frame_base`` (``"source"`` unless it says otherwise).
        records: frame index -> dicts with ``box`` (x1, y1, x2, y2 px), ``score``, ``label``
            and optionally ``segmentation``, ``contact`` (N/S/O/P/F), ``side``, ``offset``,
            ``category_id``.
        has_masks: some record carries a segmentation.
    """

    format: str
    frame_base: str
    records: dict[int, list[dict]]
    has_masks: bool


def load_detections(path) -> DetectionFile:
    """Parse a detection file into normalised records per frame.

    Raises:
        DetectionFormatError: missing/unreadable file or an unknown layout (names the key).
        NoDetectionsError: the file holds no detection at all.
    """
    path = Path(path)
    if not path.is_file():
        raise DetectionFormatError(
            f"{path}: detection file not found; pass --detections FILE with COCO instance "
            "results or 100DOH hand-object detector output (JSON)"
        )
    data = read_json(path, "detection JSON", DetectionFormatError)
    fmt = _guess_format(data)
    base = data.get("frame_base", "source") if isinstance(data, dict) else "source"
    if fmt == "coco":
        records = _parse_coco(path, data)
    elif fmt == "100doh":
        records = _parse_100doh(path, data)
    else:
        raise DetectionFormatError(
            f"{path}: unknown detection format; expected a list of COCO results (image_id, "
            "category_id, bbox, score[, segmentation]), a dict with 'annotations', or a dict "
            "with 'frames' of 100DOH hand_dets/obj_dets (see real2sim_perception.detectors."
            "precomputed)"
        )
    n = sum(len(v) for v in records.values())
    if n == 0:
        raise NoDetectionsError(
            f"{path}: the detection file holds no detections; run the detector on the video "
            "again (check its score threshold) or pick another --detector"
        )
    has_masks = any(r.get("segmentation") is not None for v in records.values() for r in v)
    return DetectionFile(fmt, base, records, has_masks)


def _guess_format(data) -> str:
    if isinstance(data, dict) and data.get("format"):
        return str(data["format"]).lower().replace("-", "").replace("_", "")
    if isinstance(data, list):
        if not data or "image_id" in data[0]:
            return "coco"
        if any(k in data[0] for k in ("hand_dets", "obj_dets", "hands", "objects")):
            return "100doh"
    if isinstance(data, dict):
        if "annotations" in data or "detections" in data:
            return "coco"
        if "frames" in data:
            return "100doh"
    return "unknown"


def _parse_coco(path: Path, data) -> dict[int, list[dict]]:
    names: dict[int, str] = {}
    frame_of: dict = {}
    if isinstance(data, dict):
        for c in data.get("categories", []) or []:
            names[int(c["id"])] = str(c["name"])
        for im in data.get("images", []) or []:
            if "frame_index" in im:
                frame_of[im["id"]] = int(im["frame_index"])
        anns = data.get("annotations", data.get("detections", []))
    else:
        anns = data
    records: dict[int, list[dict]] = {}
    for i, a in enumerate(anns):
        try:
            image_id = a["image_id"]
            x, y, bw, bh = (float(v) for v in a["bbox"])
        except (KeyError, TypeError, ValueError):
            raise DetectionFormatError(
                f"{path}: record {i}: a COCO result needs 'image_id' and 'bbox': [x, y, w, h] "
                f"(got keys {sorted(a) if isinstance(a, dict) else type(a).__name__})"
            ) from None
        cid = a.get("category_id")
        label = a.get("label") or a.get("category_name")
        if label is None:
            if cid is None:
                raise DetectionFormatError(
                    f"{path}: record {i}: needs 'category_id' or 'label'"
                )
            label = names.get(int(cid)) or coco_name(int(cid))
        frame = frame_of.get(image_id, image_id)
        try:
            frame = int(frame)
        except (TypeError, ValueError):
            raise DetectionFormatError(
                f"{path}: record {i}: image_id {image_id!r} is not a frame number; add "
                "'images': [{'id': ..., 'frame_index': N}] to map it"
            ) from None
        rec = {"box": [x, y, x + bw, y + bh], "score": float(a.get("score", 1.0)),
               "label": str(label), "category_id": None if cid is None else int(cid),
               "segmentation": a.get("segmentation") or None}
        if a.get("contact_state") is not None:
            rec["contact"] = _contact_letter(path, a["contact_state"])
        records.setdefault(frame, []).append(rec)
    return records


def _contact_letter(path: Path, v) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        i = int(round(v))
        if 0 <= i < len(CONTACT_CODES):
            return CONTACT_CODES[i]
    s = str(v).strip().upper()
    if s in CONTACT_STATES:
        return s
    for code, text in CONTACT_STATES.items():  # "portable object", "no contact", ...
        if s.lower() == text or s.lower().startswith(text.split()[0]):
            return code
    raise DetectionFormatError(
        f"{path}: contact state {v!r} is not one of 0-4 or {', '.join(CONTACT_STATES)} "
        f"({'; '.join(f'{k} = {t}' for k, t in CONTACT_STATES.items())})"
    )


def _parse_100doh(path: Path, data) -> dict[int, list[dict]]:
    frames = data["frames"] if isinstance(data, dict) else data
    if isinstance(frames, dict):
        items = [(k, v) for k, v in frames.items()]
    elif isinstance(frames, list):
        items = [(f.get("frame", i) if isinstance(f, dict) else i, f)
                 for i, f in enumerate(frames)]
    else:
        raise DetectionFormatError(f"{path}: 'frames' must be a list or a mapping")
    records: dict[int, list[dict]] = {}
    for key, f in items:
        try:
            t = int(key)
        except (TypeError, ValueError):
            raise DetectionFormatError(f"{path}: frame key {key!r} is not a frame number") \
                from None
        if f is None:
            continue
        if not isinstance(f, dict):
            raise DetectionFormatError(f"{path}: frame {t}: expected a mapping, got {f!r:.60}")
        out = records.setdefault(t, [])
        for role, rows_key, dict_key in (("hand", "hand_dets", "hands"),
                                         ("targetobject", "obj_dets", "objects")):
            for row in f.get(rows_key) or []:
                out.append(_row_record(path, t, role, row))
            for d in f.get(dict_key) or []:
                out.append(_dict_record(path, t, role, d))
    return records


def _row_record(path: Path, t: int, label: str, row) -> dict:
    r = np.asarray(row, dtype=float).reshape(-1)
    if r.size < 5:
        raise DetectionFormatError(
            f"{path}: frame {t}: a 100DOH row needs x1, y1, x2, y2, score[, contact, "
            f"magnitude, dx, dy, side]; got {r.size} values"
        )
    rec = {"box": r[:4].tolist(), "score": float(r[4]), "label": label}
    if label == "hand" and r.size >= 6:
        rec["contact"] = _contact_letter(path, int(round(r[5])))
        if r.size >= 9:
            rec["offset"] = r[6:9].tolist()
        if r.size >= 10:
            rec["side"] = _SIDES.get(int(round(r[9])))
    return rec


def _dict_record(path: Path, t: int, label: str, d: dict) -> dict:
    try:
        box = [float(v) for v in d["box"]]
    except (KeyError, TypeError, ValueError):
        raise DetectionFormatError(
            f"{path}: frame {t}: a {label} record needs 'box': [x1, y1, x2, y2]"
        ) from None
    rec = {"box": box, "score": float(d.get("score", 1.0)), "label": label,
           "segmentation": d.get("segmentation")}
    if label == "hand":
        if d.get("contact_state") is not None:
            rec["contact"] = _contact_letter(path, d["contact_state"])
        if d.get("offset") is not None:
            rec["offset"] = [float(v) for v in d["offset"]]
        side = d.get("hand_side", d.get("side"))
        if side is not None:
            rec["side"] = _SIDES.get(side if isinstance(side, int) else str(side).lower())
    return rec
