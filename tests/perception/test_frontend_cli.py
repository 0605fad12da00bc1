"""``real2sim estimate --video``: end to end on a synthetic MP4, and its bad-input messages."""

from __future__ import annotations

import json

import pytest
from real2sim_core.cli import main
from real2sim_perception.synthetic_video import (
    make_detections,
    render_scene,
    write_detections,
    write_scene_video,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip")
    scene = render_scene("push_left_to_right", seed=1, duration=3.0)
    video = write_scene_video(scene, d / "push.mp4")
    coco = write_detections(make_detections(scene, fmt="coco", seed=2), d / "coco.json")
    doh = write_detections(make_detections(scene, fmt="100doh", seed=2), d / "doh.json")
    return video, coco, doh


def test_estimate_from_video_writes_frontend_and_states(clip, tmp_path, capsys):
    video, coco, doh = clip
    out = tmp_path / "out"
    rc = main(["estimate", "--video", str(video), "--action", "push_left_to_right",
               "--out", str(out), "--detections", str(coco), str(doh), "--iterations", "5",
               "--threads", "1", "--no-progress"])
    assert rc in (0, 3)  # 3 = fit flagged (5 iterations); the files are written either way
    err = capsys.readouterr().err
    assert "front end: 36 frames at 12 fps" in err and "(from detector)" in err
    for f in ("frontend/overlay.mp4", "frontend/overlay.gif", "frontend/frontend.json",
              "frontend/masks/hand", "states.csv", "summary.json"):
        assert (out / f).exists(), f
    summary = json.loads((out / "frontend" / "frontend.json").read_text())
    assert summary["touch_source"] == "detector" and summary["coverage"]["object0"] > 0.8


def test_estimate_video_bad_input_messages(clip, tmp_path, capsys):
    video, coco, _ = clip
    base = ["estimate", "--action", "push_left_to_right", "--out", str(tmp_path / "o"),
            "--iterations", "1", "--no-progress"]
    assert main(base + ["--video", str(tmp_path / "none.mp4"), "--detections", str(coco)]) == 2
    assert "no such video file" in capsys.readouterr().err
    assert main(base + ["--video", str(video), "--detector", "precomputed"]) == 2
    assert "--detections FILE" in capsys.readouterr().err
    assert main(base + ["--video", str(video), "--hand-model", str(tmp_path / "x.task")]) == 2
    assert "hand landmarker model not found" in capsys.readouterr().err
    assert main(base + ["--video", str(video), "--detections", str(tmp_path / "no.json")]) == 2
    assert "detection file not found" in capsys.readouterr().err
