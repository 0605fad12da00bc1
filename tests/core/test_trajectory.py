"""The state-trajectory data model: CSV round trip, interpolation, alignment, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from real2sim_core.trajectory import state_columns

from real2sim_core import (
    Camera,
    StateTrajectory,
    TrajectoryFormatError,
    align,
    frames,
    get_action,
    read_states_csv,
)


def make_traj(num_frames=5, num_objects=1, action="push_left_to_right", seed=0, **kw):
    rng = np.random.default_rng(seed)
    t = num_frames
    return StateTrajectory(
        times=np.arange(t) / 12.0,
        hand_pos=rng.normal(size=(t, 3)),
        hand_azi=rng.normal(size=t),
        hand_ele=rng.normal(size=t),
        obj_pos=rng.normal(size=(t, num_objects, 3)),
        obj_rot=0.3 * rng.normal(size=(t, num_objects, 3)),
        obj_size=rng.uniform(0.05, 0.2, size=(t, num_objects, 3)),
        touch=(rng.uniform(size=t) > 0.5).astype(float),
        camera=Camera(2.1, 0.3, 0.7),
        action=action,
        video_id="v1",
        **kw,
    )


# A two-object file in the authors' published layout: pandas index column, spaces after commas.
PUBLISHED_2OBJ = """\
, cdis, cazi, cele, o0szx, o0szy, o0szz, o0posx, o0posy, o0posz, o0rot0, o0rot1, o0rot2, \
o1szx, o1szy, o1szz, o1posx, o1posy, o1posz, o1rot0, o1rot1, o1rot2, hposx, hposy, hposz, \
hazi, hele, touch
0, 2.5, 0.1, 0.6, 0.1, 0.12, 0.08, 0.0, 0.0, 0.04, 0.0, 0.0, 0.0, \
0.05, 0.06, 0.07, 0.2, 0.1, 0.3, 0.01, 0.02, 0.03, 0.2, 0.1, 0.33, 1.6, 1.2, 1
1, 2.5, 0.1, 0.6, 0.1, 0.12, 0.08, 0.0, 0.0, 0.04, 0.0, 0.0, 0.0, \
0.05, 0.06, 0.07, 0.1, 0.1, 0.2, 0.01, 0.02, 0.03, 0.1, 0.1, 0.23, 1.6, 1.2, 1
2, 2.5, 0.1, 0.6, 0.1, 0.12, 0.08, 0.0, 0.0, 0.04, 0.0, 0.0, 0.0, \
0.05, 0.06, 0.07, 0.0, 0.0, 0.12, 0.01, 0.02, 0.03, 0.0, 0.0, 0.15, 1.6, 1.2, 0
"""


def test_read_published_format(tmp_path):
    p = tmp_path / "states.csv"
    p.write_text(PUBLISHED_2OBJ)
    tr = read_states_csv(p, action="put onto")
    assert tr.action == "put_onto"
    assert (tr.num_frames, tr.num_objects) == (3, 2)
    np.testing.assert_allclose(tr.times, [0, 1 / 12, 2 / 12])
    assert tr.camera == Camera(2.5, 0.1, 0.6)
    np.testing.assert_allclose(tr.obj_size[0, 1], [0.05, 0.06, 0.07])
    np.testing.assert_allclose(tr.obj_pos[1, 1], [0.1, 0.1, 0.2])
    np.testing.assert_allclose(tr.obj_rot[2, 1], [0.01, 0.02, 0.03])
    np.testing.assert_allclose(tr.hand_pos[2], [0.0, 0.0, 0.15])
    np.testing.assert_allclose(tr.hand_azi, 1.6)
    np.testing.assert_allclose(tr.touch, [1, 1, 0])


@pytest.mark.parametrize("num_objects,action", [(1, "pick_up"), (2, "put_behind")])
def test_csv_round_trip_is_lossless(tmp_path, num_objects, action):
    tr = make_traj(7, num_objects, action)
    path = tr.to_csv(tmp_path / "s.csv")
    back = read_states_csv(path)
    assert back.allclose(tr)  # exact equality: atol 0
    header = [h for h in path.read_text().splitlines() if not h.startswith("#")][0]
    assert header.split(",")[1:] == list(state_columns(num_objects))


def test_aligned_flag_round_trips(tmp_path):
    tr = align(make_traj())
    back = read_states_csv(tr.to_csv(tmp_path / "a.csv"))
    assert back.aligned and back.camera == Camera(0.0, 0.0, 0.0)
    assert back.allclose(tr)


def test_action_phase_round_trips_and_is_checked(tmp_path):
    import dataclasses

    tr = dataclasses.replace(align(make_traj()), phase=(12, 19))
    path = tr.to_csv(tmp_path / "a.csv")
    assert "# phase: 12:19" in path.read_text()
    back = read_states_csv(path)
    assert back.phase == (12, 19) and back.allclose(tr)
    assert read_states_csv(align(make_traj()).to_csv(tmp_path / "b.csv")).phase is None
    text = path.read_text().replace("# phase: 12:19", "# phase: twelve")
    (tmp_path / "c.csv").write_text(text)
    with pytest.raises(TrajectoryFormatError, match=r"c.csv: '# phase: twelve' is not START:STOP"):
        read_states_csv(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text(path.read_text().replace("# phase: 12:19", "# phase: 9:9"))
    with pytest.raises(TrajectoryFormatError, match=r"d.csv: .*9:9 are not a non-empty range"):
        read_states_csv(tmp_path / "d.csv")


def test_interpolation():
    tr = make_traj(4)
    # at the frame times it reproduces the frames
    same = tr.interpolate(tr.times)
    np.testing.assert_allclose(same.hand_pos, tr.hand_pos, atol=1e-12)
    np.testing.assert_allclose(
        frames.rotvec_to_matrix(same.obj_rot), frames.rotvec_to_matrix(tr.obj_rot), atol=1e-9
    )
    # halfway: linear for positions/angles/sizes, nearest for touch
    mid = tr.interpolate([0.5 / 12])
    np.testing.assert_allclose(mid.hand_pos[0], tr.hand_pos[:2].mean(0))
    np.testing.assert_allclose(mid.obj_size[0], tr.obj_size[:2].mean(0))
    np.testing.assert_allclose(mid.hand_ele[0], tr.hand_ele[:2].mean())
    # rotations: slerp gives the rotation halfway along the geodesic
    r0, r1 = frames.rotvec_to_matrix(tr.obj_rot[0, 0]), frames.rotvec_to_matrix(tr.obj_rot[1, 0])
    rm = frames.rotvec_to_matrix(mid.obj_rot[0, 0])
    half = frames.matrix_to_rotvec(r0.T @ rm)
    full = frames.matrix_to_rotvec(r0.T @ r1)
    np.testing.assert_allclose(2 * half, full, atol=1e-9)
    # outside the span: clamped to the ends
    ends = tr.interpolate([-1.0, 10.0])
    np.testing.assert_allclose(ends.hand_pos, tr.hand_pos[[0, -1]])
    assert ends.touch[1] == tr.touch[-1]


def test_retimed_maps_onto_window():
    tr = make_traj(5).retimed(3.0, 7.0)
    np.testing.assert_allclose(tr.times, [3, 4, 5, 6, 7])


def test_alignment_on_known_trajectory():
    """Camera at azimuth 90 deg (on the +x side): alignment rotates the scene by -90 deg."""
    az = math.pi / 2
    # object 0 starts at (1, 2, 0.05) and moves +y by 0.1 m (towards where the camera looks
    # from: with the camera on +x, world +y is image right... after alignment it is +x).
    obj = np.array([[[1.0, 2.0, 0.05]], [[1.0, 2.1, 0.05]]])
    rot0 = np.array([0.0, 0.0, 0.4])
    tr = StateTrajectory(
        times=[0.0, 1 / 12],
        hand_pos=[[1.0, 1.9, 0.05], [1.0, 2.0, 0.05]],
        hand_azi=[az, az],  # pointing along +y
        hand_ele=[0.2, 0.2],
        obj_pos=obj,
        obj_rot=[[rot0], [rot0 + [0, 0, 0.1]]],
        obj_size=[[[0.1, 0.1, 0.1]], [[0.1, 0.1, 0.1]]],
        touch=[1, 1],
        camera=Camera(2.0, az, 0.5),
        action="push_left_to_right",
    )
    al = tr.aligned_frame(scale=1.5)
    assert al.aligned and al.camera == Camera(0, 0, 0)
    # camera after alignment would stand on -y: the world rotated by -az
    cam = frames.rot_z(-az) @ frames.camera_position(2.0, az, 0.5)
    np.testing.assert_allclose(cam[:2], [0.0, -2.0 * math.cos(0.5)], atol=1e-12)
    # object starts at the origin and moves +x by 0.1 * 1.5
    np.testing.assert_allclose(al.obj_pos[0, 0], [0, 0, 0.075], atol=1e-12)
    np.testing.assert_allclose(al.obj_pos[1, 0], [0.15, 0, 0.075], atol=1e-12)
    # hand 0.1 m behind the object along the push direction
    np.testing.assert_allclose(al.hand_pos[0], [-0.15, 0, 0.075], atol=1e-12)
    # hand now points along +x (the direction of motion)
    np.testing.assert_allclose(al.hand_azi, [0, 0], atol=1e-12)
    np.testing.assert_allclose(al.hand_ele, [0.2, 0.2])
    # object rotations relative to the first frame: identity, then 0.1 rad about z
    np.testing.assert_allclose(al.obj_rot[0, 0], [0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(al.obj_rot[1, 0], [0, 0, 0.1], atol=1e-12)
    np.testing.assert_allclose(al.obj_size, 0.15)
    with pytest.raises(TrajectoryFormatError, match="already in the aligned frame"):
        align(al)


def test_action_registry():
    assert get_action("push left to right").template_id == 93
    assert get_action(112).name == "put_onto"
    assert get_action("put_behind").num_objects == 2
    with pytest.raises(KeyError, match="unknown action 'wave'.*known actions: pick_up"):
        get_action("wave")


# --- bad input -------------------------------------------------------------------------------


def _published_1obj(rows):
    head = ", ".join(state_columns(1))
    return "," + head + "\n" + "\n".join(f"{i}, " + ", ".join(map(str, r)) for i, r in
                                         enumerate(rows)) + "\n"


GOOD_ROW = [2.0, 0.0, 0.5, 0.1, 0.1, 0.1, 0, 0, 0.05, 0, 0, 0, 0.1, 0, 0.1, 0.0, 0.5, 0]


def test_missing_columns_named(tmp_path):
    p = tmp_path / "bad.csv"
    text = _published_1obj([GOOD_ROW]).replace(", hele", ", hxxx")
    p.write_text(text)
    with pytest.raises(TrajectoryFormatError, match=r"bad\.csv: missing column\(s\) hele"):
        read_states_csv(p)


def test_nan_value_named(tmp_path):
    row = list(GOOD_ROW)
    row[7] = "nan"
    p = tmp_path / "nan.csv"
    p.write_text(_published_1obj([GOOD_ROW, row]))
    with pytest.raises(TrajectoryFormatError,
                       match=r"nan\.csv: line 3 \(data row 1\), column 'o0posy': value is nan"):
        read_states_csv(p)


def test_non_numeric_value_named(tmp_path):
    row = list(GOOD_ROW)
    row[0] = "far"
    p = tmp_path / "txt.csv"
    p.write_text(_published_1obj([row]))
    with pytest.raises(TrajectoryFormatError, match=r"column 'cdis': 'far' is not a number"):
        read_states_csv(p)


def test_non_monotonic_time_named(tmp_path):
    tr = make_traj(4)
    p = tr.to_csv(tmp_path / "t.csv")
    lines = p.read_text().splitlines()
    # swap the time of data rows 1 and 2
    hdr = next(i for i, s in enumerate(lines) if s.startswith("time"))
    r1, r2 = lines[hdr + 2].split(","), lines[hdr + 3].split(",")
    r1[0], r2[0] = r2[0], r1[0]
    lines[hdr + 2], lines[hdr + 3] = ",".join(r1), ",".join(r2)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrajectoryFormatError,
                       match=r"t\.csv: line \d+ \(data row 2\), column 'time': time is not "
                             r"strictly increasing"):
        read_states_csv(p)


def test_unknown_action_named(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(_published_1obj([GOOD_ROW]))
    with pytest.raises(TrajectoryFormatError, match=r"a\.csv: .*unknown action 'juggle'"):
        read_states_csv(p, action="juggle")


def test_object_count_mismatch_named(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(_published_1obj([GOOD_ROW]))
    with pytest.raises(TrajectoryFormatError, match="put_onto' needs 2 object"):
        read_states_csv(p, action="put_onto")


def test_missing_file_and_empty(tmp_path):
    with pytest.raises(TrajectoryFormatError, match="no such file"):
        read_states_csv(tmp_path / "nope.csv")
    p = tmp_path / "e.csv"
    p.write_text("," + ", ".join(state_columns(1)) + "\n")
    with pytest.raises(TrajectoryFormatError, match="header only"):
        read_states_csv(p)


def test_constructor_rejects_nan():
    with pytest.raises(TrajectoryFormatError, match="hand_pos is not finite .* frame 2"):
        StateTrajectory(
            times=[0, 1, 2, 3], hand_pos=[[0, 0, 0]] * 2 + [[np.nan, 0, 0]] + [[0, 0, 0]],
            hand_azi=[0] * 4, hand_ele=[0] * 4, obj_pos=np.zeros((4, 1, 3)),
            obj_rot=np.zeros((4, 1, 3)), obj_size=np.ones((4, 1, 3)), touch=[0] * 4)


def test_mirrored_x_is_the_reflected_scene():
    """The reflection in x = 0 (a horizontally flipped video): every point of the scene is
    reflected, rotations become M R M, the camera moves to the mirrored place, twice is the
    identity."""
    tr = make_traj(num_frames=4, num_objects=2, action="put_onto")
    m = tr.mirrored_x()
    flip = np.diag([-1.0, 1.0, 1.0])
    assert np.allclose(m.hand_pos, tr.hand_pos @ flip)
    assert np.allclose(m.obj_pos, tr.obj_pos @ flip)
    assert np.allclose(frames.hand_direction(m.hand_azi, m.hand_ele),
                       frames.hand_direction(tr.hand_azi, tr.hand_ele) @ flip)
    assert np.allclose(frames.rotvec_to_matrix(m.obj_rot),
                       flip @ frames.rotvec_to_matrix(tr.obj_rot) @ flip)
    assert np.allclose(m.camera.position(), tr.camera.position() @ flip)
    assert np.array_equal(m.obj_size, tr.obj_size) and np.array_equal(m.touch, tr.touch)
    assert np.array_equal(m.times, tr.times) and m.hand_ele is not tr.hand_ele
    assert m.video_id == "v1~mirrored"
    back = m.mirrored_x()
    assert np.allclose(back.hand_pos, tr.hand_pos) and np.allclose(back.obj_rot, tr.obj_rot)
    assert np.allclose(frames.angle_difference(back.hand_azi, tr.hand_azi), 0.0)
    assert math.isclose(back.camera.azimuth, tr.camera.azimuth)


def test_x_mirror_swaps_left_and_right_only():
    assert get_action("push_left_to_right").x_mirror == "push_right_to_left"
    assert get_action("pull_right_to_left").x_mirror == "pull_left_to_right"
    for name in ("pick_up", "put_behind", "put_in_front_of", "put_next_to", "put_onto"):
        assert get_action(name).x_mirror == name
