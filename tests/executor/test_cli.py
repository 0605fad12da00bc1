"""``real2sim execute`` smoke test and refusals through the CLI."""

from __future__ import annotations

import json

import pytest
from panda_executor.handmade import push_pull_plan
from real2sim_core.cli import main
from real2sim_core.plan import write_plan_json


@pytest.fixture()
def plan_file(tmp_path):
    return write_plan_json(push_pull_plan("push_right_to_left"), tmp_path / "plan.json")


def test_execute_sim_writes_outputs(tmp_path, plan_file, capsys):
    out = tmp_path / "run"
    rc = main(["execute", "--plan", str(plan_file), "--action", "push_right_to_left",
               "--object-pose", "0.5", "0.0", "0.0", "--backend", "sim", "--out", str(out),
               "--set", "sim.video_width=96", "--set", "sim.video_height=72",
               "--set", "sim.video_fps=4"])
    assert rc == 0, capsys.readouterr()
    for name in ("joint_trajectory.csv", "summary.json", "execution.mp4",
                 "executed_trajectory.csv"):
        assert (out / name).stat().st_size > 0
    s = json.loads((out / "summary.json").read_text())
    assert s["success"] is True and s["execution"]["check"]["success"] is True
    assert s["ik"]["plan_only"]["position_error_max_mm"] < 1.0
    assert len(s["joint_limit_margins"]["per_joint_rad"]) == 7
    header = (out / "joint_trajectory.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["time", "segment", "plan_waypoint", "gripper_closed"]
    assert "panda_joint7_pos" in header and "ik_position_error_mm" in header


def test_execute_refuses_off_table_object(tmp_path, plan_file, capsys):
    rc = main(["execute", "--plan", str(plan_file), "--object-pose", "2.0", "0", "0",
               "--out", str(tmp_path / "x"), "--no-video"])
    assert rc == 2
    assert "off the table" in capsys.readouterr().err
    s = json.loads((tmp_path / "x" / "summary.json").read_text())  # says why, nothing moved
    assert s["success"] is False and "off the table" in s["refused"]
    assert not (tmp_path / "x" / "joint_trajectory.csv").exists()


def test_execute_bad_parameter_names_the_field(tmp_path, plan_file, capsys):
    rc = main(["execute", "--plan", str(plan_file), "--out", str(tmp_path / "y"),
               "--set", "gripper.force=500"])
    assert rc == 2
    assert "GripperConfig.force" in capsys.readouterr().err
