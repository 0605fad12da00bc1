"""Front end, input side: video decoding/resampling, mask encodings, detection file formats."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from real2sim_core.errors import InputError
from real2sim_perception.detectors import make_detector
from real2sim_perception.detectors.masks import (
    decode_segmentation,
    polygons_to_mask,
    rle_counts_to_string,
    rle_decode,
    rle_encode,
    rle_string_to_counts,
)
from real2sim_perception.errors import (
    DetectionFormatError,
    EmptyVideoError,
    NoDetectionsError,
    VideoReadError,
)
from real2sim_perception.video import read_video, resample_indices, write_video


def _frames(n=30, h=48, w=64):
    """Frames whose top-left 8x8 block encodes the frame number (value 8 * i)."""
    rng = np.random.default_rng(0)
    f = (rng.random((n, h, w, 3)) * 60 + 100).astype(np.uint8)
    for i in range(n):
        f[i, :8, :8] = 8 * i
    return f


# --- video ----------------------------------------------------------------------------------


def test_resample_indices_nearest_frame():
    assert resample_indices(10, 30, 12).tolist() == [0, 3, 5, 8]  # 2.5 -> 3, 7.5 -> 8
    assert resample_indices(6, 12, 12).tolist() == list(range(6))
    assert resample_indices(3, 6, 12).tolist() == [0, 1, 1, 2, 2]  # upsampling repeats
    assert resample_indices(0, 30, 12).size == 0


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".avi"])
def test_read_real_video_resamples_to_12fps(tmp_path, suffix):
    frames = _frames(30)
    path = write_video(tmp_path / f"v{suffix}", frames, fps=30)
    v = read_video(path)
    assert v.fps == 12 and v.source_fps == pytest.approx(30, abs=0.01)
    assert v.source_num_frames == 30
    assert v.size == (48, 64) and v.frames.dtype == np.uint8 and v.frames.shape[-1] == 3
    expect = resample_indices(30, 30, 12)
    assert v.source_indices.tolist() == expect.tolist()
    np.testing.assert_allclose(v.timestamps, expect / 30.0)
    # the kept frames really are the nearest source frames (block value 8 * index, lossy codec)
    block = v.frames[:, 2:6, 2:6].mean(axis=(1, 2, 3))
    np.testing.assert_allclose(block, 8 * expect, atol=6)


def test_read_frame_folder_and_max_frames(tmp_path):
    import cv2

    frames = _frames(8)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"frame_{i + 1}.png"), f[:, :, ::-1])  # natural order 1..8
    v = read_video(tmp_path, folder_fps=24)
    assert v.source_indices.tolist() == [0, 2, 4, 6]
    np.testing.assert_array_equal(v.frames, frames[[0, 2, 4, 6]])
    assert read_video(tmp_path, folder_fps=12, max_frames=3).num_frames == 3


def test_bad_videos_raise_clear_errors(tmp_path):
    import imageio_ffmpeg

    with pytest.raises(VideoReadError, match="no such video"):
        read_video(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(EmptyVideoError, match="0 bytes"):
        read_video(tmp_path / "empty.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"this is not a video" * 10)
    with pytest.raises(VideoReadError, match="ffmpeg cannot decode"):
        read_video(tmp_path / "junk.mp4")
    # a valid MP4 container with zero frames
    zero = tmp_path / "zero.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi",
                    "-i", "color=c=black:s=64x48:r=12", "-frames:v", "0", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(zero)], check=True, timeout=60)
    with pytest.raises(EmptyVideoError, match="zero-length"):
        read_video(zero)
    (tmp_path / "frames").mkdir()
    with pytest.raises(EmptyVideoError, match="no images"):
        read_video(tmp_path / "frames")
    assert issubclass(EmptyVideoError, InputError) and issubclass(VideoReadError, InputError)


# --- COCO masks -----------------------------------------------------------------------------


def test_rle_known_strings_and_round_trip():
    # column-major runs: 0-run 3, 1-run 5, 0-run 1, 1-run 2; the 4th is stored as 2 - 5 = -3
    assert rle_counts_to_string([3, 5, 1, 2]) == "351M"
    assert rle_string_to_counts("351M") == [3, 5, 1, 2]
    big = [100000, 7, 123456, 1]
    assert rle_string_to_counts(rle_counts_to_string(big)) == big
    m = np.array([[0, 1], [0, 1]], bool)  # Fortran order: 0 0 1 1
    assert rle_encode(m, compress=False)["counts"] == [2, 2]
    assert rle_encode(np.ones((2, 2), bool), compress=False)["counts"] == [0, 4]
    rng = np.random.default_rng(1)
    for _ in range(50):
        h, w = rng.integers(1, 40, 2)
        m = rng.random((h, w)) < rng.random()
        np.testing.assert_array_equal(rle_decode(rle_encode(m)), m)
        np.testing.assert_array_equal(rle_decode(rle_encode(m, compress=False)), m)


def test_rle_errors():
    with pytest.raises(DetectionFormatError, match="sum to"):
        rle_decode({"size": [4, 4], "counts": [3, 5]})
    with pytest.raises(DetectionFormatError, match="size"):
        rle_decode({"counts": "34"})
    with pytest.raises(DetectionFormatError, match="truncated"):
        rle_string_to_counts("3o")  # 'o' = 63: "more groups follow", then the string ends


def test_polygon_rasterisation():
    m = polygons_to_mask([[2, 2, 8, 2, 8, 6, 2, 6]], 10, 10)  # pixels [2, 8) x [2, 6)
    expect = np.zeros((10, 10), bool)
    expect[2:6, 2:8] = True
    np.testing.assert_array_equal(m, expect)
    tri = polygons_to_mask([[0, 0, 10, 0, 0, 10]], 10, 10)
    assert abs(int(tri.sum()) - 50) <= 6
    two = decode_segmentation([[0, 0, 2, 0, 2, 2, 0, 2], [5, 5, 7, 5, 7, 7]], 10, 10)
    assert two[0:2, 0:2].all() and two[5, 6] and not two[3, 3]
    with pytest.raises(DetectionFormatError, match="3 \\(x, y\\) vertices"):
        polygons_to_mask([[0, 0, 1, 1]], 5, 5)


# --- detection files ------------------------------------------------------------------------


def _frame(h=40, w=60):
    return np.zeros((h, w, 3), np.uint8)


def test_precomputed_coco_results(tmp_path):
    m = np.zeros((40, 60), bool)
    m[10:20, 5:25] = True
    recs = [
        {"image_id": 3, "category_id": 1, "bbox": [5, 10, 20, 10], "score": 0.9,
         "segmentation": rle_encode(m)},
        {"image_id": 3, "category_id": 47, "bbox": [30, 5, 10, 10], "score": 0.8,
         "segmentation": [[30, 5, 40, 5, 40, 15, 30, 15]]},
        {"image_id": 3, "category_id": 67, "bbox": [0, 30, 60, 10], "score": 0.9},  # table
        {"image_id": 3, "category_id": 44, "bbox": [0, 0, 5, 5], "score": 0.1},  # low score
        {"image_id": 4, "category_id": 84, "bbox": [50, 30, 20, 20], "score": 0.7},  # clipped
    ]
    p = tmp_path / "coco.json"
    p.write_text(json.dumps(recs))
    det = make_detector("precomputed", path=p)
    assert det.format == "coco" and det.hand_covers_forearm and not det.reports_contact
    out = det.detect(_frame(), index=0, source_index=3)
    roles = {(d.label, d.role) for d in out}
    assert roles == {("person", "hand"), ("cup", "object"), ("dining table", "ignore")}
    hand = next(d for d in out if d.role == "hand")
    np.testing.assert_array_equal(hand.mask, m)
    cup = next(d for d in out if d.label == "cup")
    assert cup.mask.sum() == 100
    clipped = det.detect(_frame(), index=1, source_index=4)
    assert clipped[0].box.tolist() == [50, 30, 60, 40] and clipped[0].mask is None
    assert det.detect(_frame(), index=7, source_index=7) == []
    # resampled frame base reads the index, not the source index
    det_r = make_detector("precomputed", path=p, frame_base="resampled")
    assert len(det_r.detect(_frame(), index=3, source_index=99)) == 3


def test_precomputed_100doh_rows_and_records(tmp_path):
    data = {"format": "100doh", "frames": [
        {"frame": 0,
         "hand_dets": [[10, 10, 20, 20, 0.95, 3, 0.0015, 1.0, 0.0, 1]],
         "obj_dets": [[30, 8, 40, 22, 0.8, 0, 0, 0, 0, 0]]},
        {"frame": 1, "hand_dets": None, "obj_dets": None},
    ]}
    p = tmp_path / "doh.json"
    p.write_text(json.dumps(data))
    det = make_detector("precomputed", path=p)
    assert det.format == "100doh" and det.reports_contact and not det.hand_covers_forearm
    out = det.detect(_frame(), index=0)
    hand = next(d for d in out if d.role == "hand")
    obj = next(d for d in out if d.role == "object")
    assert hand.contact == "P" and hand.side == "right" and obj.label == "targetobject"
    # 100DOH: contacted object centre = hand centre + 10000 * magnitude * (dx, dy)
    np.testing.assert_allclose(hand.contact_point(), [15 + 15, 15])
    # the readable per-frame record form, frames as a mapping, letters or names for states
    data2 = {"frames": {"0": {"hands": [{"box": [1, 1, 9, 9], "score": 0.9,
                                         "contact_state": "portable object",
                                         "hand_side": "l"}],
                              "objects": [{"box": [10, 1, 20, 9]}]},
                        "2": {"hands": [{"box": [1, 1, 9, 9], "contact_state": "N"}]}}}
    p2 = tmp_path / "doh2.json"
    p2.write_text(json.dumps(data2))
    det2 = make_detector("precomputed", path=p2)
    h0 = [d for d in det2.detect(_frame(), index=0) if d.role == "hand"][0]
    assert h0.contact == "P" and h0.side == "left"
    assert det2.detect(_frame(), index=2)[0].contact == "N"


def test_bad_detection_files(tmp_path):
    with pytest.raises(DetectionFormatError, match="not found.*--detections"):
        make_detector("precomputed", path=tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DetectionFormatError, match="not valid JSON"):
        make_detector("precomputed", path=bad)
    bad.write_text(json.dumps({"something": 1}))
    with pytest.raises(DetectionFormatError, match="unknown detection format"):
        make_detector("precomputed", path=bad)
    bad.write_text(json.dumps([]))
    with pytest.raises(NoDetectionsError, match="no detections"):
        make_detector("precomputed", path=bad)
    bad.write_text(json.dumps([{"image_id": 0, "category_id": 1}]))
    with pytest.raises(DetectionFormatError, match="bbox"):
        make_detector("precomputed", path=bad)
    bad.write_text(json.dumps({"frames": [{"hand_dets": [[1, 2, 3, 4, 0.9, 7]]}]}))
    with pytest.raises(DetectionFormatError, match="contact state 7"):
        make_detector("precomputed", path=bad)


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_odd_frame_size_is_kept(tmp_path, suffix):
    frames = _frames(6, h=61, w=85)  # SSv2-like odd width (427 px)
    v = read_video(write_video(tmp_path / f"odd{suffix}", frames, fps=12))
    assert v.size == (61, 85) and v.num_frames == 6


def test_precomputed_masks_for_a_padded_frame_are_cropped(tmp_path):
    m = np.zeros((40, 62), bool)  # detector ran on a frame padded to an even width + 2
    m[5:10, 5:10] = True
    p = tmp_path / "pad.json"
    p.write_text(json.dumps([{"image_id": 0, "category_id": 1, "bbox": [5, 5, 5, 5],
                              "score": 0.9, "segmentation": rle_encode(m)}]))
    det = make_detector("precomputed", path=p)
    assert det.detect(_frame(40, 60), index=0)[0].mask.shape == (40, 60)
    with pytest.raises(DetectionFormatError, match="this video"):
        det.detect(_frame(30, 60), index=0)
