"""Inputs: Something-Else boxes and mask folders -> MaskSequence, touch, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from real2sim_core.errors import InputError
from real2sim_perception.errors import (
    BoxOutsideFrameError,
    EmptyAnnotationError,
    MaskFolderError,
    MaskShapeError,
    TrackMissingError,
    UnknownVideoError,
)
from real2sim_perception.inputs import MaskSequence
from real2sim_perception.mask_folder import from_mask_folder, write_mask_folder
from real2sim_perception.something_else import from_something_else, infer_image_width
from real2sim_perception.touch import estimate_touch


def _label(ann, box, cat="thing"):
    x1, y1, x2, y2 = box
    return {"box2d": {"x1": x1, "y1": y1, "x2": x2, "y2": y2}, "category": cat,
            "gt_annotation": ann}


def _video(n=6, two=True, hand=True, moved_box=(200, 100, 260, 160)):
    frames = []
    for t in range(n):
        labels = [_label("object 0", (moved_box[0] + 5 * t, moved_box[1], moved_box[2] + 5 * t,
                                      moved_box[3]))]
        if two:
            labels.append(_label("object 1", (50, 120, 120, 200)))
        if hand and t != 2:  # the hand box is missing in frame 2
            labels.append(_label("object hand", (300 + 5 * t, 90, 380 + 5 * t, 250), "hand"))
        frames.append({"name": f"v/{t + 1:04d}.jpg", "labels": labels})
    return frames


def _write(tmp_path, data):
    p = tmp_path / "ann.json"
    p.write_text(json.dumps(data))
    return p


def test_something_else_mapping_clipping_and_missing(tmp_path):
    p = _write(tmp_path, {"42": _video()})
    seq = from_something_else(p, 42, "put_behind")
    assert seq.tracks == ("hand", "object0", "object1")
    assert seq.image_size == (240, 427) and seq.num_frames == 6
    # annotation "object 1" (static) -> state object 0; "object 0" (moved) -> state object 1
    np.testing.assert_allclose(seq.boxes[1, 0], [50, 120, 120, 200])
    np.testing.assert_allclose(seq.boxes[2, 0], [200, 100, 260, 160])
    # hand box clipped to the 240-px-high frame; missing frame 2 is empty
    assert seq.boxes[0, 0, 3] == 240.0
    assert not seq.valid[0, 2] and seq.valid[0, 3]
    assert seq.masks[1, 0, 150, 80] and not seq.masks[1, 0, 10, 10]
    assert any("no box in 1/6" in n for n in seq.notes)
    # one-object actions keep annotation "object 0" as state object 0
    p1 = _write(tmp_path, {"7": _video(two=False)})
    one = from_something_else(p1, "7", "push_left_to_right")
    assert one.tracks == ("hand", "object0")
    np.testing.assert_allclose(one.boxes[1, 0], [200, 100, 260, 160])


def test_real_annotation_file_loads(data_dir):
    ann = data_dir / "something_else" / "annotations.json"
    seq = from_something_else(ann, "1044", "put_behind")
    assert seq.num_objects == 2 and seq.fps == 12.0
    seq.check_tracks_present()
    # a video whose hand is labelled as a second "object 0" is recovered, with a note
    seq = from_something_else(ann, "10207", "pick_up")
    assert seq.valid[0].any() and any("hand" in n for n in seq.notes)


def test_image_width_inference():
    assert infer_image_width([100.0, 426.0]) == 427
    assert infer_image_width([319.5, 320.0, 200.0]) == 320
    assert infer_image_width([]) == 427


@pytest.mark.parametrize("data, vid, exc, text", [
    ({}, "1", EmptyAnnotationError, "holds no videos"),
    ({"1": []}, "1", EmptyAnnotationError, "empty annotation list"),
    ({"1": _video()}, "999", UnknownVideoError, "video id '999' is not in"),
    ({"1": _video(hand=False)}, "1", TrackMissingError, "hand"),
    ({"1": _video(two=False)}, "1", TrackMissingError, "object0"),
    ({"1": _video(moved_box=(500, 10, 600, 50))}, "1", BoxOutsideFrameError, "outside"),
])
def test_bad_annotations(tmp_path, data, vid, exc, text):
    p = _write(tmp_path, data)
    with pytest.raises(exc, match=text) as e:
        from_something_else(p, vid, "put_onto")
    assert isinstance(e.value, InputError)


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(EmptyAnnotationError, match="not found"):
        from_something_else(tmp_path / "nope.json", "1", "pick_up")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EmptyAnnotationError, match="not valid JSON"):
        from_something_else(bad, "1", "pick_up")


def test_mask_folder_round_trip_and_errors(tmp_path):
    seq = from_something_else(_write(tmp_path, {"5": _video()}), "5", "put_onto")
    seq.touch = np.array([0, 0, 1, 1, 0, 0], dtype=float)
    write_mask_folder(seq, tmp_path / "masks")
    back = from_mask_folder(tmp_path / "masks", "put_onto")
    assert back.tracks == seq.tracks and back.image_size == seq.image_size
    np.testing.assert_array_equal(back.masks, seq.masks)
    np.testing.assert_array_equal(back.touch, seq.touch)
    assert back.video_id == "5"
    # a one-object action lacks nothing, a missing sub-folder is named
    with pytest.raises(MaskFolderError, match="object0"):
        from_mask_folder(tmp_path, "pick_up")
    # wrong-size mask
    import cv2

    cv2.imwrite(str(tmp_path / "masks" / "hand" / "0003.png"), np.zeros((100, 100), np.uint8))
    with pytest.raises(MaskShapeError, match="100x100 px but the first mask is 427x240"):
        from_mask_folder(tmp_path / "masks", "put_onto")


def test_mask_sequence_validation():
    with pytest.raises(MaskShapeError, match="tracks"):
        MaskSequence(masks=np.zeros((2, 3, 8, 8)), tracks=("hand", "object1"))
    with pytest.raises(MaskShapeError, match="shape"):
        MaskSequence(masks=np.zeros((3, 8, 8)), tracks=("hand", "object0"))
    with pytest.raises(MaskShapeError, match="touch has 2 flags for 3 frames"):
        MaskSequence(masks=np.zeros((2, 3, 8, 8)), tracks=("hand", "object0"), touch=[0, 1])


def test_touch_from_geometry():
    masks = np.zeros((2, 7, 40, 60), dtype=bool)
    masks[1, :, 20:30, 20:30] = True  # the object
    for t, x in enumerate([48, 42, 28, 25, 26, 29, 40]):  # overlaps the object in 2-5
        masks[0, t, 18:32, x:x + 10] = True
    masks[0, 6] = False  # hand out of view
    seq = MaskSequence(masks=masks, tracks=("hand", "object0"))
    touch = estimate_touch(seq)
    assert touch.shape == (7,)
    np.testing.assert_array_equal(touch, [0, 0, 1, 1, 1, 1, 0])
