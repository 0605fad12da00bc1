"""Plans the executor must refuse before anything moves, through ``real2sim execute`` with real
files: a finger opening of 0.5 m, a gripper that comes down inside or onto the object, a plan
file that is not UTF-8, an unwritable --out. A refused plan still leaves summary.json with the
reason."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from panda_executor.checks import check_openings
from panda_executor.errors import CollisionError, LimitError
from panda_executor.executor import ObjectSpec
from panda_executor.handmade import push_pull_plan
from real2sim_core.cli import main
from real2sim_core.plan import MAX_PLAN_OPENING, GripperPlan, write_plan_json

from real2sim_core import frames


def _vertical_plan(z0, z1, n=36, opening=MAX_PLAN_OPENING, action="push_left_to_right"):
    """The gripper pointing down over the object's centre, moving from z0 to z1 (aligned)."""
    t = np.arange(n) / 12.0
    p = np.stack([np.zeros(n), np.zeros(n), np.linspace(z0, z1, n)], axis=1)
    q = np.repeat(frames.gripper_quat_from_hand_angles(0.0, math.pi / 2)[None], n, axis=0)
    return GripperPlan(t, p, q, np.full(n, opening), action=action)


def _execute(tmp_path, plan, *extra, out="run"):
    path = write_plan_json(plan, tmp_path / "plan.json")
    return main(["execute", "--plan", str(path), "--object-pose", "0.5", "0.0", "0.0",
                 "--no-video", "--out", str(tmp_path / out), *extra])


def _refusal(tmp_path, capsys, out="run"):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    s = json.loads((tmp_path / out / "summary.json").read_text())
    assert s["success"] is False and s["refused"]
    assert not (tmp_path / out / "joint_trajectory.csv").exists()  # nothing was planned/run
    return err, s["refused"]


def test_finger_opening_of_half_a_metre_is_refused_before_motion(tmp_path, capsys):
    plan = push_pull_plan("push_left_to_right")
    plan.openings[10:20] = 0.5
    assert _execute(tmp_path, plan) == 2
    err, refused = _refusal(tmp_path, capsys)
    for text in (err, refused):
        assert "plan waypoint(s) 10, 11, 12" in text and "open each finger 0.500 m" in text
        assert f"at most {MAX_PLAN_OPENING} m" in text and "0.08 m in all" in text
    with pytest.raises(LimitError):
        check_openings([0.0, MAX_PLAN_OPENING + 0.001])
    check_openings([0.0, MAX_PLAN_OPENING])  # the gripper world's full opening is fine


def test_gripper_coming_down_inside_the_object_is_refused_before_motion(tmp_path, capsys):
    """The plan starts 5 cm above the table at the object's centre: the approach from above
    runs the fingers into the 10 cm object (the sim finds it only as a tracking error)."""
    plan = _vertical_plan(0.05, 0.05)
    rc = _execute(tmp_path, plan, "--object-height", "0.1", "--object-radius", "0.05")
    assert rc == 2
    err, refused = _refusal(tmp_path, capsys)
    assert "collision with object 0 at approach point" in refused
    assert "into the object at its pose (0.500, 0.000) m" in refused
    assert "refused before any motion" in err


def test_gripper_pressing_onto_a_too_wide_object_is_refused(executor):
    """The hand opens 0.08 m; a 0.10 m object under a descending gripper blocks the arm."""
    with pytest.raises(CollisionError, match=r"a finger presses \d+ mm into its top .* the "
                                             r"object is 0.100 m wide"):
        executor.plan_joint_trajectory(_vertical_plan(0.25, 0.06), (0.5, 0.0, 0.0),
                                       objects=[ObjectSpec(0.1, 0.05)])
    # a 0.06 m object fits between the open fingers: accepted, nothing pushed sideways
    xp = executor.plan_joint_trajectory(_vertical_plan(0.25, 0.06), (0.5, 0.0, 0.0),
                                        objects=[ObjectSpec(0.1, 0.03)])
    assert xp.collisions["knots_checked"] > len(xp.main)


def test_handmade_push_passes_the_collision_check(executor):
    xp = executor.plan_joint_trajectory(push_pull_plan("push_left_to_right"), (0.5, 0.0, 0.0))
    c = xp.summary()["collision_check"]
    assert c["first_contact_knot"] >= 0 and c["knots_checked"] > 50


def test_non_utf8_plan_and_config_files_are_named(tmp_path, capsys):
    path = write_plan_json(push_pull_plan("push_left_to_right"), tmp_path / "plan.json")
    path.write_bytes(path.read_bytes().replace(b'"action"', b'"act\xe9on"'))
    rc = main(["execute", "--plan", str(path), "--out", str(tmp_path / "a"), "--no-video"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert f"{path}: not UTF-8 text (byte 0xe9" in err
    assert "not UTF-8" in json.loads((tmp_path / "a" / "summary.json").read_text())["refused"]
    cfg = tmp_path / "executor.yaml"
    cfg.write_bytes(b"\x00\x01\x02 binary")
    good = write_plan_json(push_pull_plan("push_left_to_right"), tmp_path / "good.json")
    rc = main(["execute", "--plan", str(good), "--config", str(cfg), "--out",
               str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert rc == 2 and f"{cfg}: binary data (a NUL byte at offset 0)" in err


def test_unwritable_out_is_refused_first(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    plan = push_pull_plan("push_left_to_right")
    assert _execute(tmp_path, plan, out="a_file/run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {blocker / 'run'}: cannot write there" in err


def test_plan_whose_wrist_goes_below_the_table_is_reported_before_motion(executor):
    """A recorded policy plan (``tests/fixtures/plans/push_wrist_below_table.json``: hard start 0
    rolled out with the push-left-to-right policy shipped before issue 13's retraining, commit
    ``3496889``): after the push the hand turns up and the Panda's wrist (link 6) goes below the
    table plane. The simulated Panda still executes it (sometimes with a tracking error above
    the limit while the action check passes), so it is reported before any motion rather than
    refused."""
    from pathlib import Path

    from real2sim_core.plan import read_plan_json

    plan = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / \
        "push_wrist_below_table.json"
    xp = executor.plan_joint_trajectory(read_plan_json(plan), (0.5, 0.0, -1.5708))
    (warning,) = xp.warnings
    assert warning.startswith("collision with the table: panda_link6 reaches ")
    assert "mm below the table surface at plan waypoint" in warning
    assert xp.summary()["collision_check"]["min_table_clearance_m"] < -0.01
