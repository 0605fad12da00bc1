"""Mask folders: one sub-folder of PNG masks per track (+ ``touch.csv``, ``meta.json``).

:func:`from_mask_folder` reads the layout into a :class:`~.inputs.MaskSequence` (the input of
``real2sim estimate --masks``); :func:`write_mask_folder` writes it (the front end's output).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.textio import read_json, read_text
from real2sim_core.trajectory import DEFAULT_FPS

from .errors import MaskFolderError, MaskShapeError
from .inputs import MaskSequence, track_names

__all__ = ["from_mask_folder", "write_mask_folder"]


_IMAGE_EXT = (".png",)


def from_mask_folder(
    folder,
    action,
    *,
    fps: float | None = None,
    hand_covers_forearm: bool = True,
    video_id: str = "",
) -> MaskSequence:
    """Masks from a folder with one sub-folder of PNG files per track.

    Layout (state numbering)::

        DIR/hand/0001.png      DIR/object0/0001.png     [DIR/object1/0001.png]
        [DIR/touch.csv]        one line per frame: frame name (without .png), 0 or 1
        [DIR/meta.json]        {"fps": 12, "video_id": "...", "hand_covers_forearm": true}

    A PNG is a mask where its gray value is above 127. Frames are the union of the file
    names over the tracks, in sorted order; a frame missing in one track has an empty mask
    there. All PNGs must have the same size.

    Raises:
        MaskFolderError: missing folder/sub-folders, unreadable images, bad touch.csv.
        MaskShapeError: images of different sizes.
        TrackMissingError: a track with no non-empty mask.
    """
    import cv2

    spec = get_action(action)
    folder = Path(folder)
    if not folder.is_dir():
        raise MaskFolderError(f"{folder}: mask folder not found")
    tracks = track_names(spec.num_objects)
    missing = [t for t in tracks if not (folder / t).is_dir()]
    if missing:
        raise MaskFolderError(
            f"{folder}: missing sub-folder(s) {', '.join(missing)}; a {spec.name} mask folder "
            f"needs {', '.join(t + '/' for t in tracks)} with one PNG per frame"
        )
    files = {t: {p.stem: p for p in sorted((folder / t).iterdir())
                 if p.suffix.lower() in _IMAGE_EXT} for t in tracks}
    names = sorted(set().union(*[set(f) for f in files.values()]))
    if not names:
        raise MaskFolderError(f"{folder}: no PNG files in {', '.join(tracks)}")
    meta = {}
    if (folder / "meta.json").is_file():
        meta = read_json(folder / "meta.json", "mask-folder meta.json", MaskFolderError)
        if not isinstance(meta, dict):
            raise MaskFolderError(f"{folder / 'meta.json'}: expected a JSON object "
                                  '({"fps": ..., "video_id": ...}), got '
                                  f"{type(meta).__name__}")
    size = None
    masks = None
    for k, t in enumerate(tracks):
        for i, name in enumerate(names):
            p = files[t].get(name)
            if p is None:
                continue
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise MaskFolderError(f"{p}: cannot read the image")
            if size is None:
                size = img.shape
                masks = np.zeros((len(tracks), len(names)) + size, dtype=bool)
            elif img.shape != size:
                raise MaskShapeError(
                    f"{p}: mask is {img.shape[1]}x{img.shape[0]} px but the first mask is "
                    f"{size[1]}x{size[0]}; all masks of a video must have the frame size"
                )
            masks[k, i] = img > 127
    touch = None
    tpath = folder / "touch.csv"
    if tpath.is_file():
        touch = np.zeros(len(names))
        idx = {n: i for i, n in enumerate(names)}
        for ln, line in enumerate(read_text(tpath, "touch CSV", MaskFolderError).splitlines(),
                                  1):
            s = line.strip()
            if not s or s.startswith("#") or s.lower().startswith("frame"):
                continue
            parts = [x.strip() for x in s.split(",")]
            if len(parts) != 2 or parts[0] not in idx:
                raise MaskFolderError(
                    f"{tpath}: line {ln}: expected 'frame,touch' with a frame name of the "
                    f"masks (e.g. {names[0]},1), got {s!r}"
                )
            try:
                touch[idx[parts[0]]] = float(parts[1])
            except ValueError:
                raise MaskFolderError(f"{tpath}: line {ln}: touch {parts[1]!r} is not 0/1") \
                    from None
    if fps is None:
        fps = meta.get("fps", DEFAULT_FPS)
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise MaskFolderError(f"{folder / 'meta.json'}: fps {fps!r} is not a number") \
                from None
    seq = MaskSequence(
        masks=masks, tracks=tracks, fps=float(fps),
        touch=touch,
        hand_covers_forearm=bool(meta.get("hand_covers_forearm", hand_covers_forearm)),
        video_id=str(video_id or meta.get("video_id", folder.name)),
        source=f"mask folder {folder}",
    )
    seq.check_tracks_present()
    return seq


def write_mask_folder(seq: MaskSequence, folder) -> Path:
    """Write ``seq`` in the layout :func:`from_mask_folder` reads (PNG 0/255, touch.csv)."""
    import cv2

    folder = Path(folder)
    for k, t in enumerate(seq.tracks):
        (folder / t).mkdir(parents=True, exist_ok=True)
        for i in range(seq.num_frames):
            img = seq.masks[k, i].astype(np.uint8) * 255
            cv2.imwrite(str(folder / t / f"{i + 1:04d}.png"), img)
    if seq.touch is not None:
        lines = [f"{i + 1:04d},{int(round(v))}" for i, v in enumerate(seq.touch)]
        (folder / "touch.csv").write_text("frame,touch\n" + "\n".join(lines) + "\n")
    (folder / "meta.json").write_text(json.dumps({
        "fps": seq.fps, "video_id": seq.video_id,
        "hand_covers_forearm": seq.hand_covers_forearm}))
    return folder
