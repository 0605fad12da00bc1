"""The follow-up's physical plausibility checks (real2sim_core.plausibility), pass and fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from real2sim_core.cli import main as cli_main
from real2sim_core.errors import InputError
from real2sim_core.plausibility import check_arrays, check_trajectory, lowest_point
from real2sim_core.trajectory import StateTrajectory, write_states_csv

T = 40
SIZE = np.array([0.06, 0.04, 0.10])


def _objects(n=1, z=None, tilt=0.0, tilt_frames=slice(None)):
    """Objects resting (centre at half height), object n-1 moving +x over the frames."""
    pos = np.zeros((T, n, 3))
    pos[:, :, 2] = SIZE[2] / 2 if z is None else z
    pos[:, n - 1, 0] = np.linspace(0.0, 0.2, T)
    if n == 2:
        pos[:, 0, :2] = (0.3, 0.0)
    rot = np.zeros((T, n, 3))
    rot[tilt_frames, n - 1, 0] = tilt
    size = np.broadcast_to(SIZE, (T, n, 3)).copy()
    return pos, rot, size


def test_lowest_point_uses_orientation():
    pos = np.array([0.0, 0.0, 0.05])
    assert lowest_point(pos, np.zeros(3), SIZE) == pytest.approx(0.0)
    # tipped 90 deg about x: the 0.04 m side is vertical now
    assert lowest_point(pos, [math.pi / 2, 0, 0], SIZE) == pytest.approx(0.05 - 0.02)
    # 45 deg about x: half extent 0.5 (0.04 + 0.10) / sqrt 2
    low = lowest_point(pos, [math.pi / 4, 0, 0], SIZE)
    assert low == pytest.approx(0.05 - 0.5 * 0.14 / math.sqrt(2))


def test_resting_push_is_plausible_and_tumbling_is_not():
    res = check_arrays("push_left_to_right", *_objects())
    assert res.plausible, res.reason
    assert set(res.checks) == {"below_table", "on_ground"}
    # tumbled 45 deg about x with the centre at 2 cm in the second half: a corner 2.9 cm below
    tumble = slice(T // 2, None)
    pos, rot, size = _objects(tilt=math.pi / 4, tilt_frames=tumble)
    pos[tumble, 0, 2] = 0.02
    res = check_arrays("push_left_to_right", pos, rot, size)
    assert not res.checks["below_table"] and "50 %" in res.reason and "FAIL" in res.reason
    assert res.values["min_lowest_point"] == pytest.approx(0.02 - 0.5 * 0.14 / math.sqrt(2))
    # exactly 25 % of the frames below the table still passes (at most 25 %)
    tumble = slice(0, T // 4)
    pos, rot, size = _objects(tilt=math.pi / 4, tilt_frames=tumble)
    pos[tumble, 0, 2] = 0.02
    assert check_arrays("push_left_to_right", pos, rot, size).checks["below_table"]


def test_push_pull_must_stay_on_the_ground():
    pos, rot, size = _objects()
    pos[:, 0, 2] += np.linspace(0.0, 0.12, T)  # rises more than its own height (0.10)
    res = check_arrays("pull_right_to_left", pos, rot, size)
    assert not res.checks["on_ground"] and res.values["z_motion"] == pytest.approx(0.12)
    pos[:, 0, 2] = SIZE[2] / 2 + np.linspace(0.0, 0.08, T)
    assert check_arrays("pull_right_to_left", pos, rot, size).plausible


def test_pick_up_starts_on_the_table():
    pos, rot, size = _objects()
    pos[:, 0, 2] += np.linspace(0.0, 0.2, T)
    assert check_arrays("pick_up", pos, rot, size).plausible
    pos[:, 0, 2] += 0.02  # floating 2 cm at the start
    res = check_arrays("pick_up", pos, rot, size)
    assert not res.checks["starts_on_table"] and "first lowest point 0.020" in res.reason


def test_put_must_end_put_down():
    pos, rot, size = _objects(n=2)
    assert check_arrays("put_next_to", pos, rot, size).plausible
    pos[-1, 1, 2] = SIZE[2] / 2 + SIZE[2] + 0.01  # ends above the static object's top
    res = check_arrays("put_behind", pos, rot, size)
    assert not res.checks["put_down"] and "static top 0.100" in res.reason
    # resting on the static object's top is "no higher than" it (1 mm tolerance)
    pos[-1, 1, 2] = SIZE[2] / 2 + SIZE[2] + 0.0009
    assert check_arrays("put_behind", pos, rot, size).checks["put_down"]
    pos[-1, 1, 2] = SIZE[2] / 2 + SIZE[2] + 0.0011
    assert not check_arrays("put_behind", pos, rot, size).checks["put_down"]
    # put onto: the height is judged by METHOD 8 only
    res = check_arrays("put_onto", pos, rot, size)
    assert res.plausible and set(res.checks) == {"below_table"}


def test_bad_inputs_and_trajectory_and_cli(tmp_path, capsys):
    pos, rot, size = _objects()
    with pytest.raises(InputError, match="needs 2 object"):
        check_arrays("put_onto", pos, rot, size)
    bad = pos.copy()
    bad[3, 0, 1] = np.nan
    with pytest.raises(InputError, match="obj_pos contains NaN"):
        check_arrays("push_left_to_right", bad, rot, size)
    with pytest.raises(InputError, match="do not match"):
        check_arrays("push_left_to_right", pos, rot[:5], size)
    # a plausible push that passes METHOD 8 exits 0; sunk into the table it exits 1
    traj = StateTrajectory(times=np.arange(T) / 12.0, hand_pos=np.zeros((T, 3)),
                           hand_azi=np.zeros(T), hand_ele=np.full(T, 0.3), obj_pos=pos,
                           obj_rot=rot, obj_size=size, touch=np.ones(T),
                           action="push_left_to_right", aligned=True)
    assert check_trajectory(traj).plausible
    path = write_states_csv(traj, tmp_path / "ok.csv")
    assert cli_main(["evaluate-states", str(path)]) == 0
    assert "plausible:    yes" in capsys.readouterr().out
    sunk = traj.copy(obj_pos=pos - np.array([0.0, 0.0, 0.08]))
    path = write_states_csv(sunk, tmp_path / "sunk.csv")
    assert cli_main(["evaluate-states", str(path)]) == 1
    out = capsys.readouterr().out
    assert "plausible:    no" in out and "100 % of the frames" in out
