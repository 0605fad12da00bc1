"""Bad input to perception, each case a real file: broken annotation boxes (NaN, a missing
key, a string), non-UTF-8/binary files, zero or negative options, an unwritable --out, a video
whose container claims ~0 fps, a video too large for memory, a truncated mp4; and the
perception node over DDS answering a broken annotation with the frame, object and field."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from real2sim_core.cli import main
from real2sim_perception.errors import (
    AnnotationFormatError,
    EmptyAnnotationError,
    MaskFolderError,
    VideoReadError,
)
from real2sim_perception.mask_folder import from_mask_folder, write_mask_folder
from real2sim_perception.something_else import from_something_else
from real2sim_perception.video import read_video, write_video

from real2sim_perception import video as video_mod
from tests.node_process import Client, NodeProcess

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "push_left_to_right" / "annotations.json"
VID = "3694"
ACTION = "push_left_to_right"


def _annotations(tmp_path, edit, name="ann.json") -> Path:
    data = json.loads(EXAMPLE.read_text())
    video = {VID: data[VID]}
    edit(video[VID])
    path = tmp_path / name
    path.write_text(json.dumps(video))
    return path


def _box(frames, i, label):
    return frames[i]["labels"][label]["box2d"]


@pytest.mark.parametrize("edit, fragments", [
    (lambda f: _box(f, 3, 0).__setitem__("y1", float("nan")),
     ["frame '3694/0004.jpg'", "object 'object 0' (glove)", "box2d y1 = nan is not finite"]),
    (lambda f: _box(f, 2, 1).pop("x2"),
     ["frame '3694/0003.jpg'", "object 'object hand'", "box2d has no 'x2'"]),
    (lambda f: _box(f, 5, 0).__setitem__("x1", "abc"),
     ["frame '3694/0006.jpg'", "object 'object 0'", "box2d x1 = 'abc' is not a number"]),
    (lambda f: f[7]["labels"][1].pop("box2d"),
     ["frame '3694/0008.jpg'", "object 'object hand'", "no 'box2d'"]),
    (lambda f: f[0]["labels"].__setitem__(0, "glove"),
     ["frame '3694/0001.jpg'", "a label must be a JSON object"]),
])
def test_broken_annotation_box_names_frame_object_and_field(tmp_path, capsys, edit, fragments):
    path = _annotations(tmp_path, edit)
    with pytest.raises(AnnotationFormatError) as e:
        from_something_else(path, VID, ACTION)
    for frag in fragments:
        assert frag in str(e.value), str(e.value)
    assert str(path) in str(e.value)
    rc = main(["estimate", "--annotations", str(path), "--video-id", VID, "--action", ACTION,
               "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("real2sim estimate: error: ") and fragments[-1] in err


@pytest.mark.parametrize("content, fragment", [
    (json.dumps({VID: []}).replace("[]", '[{"name": "gl\u00f6ve"}]').encode("latin-1"),
     "not UTF-8 text (byte 0xf6"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data (a NUL byte at offset 8)"),
])
def test_non_utf8_or_binary_annotation_file(tmp_path, capsys, content, fragment):
    path = tmp_path / "ann.json"
    path.write_bytes(content)
    with pytest.raises(EmptyAnnotationError) as e:
        from_something_else(path, VID, ACTION)
    assert fragment in str(e.value)
    rc = main(["estimate", "--annotations", str(path), "--video-id", VID, "--action", ACTION,
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and str(path) in err and err.count("\n") == 1


def test_mask_folder_meta_and_touch_files_are_checked(tmp_path):
    seq = from_something_else(EXAMPLE, VID, ACTION)
    folder = write_mask_folder(seq.slice(0, 4), tmp_path / "masks")
    (folder / "meta.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(MaskFolderError, match=r"meta.json: not UTF-8 text \(byte 0xff"):
        from_mask_folder(folder, ACTION)
    (folder / "meta.json").write_text('{"fps": "fast"}')
    with pytest.raises(MaskFolderError, match="fps 'fast' is not a number"):
        from_mask_folder(folder, ACTION)
    (folder / "meta.json").write_text("{}")
    (folder / "touch.csv").write_bytes(b"frame,touch\n0001,\x001\n")
    with pytest.raises(MaskFolderError, match="touch.csv: binary data"):
        from_mask_folder(folder, ACTION)


@pytest.mark.parametrize("args, message", [
    (["--iterations", "0"], "--iterations 0: must be > 0 (leave it out for the default, the "
                            "config's optim.iterations, 400)"),
    (["--iterations", "-5"], "--iterations -5: must be > 0"),
    (["--fps", "0"], "--fps 0: must be > 0 (leave it out for the default, 12 fps)"),
    (["--fps", "-12"], "--fps -12: must be > 0"),
    (["--threads", "0"], "--threads 0: must be > 0"),
    (["--max-frames", "-1"], "--max-frames -1: must be >= 0"),
])
def test_zero_or_negative_options_are_refused_not_replaced(tmp_path, capsys, args, message):
    rc = main(["estimate", "--annotations", str(EXAMPLE), "--video-id", VID, "--action", ACTION,
               "--out", str(tmp_path / "o"), "--no-progress", *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    assert not (tmp_path / "o").exists()


def test_unwritable_out_is_refused_before_the_fit(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    t0 = time.monotonic()
    rc = main(["estimate", "--annotations", str(EXAMPLE), "--video-id", VID, "--action", ACTION,
               "--out", str(blocker / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and f"--out {blocker / 'out'}: cannot write there (Not a directory)" in err
    assert time.monotonic() - t0 < 30  # no 400-iteration fit ran first
    rc = main(["estimate", "--annotations", str(EXAMPLE), "--video-id", VID, "--action", ACTION,
               "--out", str(blocker), "--no-progress"])
    assert rc == 2 and "a file of that name exists" in capsys.readouterr().err


FRAMES = (np.random.default_rng(0).integers(0, 255, (36, 48, 64, 3))).astype(np.uint8)


def test_video_claiming_almost_zero_fps_is_refused_before_decoding(tmp_path):
    """A real mp4 whose container says 0.001 fps (36 frames over 10 hours): resampled to 12 fps
    it would be ~430,000 frames."""
    path = write_video(tmp_path / "slow.mp4", FRAMES, fps=0.001)
    with pytest.raises(VideoReadError) as e:
        read_video(path)
    msg = str(e.value)
    assert "declares 0.001 fps, outside the plausible [0.5, 1000] fps" in msg
    assert "re-encode" in msg and str(path) in msg
    with pytest.raises(VideoReadError, match=r"output fps must be in \(0, 1000\]"):
        read_video(write_video(tmp_path / "ok.mp4", FRAMES[:4], fps=12), fps=0)


def test_video_larger_than_the_memory_cap_is_refused(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.mp4", FRAMES, fps=12)
    frame = 64 * 48 * 3
    monkeypatch.setattr(video_mod, "MAX_VIDEO_BYTES", 10 * frame)
    with pytest.raises(VideoReadError, match=r"37\+ frames at 12 fps would take .*--max-frames"):
        read_video(path)
    v = read_video(path, max_frames=10)  # within the cap: decodes
    assert v.num_frames == 10


def test_truncated_video_is_refused_with_the_frame_counts(tmp_path):
    import imageio.v2 as iio

    path = tmp_path / "full.mp4"  # moov atom first, as streaming encoders write it
    with iio.get_writer(str(path), format="FFMPEG", codec="libx264", fps=12,
                        macro_block_size=1, quality=None, pixelformat="yuv420p",
                        ffmpeg_params=["-crf", "18", "-movflags", "+faststart"]) as w:
        for f in FRAMES:
            w.append_data(f)
    assert read_video(path).num_frames == 36
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(VideoReadError) as e:
        read_video(cut)
    msg = str(e.value)
    assert "truncated video: only" in msg and "of the 36 frames the container declares" in msg
    assert "of 3.00 s" in msg


@pytest.mark.ros
def test_perception_node_answers_a_broken_box_with_frame_object_and_field(tmp_path):
    pytest.importorskip("rclpy")
    from real2sim_core import topics as T
    from real2sim_interfaces.srv import EstimateTrajectory

    nan = _annotations(tmp_path, lambda f: _box(f, 3, 0).__setitem__("y1", float("nan")),
                       "nan.json")
    text = _annotations(tmp_path, lambda f: _box(f, 5, 0).__setitem__("x1", "abc"), "str.json")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with NodeProcess("perception_node", ["-p", "tf.enabled:=false"],
                     tmp_path / "node.log") as proc:
        proc.wait_for_log("ready:", 60)
        client = Client("test_perception_bad_input")
        try:
            cli = client.node.create_client(EstimateTrajectory, T.ESTIMATE_SERVICE)
            assert cli.wait_for_service(timeout_sec=30)
            client.round_trip("real2sim_perception")

            def call(**kw):
                req = EstimateTrajectory.Request(action=ACTION, video_id=VID, **kw)
                return client.wait(cli.call_async(req), 60, "the estimate response")

            r = call(annotations_file=str(nan))
            assert not r.success
            assert "frame '3694/0004.jpg', object 'object 0' (glove): box2d y1 = nan is not " \
                   "finite" in r.message, r.message
            r = call(annotations_file=str(text))
            assert not r.success and "box2d x1 = 'abc' is not a number" in r.message
            r = call(annotations_file=str(EXAMPLE), out_dir=str(blocker / "out"))
            assert not r.success and "out_dir" in r.message and "Not a directory" in r.message
            assert proc.alive()
        finally:
            client.close()
