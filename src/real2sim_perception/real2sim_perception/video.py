"""Video input of the front end: decode a file or a frame folder and resample it to 12 fps.

Any container/codec the bundled ffmpeg reads (MP4/H.264, WebM/VP8/VP9, AVI, MOV, GIF, ...) is
decoded through ``imageio`` + ``imageio-ffmpeg``; a folder of images (PNG/JPEG/BMP) is read in
natural file-name order. The frames are resampled to the pipeline rate (METHOD section 1: 12 fps)
by **nearest frame in time**: output frame ``k`` (at ``k / fps`` s) is the source frame whose
timestamp is nearest, so a 30 fps video keeps frames 0, 2 (2.5 -> 2), 5, 8 (7.5 -> 8), ...
Frame size is kept; the kept frames' source timestamps and indices are returned with them.

Timestamps assume a constant frame rate (the container's average rate): source frame ``j`` is
at ``j / source_fps`` seconds.

Bad files are refused before memory is spent on them: a container rate outside
[:data:`MIN_SOURCE_FPS`, :data:`MAX_SOURCE_FPS`] (a ~0 fps header would make the resampling
repeat every frame thousands of times), and a resampled video larger than
:data:`MAX_VIDEO_BYTES` (checked from the container's duration before decoding, and again
while decoding, so memory stays bounded whatever the header says). A stream that ends well
before the container's frame count/duration (a truncated file) is refused too.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from real2sim_core.trajectory import DEFAULT_FPS

from .errors import EmptyVideoError, PerceptionInputError, VideoReadError

__all__ = [
    "Video",
    "read_video",
    "resample_indices",
    "write_video",
    "IMAGE_EXTENSIONS",
    "MIN_SOURCE_FPS",
    "MAX_SOURCE_FPS",
    "MAX_VIDEO_BYTES",
]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
"""File suffixes read as frames from a folder (case-insensitive)."""

MIN_SOURCE_FPS = 0.5
"""Lowest frame rate a video may declare, frames/s (a 2 s-per-frame slide show)."""
MAX_SOURCE_FPS = 1000.0
"""Highest frame rate a video may declare, frames/s (high-speed cameras); also the highest
output rate."""
MAX_VIDEO_BYTES = 2 * 1024**3
"""Largest resampled video kept in memory, bytes (T x H x W x 3); longer videos need
``--max-frames``."""
TRUNCATION_TOLERANCE = 0.05
"""A stream decoding fewer than this fraction (and 2 frames) short of the container's frame
count is accepted; more missing is a truncated file."""


@dataclass
class Video:
    """Decoded, resampled video.

    Attributes:
        frames: ``(T, H, W, 3)`` uint8 RGB frames at :attr:`fps`.
        timestamps: ``(T,)`` seconds, the source timestamp of each kept frame.
        source_indices: ``(T,)`` int, index of each kept frame in the source stream (0-based).
        fps: output frame rate, frames per second.
        source_fps: frame rate of the source, frames per second.
        source_num_frames: number of frames decoded from the source.
        path: the file or folder read.
    """

    frames: np.ndarray
    timestamps: np.ndarray
    source_indices: np.ndarray
    fps: float
    source_fps: float
    source_num_frames: int
    path: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the frames, px."""
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        """Source duration covered, seconds (``source_num_frames / source_fps``)."""
        return self.source_num_frames / self.source_fps


def resample_indices(num_source: int, source_fps: float, fps: float = DEFAULT_FPS) -> np.ndarray:
    """Indices of the source frames kept when resampling to ``fps`` by nearest timestamp.

    Output frame ``k`` sits at ``k / fps`` s and takes source frame ``round(k * source_fps /
    fps)`` (ties to the later frame); output frames run while that index exists.

    Args:
        num_source: number of source frames.
        source_fps: source frame rate, frames per second.
        fps: target frame rate, frames per second.

    Returns:
        ``(T,)`` int64 non-decreasing source indices (repeats when upsampling).
    """
    if num_source <= 0:
        return np.zeros(0, dtype=np.int64)
    if not (source_fps > 0 and fps > 0):
        raise PerceptionInputError(
            f"frame rates must be positive (source {source_fps}, target {fps})")
    ratio = source_fps / fps
    out = []
    k = 0
    while True:
        j = _nearest(k * ratio)
        if j >= num_source:
            break
        out.append(j)
        k += 1
    return np.asarray(out, dtype=np.int64)


def _nearest(x: float) -> int:
    # round half up (Python's round() is half-to-even); tolerant to float noise
    return int(math.floor(x + 0.5 + 1e-9))


def _natural_key(p: Path):
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", p.name)]


def read_video(
    path,
    fps: float = DEFAULT_FPS,
    *,
    folder_fps: float = DEFAULT_FPS,
    max_frames: int | None = None,
) -> Video:
    """Decode a video file or a folder of frames and resample it to ``fps``.

    Args:
        path: a video file any ffmpeg build reads, or a folder of images.
        fps: output frame rate, frames per second (12 in the paper's pipeline).
        folder_fps: frame rate of a frame folder (a folder carries no timing), frames/s.
        max_frames: keep at most this many output frames (None: all).

    Returns:
        The :class:`Video` with ``(T, H, W, 3)`` RGB frames.

    Raises:
        VideoReadError: the path does not exist, or ffmpeg / the image reader cannot decode it
            (message names the decoder error and what to install).
        EmptyVideoError: the file is empty or the stream/folder holds no frames.
    """
    path = Path(path)
    if not (0 < fps <= MAX_SOURCE_FPS):
        raise VideoReadError(f"output fps must be in (0, {MAX_SOURCE_FPS:g}], got {fps}")
    if max_frames is not None and max_frames < 1:
        max_frames = None
    if not path.exists():
        raise VideoReadError(f"{path}: no such video file or frame folder")
    if path.is_dir():
        return _read_folder(path, fps, folder_fps, max_frames)
    if path.stat().st_size == 0:
        raise EmptyVideoError(f"{path}: the file is empty (0 bytes); pass a video with frames")
    return _read_file(path, fps, max_frames)


def _read_file(path: Path, fps: float, max_frames: int | None) -> Video:
    try:
        import imageio.v2 as iio
        import imageio_ffmpeg  # noqa: F401  (the ffmpeg binary imageio uses)
    except ImportError as e:  # pragma: no cover - both are requirements
        raise VideoReadError(
            f"{path}: cannot decode videos without imageio + imageio-ffmpeg ({e}); "
            "pip install imageio imageio-ffmpeg"
        ) from None
    try:
        reader = iio.get_reader(str(path), format="FFMPEG")
    except Exception as e:  # noqa: BLE001 - imageio raises OSError/RuntimeError/IndexError
        try:  # animated GIF/PNG and other formats imageio's ffmpeg plugin does not take by name
            reader = iio.get_reader(str(path))
        except Exception:  # noqa: BLE001
            if _container_without_frames(path):
                raise EmptyVideoError(
                    f"{path}: the container opens but holds no video frames (zero-length "
                    "video); pass a video with at least one frame"
                ) from None
            raise VideoReadError(_decode_message(path, e)) from None
    is_gif = False
    try:
        meta = reader.get_meta_data()
        src_fps = float(meta.get("fps") or 0.0)
        if not src_fps and meta.get("duration"):  # GIF: per-frame duration in ms
            is_gif = True
            src_fps = 1000.0 / float(meta["duration"])
        if math.isnan(src_fps) or src_fps == 0.0:
            log.warning("%s: no frame rate in the container; assuming %s fps", path, fps)
            src_fps = float(fps)
        if not (MIN_SOURCE_FPS <= src_fps <= MAX_SOURCE_FPS):
            raise VideoReadError(
                f"{path}: the container declares {src_fps:.6g} fps, outside the plausible "
                f"[{MIN_SOURCE_FPS:g}, {MAX_SOURCE_FPS:g}] fps (resampling it to {fps:g} fps "
                "would repeat or drop nearly every frame); re-encode it with its real rate "
                "(ffmpeg -i IN -r 30 OUT.mp4) or pass its frames as a folder with --folder-fps")
        expected = _expected_source_frames(meta, src_fps)
        size = meta.get("size") or (0, 0)
        frame_bytes = int(size[0]) * int(size[1]) * 3
        ratio = src_fps / fps
        limit = max_frames
        if expected and frame_bytes:
            n_out = int(expected / ratio) + 1
            if limit is not None:
                n_out = min(n_out, limit)
            _check_memory(path, n_out, frame_bytes, fps)
        frames, idx, j = [], [], -1
        k = 0
        target = _nearest(0.0)
        decode_error = None
        try:
            for j, frame in enumerate(reader):
                if target == j:
                    rgb = _as_rgb(frame)
                    _check_memory(path, len(frames) + 1, rgb.nbytes, fps)
                while target == j:
                    frames.append(rgb)  # the same array when upsampling: no copies
                    idx.append(j)
                    k += 1
                    target = _nearest(k * ratio)
                    if limit is not None and len(frames) >= limit:
                        break
                if limit is not None and len(frames) >= limit:
                    break
        except VideoReadError:
            raise
        except Exception as e:  # noqa: BLE001 - a truncated stream ends in a decoder error
            if not frames:
                raise VideoReadError(_decode_message(path, e)) from None
            decode_error = e
    finally:
        reader.close()
    if not frames:
        raise EmptyVideoError(
            f"{path}: the video stream holds no frames (zero-length video); pass a video "
            "with at least one frame"
        )
    n_src = j + 1
    stopped_early = limit is not None and len(frames) >= limit
    if not stopped_early and not is_gif:
        _check_complete(path, n_src, expected, src_fps, decode_error)
    idx_arr = np.asarray(idx, dtype=np.int64)
    return Video(
        frames=np.stack(frames), timestamps=idx_arr / src_fps, source_indices=idx_arr,
        fps=float(fps), source_fps=src_fps, source_num_frames=int(n_src), path=str(path),
    )


def _expected_source_frames(meta: dict, src_fps: float) -> int:
    """Frames the container says it holds (0 when it does not say)."""
    n = meta.get("nframes")
    if isinstance(n, (int, float)) and math.isfinite(n) and n > 0:
        return int(n)
    dur = meta.get("duration")
    if isinstance(dur, (int, float)) and math.isfinite(dur) and dur > 0:
        return int(round(dur * src_fps))
    return 0


def _check_memory(path: Path, n_frames: int, frame_bytes: int, fps: float) -> None:
    need = n_frames * frame_bytes
    if need > MAX_VIDEO_BYTES:
        keep = max(1, MAX_VIDEO_BYTES // max(frame_bytes, 1))
        raise VideoReadError(
            f"{path}: {n_frames}+ frames at {fps:g} fps would take {need / 1024**3:.1f} GiB "
            f"(more than the {MAX_VIDEO_BYTES / 1024**3:g} GiB a video may use); cut the clip "
            f"to the manipulation or pass --max-frames N (at most {keep} at this size)")


def _check_complete(path: Path, n_src: int, expected: int, src_fps: float, err) -> None:
    """Refuse a stream that stops well before the container's frame count (truncated)."""
    short = expected - n_src
    if expected and short > max(2, TRUNCATION_TOLERANCE * expected):
        why = f" (decoder: {' '.join(str(err).split())[:120]})" if err is not None else ""
        raise VideoReadError(
            f"{path}: truncated video: only {n_src} of the {expected} frames the container "
            f"declares decode ({n_src / src_fps:.2f} s of {expected / src_fps:.2f} s){why}; "
            "download or copy the file again, or cut it to its readable part (ffmpeg -i IN "
            "-c copy OUT.mp4)")
    if err is not None:
        log.warning("%s: decoding stopped after frame %d (%s)", path, n_src - 1, err)


def _container_without_frames(path: Path) -> bool:
    """True when ffmpeg recognises the container but finds no video stream/frames in it."""
    import subprocess

    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        res = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True,
                             text=True, timeout=30)
    except Exception:  # noqa: BLE001 - no ffmpeg: cannot tell, report as unreadable
        return False
    err = res.stderr
    opened = "Input #0" in err and "Error opening input" not in err
    has_video = re.search(r"Stream #\S+.*Video:", err) is not None
    return opened and (not has_video or "Duration: N/A" in err or "Duration: 00:00:00.00" in err)


def _decode_message(path: Path, err: Exception) -> str:
    first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
    return (
        f"{path}: ffmpeg cannot decode this file as a video ({type(err).__name__}: {first}). "
        "Pass an mp4/webm/avi/mov file or a folder of frames; check the file is not truncated "
        "(`real2sim doctor` shows the ffmpeg binary in use)"
    )


def _as_rgb(frame) -> np.ndarray:
    a = np.asarray(frame)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.shape[2] == 4:
        a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _read_folder(folder: Path, fps: float, folder_fps: float, max_frames) -> Video:
    import cv2

    files = sorted((p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS), key=_natural_key)
    if not files:
        raise EmptyVideoError(
            f"{folder}: the frame folder holds no images ({', '.join(IMAGE_EXTENSIONS)})"
        )
    if not (MIN_SOURCE_FPS <= folder_fps <= MAX_SOURCE_FPS):
        raise VideoReadError(f"{folder}: folder_fps {folder_fps:g} is outside the plausible "
                             f"[{MIN_SOURCE_FPS:g}, {MAX_SOURCE_FPS:g}] fps; give the rate the "
                             "frames were taken at (--folder-fps)")
    keep = resample_indices(len(files), folder_fps, fps)
    if max_frames is not None:
        keep = keep[:max_frames]
    frames, size, cache = [], None, {}
    for j in keep:
        if j not in cache:
            img = cv2.imread(str(files[j]), cv2.IMREAD_COLOR)
            if img is None:
                raise VideoReadError(f"{files[j]}: cannot read the image")
            if size is None:
                size = img.shape[:2]
                _check_memory(folder, len(keep), img.shape[0] * img.shape[1] * 3, fps)
            elif img.shape[:2] != size:
                raise VideoReadError(
                    f"{files[j]}: frame is {img.shape[1]}x{img.shape[0]} px but the first "
                    f"frame is {size[1]}x{size[0]}; all frames of a folder must have one size"
                )
            cache = {j: cv2.cvtColor(img, cv2.COLOR_BGR2RGB)}
        frames.append(cache[j])
    return Video(
        frames=np.stack(frames), timestamps=keep / folder_fps, source_indices=keep,
        fps=float(fps), source_fps=float(folder_fps), source_num_frames=len(files),
        path=str(folder),
    )


def write_video(path, frames, fps: float = DEFAULT_FPS) -> Path:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as a video chosen by the suffix.

    ``.mp4`` (H.264; yuv420p, or yuv444p when a side is odd so that the size is kept),
    ``.webm`` (VP9), ``.avi`` (MJPEG) and ``.gif`` are supported. The frame size is kept.

    Args:
        path: output file.
        frames: ``(T, H, W, 3)`` uint8 RGB.
        fps: frames per second.

    Returns:
        The path written.
    """
    import imageio.v2 as iio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        iio.mimsave(str(path), list(frames), format="GIF", duration=1000.0 / fps, loop=0)
        return path
    h, w = frames.shape[1:3]
    odd = bool(h % 2 or w % 2)
    codec = {".mp4": "libx264", ".webm": "libvpx-vp9", ".avi": "mjpeg", ".mov": "libx264",
             ".mkv": "libx264"}.get(suffix)
    if codec is None:
        raise VideoReadError(f"{path}: unsupported output suffix (use .mp4, .webm, .avi, .gif)")
    kw = {"codec": codec, "fps": fps, "macro_block_size": 1, "quality": None}
    if codec == "libx264":
        # yuv420p (most compatible) needs even sizes; odd sizes keep their size with 4:4:4
        kw.update(pixelformat="yuv444p" if odd else "yuv420p", ffmpeg_params=["-crf", "18"])
    elif codec == "libvpx-vp9":
        kw.update(pixelformat="yuv420p", ffmpeg_params=["-crf", "30", "-b:v", "0"])
    else:
        kw.update(pixelformat="yuvj444p", ffmpeg_params=["-q:v", "3"])
    with iio.get_writer(str(path), format="FFMPEG", **kw) as writer:
        for f in frames:
            writer.append_data(np.ascontiguousarray(f))
    return path
