"""Gripper quantization (hysteresis, dwell) and franka_gripper goals."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.config import GripperConfig
from panda_executor.gripper import GraspGoal, MoveGoal, gripper_commands, quantize_openings
from real2sim_core.config import ConfigError


def test_hysteresis_ignores_noise_inside_the_band():
    t = np.arange(60) / 12.0
    o = np.full(60, 0.07)
    o[10:50] = 0.04
    o[20:40] = 0.04 + 0.015 * (np.arange(20) % 2)  # 0.04 / 0.055: inside [0.05, 0.06] band
    closed = quantize_openings(t, o, 0.05, 0.06, 0.0)
    assert not closed[:10].any()
    assert closed[10:50].all()
    assert not closed[50:].any()


def test_min_dwell_suppresses_short_switches():
    t = np.arange(48) / 12.0
    o = np.full(48, 0.07)
    o[12:14] = 0.0  # 2 frames closed, then open again
    closed = quantize_openings(t, o, 0.05, 0.06, min_dwell=0.5)
    # closes at 12, must stay closed >= 0.5 s (6 frames) before reopening
    assert closed[12:18].all()
    assert not closed[19:].any()
    assert int(np.sum(np.diff(closed.astype(int)) != 0)) == 2


def test_commands_map_to_franka_goals():
    cfg = GripperConfig()
    t = np.arange(36) / 12.0
    o = np.full(36, 0.075)
    o[12:30] = 0.035
    cmds = gripper_commands(t, o, cfg)
    assert [c.closed for c in cmds] == [False, True, False]
    assert isinstance(cmds[0].goal, MoveGoal) and cmds[0].goal.width == pytest.approx(0.08)
    g = cmds[1].goal
    assert isinstance(g, GraspGoal)
    assert g.width == pytest.approx(0.07) and g.force == cfg.force and g.speed == cfg.speed
    assert g.to_dict() == {"width": g.width, "epsilon": {"inner": 0.01, "outer": 0.01},
                           "speed": cfg.speed, "force": cfg.force}
    assert cmds[1].index == 12 and cmds[1].time == pytest.approx(1.0)


def test_grasp_width_clipped_to_the_hand():
    cfg = GripperConfig(close_below=0.05)
    cmds = gripper_commands(np.arange(5) / 12.0, np.full(5, 0.045), cfg)
    assert cmds[0].closed and cmds[0].goal.width == pytest.approx(0.08)


def test_band_must_be_a_band():
    with pytest.raises(ConfigError, match="open_above"):
        GripperConfig(close_below=0.06, open_above=0.05)
