"""METHOD section 8 checks on hand-made trajectories, per action type (pass and fail)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from real2sim_core.cli import main as cli_main
from real2sim_core.errors import InputError
from real2sim_core.metrics import (
    cuboid_bottom,
    cylinder_bottom,
    evaluate_arrays,
    evaluate_trajectory,
    moving_frames,
)
from real2sim_core.trajectory import StateTrajectory, write_states_csv

T = 121


def _traj(final0=(0.0, 0.0), final1=None, azi=0.0, ele=0.3, tilt=0.0, z0=0.035, z1=None,
          h=(0.07, 0.06), r=(0.045, 0.045), start1=(0.0, -0.15)):
    """Object 0 moves linearly from the origin to final0 during frames 40..60."""
    n = 1 if final1 is None else 2
    s = np.clip((np.arange(T) - 40) / 20.0, 0.0, 1.0)
    op = np.zeros((T, n, 3))
    op[:, 0, 0] = s * final0[0]
    op[:, 0, 1] = s * final0[1]
    op[:, 0, 2] = z0
    if n == 2:
        op[:, 1, 0] = start1[0] + s * (final1[0] - start1[0])
        op[:, 1, 1] = start1[1] + s * (final1[1] - start1[1])
        op[:, 1, 2] = z1 if z1 is not None else h[1] / 2
    rot = np.zeros((T, n, 3))
    rot[-1, 0, 0] = tilt
    return dict(hand_pos=np.zeros((T, 3)), hand_azi=np.full(T, azi), hand_ele=np.full(T, ele),
                obj_pos=op, heights=np.array(h[:n]), radii=np.array(r[:n]), obj_rot=rot)


@pytest.mark.parametrize("action,final,azi,ok", [
    ("push_left_to_right", (0.15, 0), 0.0, True),
    ("push_left_to_right", (0.15, 0), math.pi, False),       # hand points the wrong way
    ("push_left_to_right", (0.03, 0), 0.0, False),           # not far enough
    ("push_right_to_left", (-0.15, 0), math.pi, True),
    ("pull_left_to_right", (0.15, 0), math.pi, True),
    ("pull_left_to_right", (0.15, 0), 0.0, False),
    ("pull_right_to_left", (-0.15, 0), 0.2, True),
    ("pull_right_to_left", (0.15, 0), 0.0, False),           # wrong direction
])
def test_push_pull(action, final, azi, ok):
    res = evaluate_arrays(action, **_traj(final0=final, azi=azi))
    assert res.success is ok, res.reason


def test_push_pull_details():
    res = evaluate_arrays("push_left_to_right", **_traj(final0=(0.15, 0), tilt=math.pi / 2))
    assert res.hand_ok and not res.object_ok and "axis z = 0.00" in res.reason
    res = evaluate_arrays("push_left_to_right", **_traj(final0=(0.15, 0), ele=math.radians(85)))
    assert not res.hand_ok and "elevation" in res.reason
    res = evaluate_arrays("push_left_to_right", **_traj(final0=(0.0, 0)))
    assert not res.hand_ok and "never moves" in res.reason
    # 75 % is strict: exactly 3/4 of the moving frames is not enough
    mv = moving_frames(_traj(final0=(0.15, 0))["obj_pos"][:, 0, 0])
    idx = np.flatnonzero(mv)
    azi = np.zeros(T)
    azi[idx[: len(idx) // 4]] = math.pi
    kw = _traj(final0=(0.15, 0))
    kw["hand_azi"] = azi
    assert len(idx) % 4 == 0
    assert not evaluate_arrays("push_left_to_right", **kw).hand_ok
    azi[idx[0]] = 0.0
    assert evaluate_arrays("push_left_to_right", **kw).hand_ok


def test_pick_up():
    up = _traj(z0=0.035 + 0.05)
    up["obj_pos"][:, 0, 2] = 0.035
    up["obj_pos"][-1, 0, 2] = 0.035 + 0.02
    assert evaluate_arrays("pick_up", **up).success
    down = _traj()
    res = evaluate_arrays("pick_up", **down)
    assert res.hand_ok and not res.object_ok and "bottom z = 0.000" in res.reason


def test_cylinder_bottom_formula():
    # upright, lying, upside down, 60 deg tilt: z - |a_z| h / 2 - r sqrt(1 - a_z^2)
    assert cylinder_bottom(0.035, 1.0, 0.07, 0.045) == pytest.approx(0.0)
    assert cylinder_bottom(0.045, 0.0, 0.07, 0.045) == pytest.approx(0.0)
    assert cylinder_bottom(0.035, -1.0, 0.07, 0.045) == pytest.approx(0.0)
    assert cylinder_bottom(0.2, 0.5, 0.1, 0.04) == pytest.approx(0.2 - 0.025 - 0.04 * 0.75 ** 0.5)
    rx = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)  # 90 deg about x
    assert cuboid_bottom(0.045, rx, [0.02, 0.09, 0.07]) == pytest.approx(0.0)


def test_pick_up_tipped_over_cylinder_fails():
    """Knocked over and lying on the table: centre at z = r, bottom 0 (the old centre-minus-
    half-height rule put it at r - h/2 = 0.015 m and passed it)."""
    kw = _traj(h=(0.07,), r=(0.05,))
    kw["obj_pos"][-1, 0, 2] = 0.05
    kw["obj_rot"][-1, 0] = [math.pi / 2, 0.0, 0.0]
    res = evaluate_arrays("pick_up", **kw)
    assert not res.object_ok and not res.success
    assert res.values["final_bottom_z"] == pytest.approx(0.0, abs=1e-9)
    assert "final bottom z = " in res.object_reason and res.object_reason.endswith("FAIL")


def test_pick_up_upright_lifted_cylinder_passes():
    kw = _traj(h=(0.07,), r=(0.05,))
    kw["obj_pos"][-1, 0, 2] = 0.035 + 0.05
    res = evaluate_arrays("pick_up", **kw)
    assert res.success, res.reason
    assert res.values["final_bottom_z"] == pytest.approx(0.05)
    # the same height tilted by 90 deg in the air: bottom = z - r
    kw["obj_rot"][-1, 0] = [0.0, math.pi / 2, 0.0]
    res = evaluate_arrays("pick_up", **kw)
    assert res.success and res.values["final_bottom_z"] == pytest.approx(0.085 - 0.05)
    # the axis alone (executor recordings) gives the same verdict
    axis = np.ones((T, 1))
    axis[-1, 0] = 0.0
    res2 = evaluate_arrays("pick_up", kw["hand_pos"], kw["hand_azi"], kw["hand_ele"],
                           kw["obj_pos"], kw["heights"], kw["radii"], obj_axis_z=axis)
    assert res2.values["final_bottom_z"] == pytest.approx(res.values["final_bottom_z"])


def test_put_onto_judged_by_the_real_bottom():
    h0, h1, r1 = 0.07, 0.10, 0.04
    # lying on its side on top of the static object: centre r1 above its top, bottom = top
    kw = _traj(final0=(0.0, 0.0), final1=(0.01, 0.0), z1=h0 + r1, h=(h0, h1), r=(0.045, r1))
    kw["obj_rot"][-1, 1] = [math.pi / 2, 0.0, 0.0]
    res = evaluate_arrays("put_onto", **kw)
    assert res.success, res.reason
    assert res.values["moved_bottom_z"] == pytest.approx(h0)
    # tilted by 60 deg with its centre where an upright one would clear the top
    # (z - h/2 = 0.07): its lowest edge is 1 cm below the top -> fails
    kw = _traj(final0=(0.0, 0.0), final1=(0.01, 0.0), z1=h0 + h1 / 2, h=(h0, h1), r=(0.045, r1))
    kw["obj_rot"][-1, 1] = [math.radians(60.0), 0.0, 0.0]
    res = evaluate_arrays("put_onto", **kw)
    assert not res.object_ok
    want = h0 + h1 / 2 - 0.5 * h1 / 2 - r1 * math.sqrt(0.75)
    assert res.values["moved_bottom_z"] == pytest.approx(want)
    assert "moved bottom z" in res.object_reason and "FAIL" in res.object_reason
    # upright on top passes
    kw["obj_rot"][-1, 1] = 0.0
    assert evaluate_arrays("put_onto", **kw).success


def test_structured_verdicts():
    res = evaluate_arrays("push_left_to_right", **_traj(final0=(0.15, 0), azi=math.pi))
    assert not res.hand_ok and res.object_ok
    assert res.hand_reason.startswith("azimuth within 90 deg") and res.hand_reason.endswith("FAIL")
    assert res.object_reason.startswith("final x = +0.150")
    assert res.reason == f"hand: {res.hand_reason}; object: {res.object_reason}"
    assert res.values["final_x"] == pytest.approx(0.15)
    failed = res.failed("episode terminated at step 4")
    assert not failed.hand_ok and not failed.object_ok and failed.error
    assert failed.reason == "rollout error: episode terminated at step 4"
    d = failed.to_dict()
    assert d["success"] is False and d["hand_reason"] == res.hand_reason


@pytest.mark.parametrize("action,final1,z1,static_move,ok", [
    ("put_behind", (0.02, 0.15), None, 0.0, True),
    ("put_behind", (0.15, -0.02), None, 0.0, False),
    ("put_behind", (0.02, 0.15), 0.12, 0.0, False),           # still in the air
    ("put_behind", (0.02, 0.15), None, 0.02, False),          # static object pushed 2 cm
    ("put_behind", (0.02, 0.6), None, 0.0, False),            # too far
    ("put_in_front_of", (0.0, -0.12), None, 0.0, True),
    ("put_in_front_of", (0.0, 0.12), None, 0.0, False),
    ("put_next_to", (0.12, 0.01), None, 0.0, True),
    ("put_next_to", (-0.12, 0.05), None, 0.0, True),
    ("put_next_to", (0.0, 0.12), None, 0.0, False),
    ("put_onto", (0.01, 0.0), 0.07 + 0.03, 0.0, True),
    ("put_onto", (0.06, 0.0), 0.07 + 0.03, 0.0, False),       # outside the radius
    ("put_onto", (0.01, 0.0), 0.03, 0.0, False),              # not on top
    ("put_onto", (0.01, 0.0), 0.07 + 0.03, 0.015, False),
])
def test_put(action, final1, z1, static_move, ok):
    kw = _traj(final0=(static_move, 0.0), final1=final1, z1=z1)
    res = evaluate_arrays(action, **kw)
    assert res.hand_ok
    assert res.success is ok, res.reason


def test_bad_inputs():
    kw = _traj(final0=(0.1, 0))
    with pytest.raises(InputError, match="needs 2 object"):
        evaluate_arrays("put_onto", **kw)
    kw["hand_ele"] = kw["hand_ele"][:-1]
    with pytest.raises(InputError, match="inconsistent shapes"):
        evaluate_arrays("push_left_to_right", **kw)
    kw = _traj(final0=(0.1, 0))
    kw["obj_pos"][3, 0, 0] = np.nan
    with pytest.raises(InputError, match="obj_pos contains NaN"):
        evaluate_arrays("push_left_to_right", **kw)
    with pytest.raises(KeyError, match="unknown action 'fly'"):
        evaluate_arrays("fly", **_traj())


def _state_traj(aligned=True):
    kw = _traj(final0=(0.15, 0))
    size = np.broadcast_to([0.09, 0.09, 0.07], (T, 1, 3))
    return StateTrajectory(times=np.arange(T) / 12.0, hand_pos=kw["hand_pos"],
                           hand_azi=kw["hand_azi"], hand_ele=kw["hand_ele"],
                           obj_pos=kw["obj_pos"], obj_rot=kw["obj_rot"], obj_size=size,
                           touch=np.zeros(T), action="push_left_to_right", aligned=aligned)


def test_evaluate_trajectory_cuboid_bottom():
    """Estimated trajectories are cuboids: pick up is judged by the lowest corner."""
    kw = _traj()
    size = np.broadcast_to([0.04, 0.10, 0.06], (T, 1, 3))
    pos = kw["obj_pos"].copy()
    pos[:, 0, 2] = 0.03
    theta = math.radians(30.0)
    pos[-1, 0, 2] = 0.07
    rot = kw["obj_rot"].copy()
    rot[-1, 0] = [theta, 0.0, 0.0]
    traj = StateTrajectory(times=np.arange(T) / 12.0, hand_pos=kw["hand_pos"],
                           hand_azi=kw["hand_azi"], hand_ele=kw["hand_ele"], obj_pos=pos,
                           obj_rot=rot, obj_size=size, touch=np.zeros(T), action="pick_up",
                           aligned=True)
    res = evaluate_trajectory(traj)
    want = 0.07 - (0.10 * math.sin(theta) + 0.06 * math.cos(theta)) / 2
    assert res.values["final_bottom_z"] == pytest.approx(want)
    assert res.success is (want > 0.01)
    # the same cuboid tipped by 90 deg onto its long side, resting on the table, fails
    pos[-1, 0, 2] = 0.05
    rot[-1, 0] = [math.pi / 2, 0.0, 0.0]
    res = evaluate_trajectory(traj.copy(obj_pos=pos, obj_rot=rot))
    assert res.values["final_bottom_z"] == pytest.approx(0.0, abs=1e-9) and not res.success


def test_evaluate_trajectory_and_cli(tmp_path, capsys):
    traj = _state_traj()
    assert evaluate_trajectory(traj).success
    assert not evaluate_trajectory(traj, action="push_right_to_left").success
    with pytest.raises(InputError, match="not in the aligned frame"):
        evaluate_trajectory(_state_traj(aligned=False))
    path = write_states_csv(traj, tmp_path / "s.csv")
    assert cli_main(["evaluate-states", str(path)]) == 0
    out = capsys.readouterr().out
    assert "hand check:   PASS" in out and "object check: PASS" in out
    assert "(final x = +0.150 m" in out
    assert cli_main(["evaluate-states", "--action", "pull_left_to_right", str(path)]) == 1
    assert "hand check:   FAIL" in capsys.readouterr().out
    assert cli_main(["evaluate-states", "--action", "nope", str(path)]) == 2
    assert "unknown action 'nope'" in capsys.readouterr().err
