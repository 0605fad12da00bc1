"""Gripper quantization: the policy's continuous opening -> open/grasp commands.

The Franka hand cannot follow a continuous opening in real time, so the plan's opening is turned
into a few discrete commands (paper section 5.2): a Schmitt trigger (close below
``close_below``, open above ``open_above``) with a minimum dwell time in each state. An *open*
command maps to franka_gripper's ``move`` action (width, speed); a *close* command to ``grasp``
(width, epsilon inner/outer, speed, force). The goal dataclasses map 1:1 to
``franka_msgs/action/Move.Goal`` and ``franka_msgs/action/Grasp.Goal``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import panda
from .config import GripperConfig

__all__ = [
    "MoveGoal",
    "GraspGoal",
    "HomingGoal",
    "GripperCommand",
    "quantize_openings",
    "gripper_commands",
]


@dataclass(frozen=True)
class MoveGoal:
    """``franka_msgs/action/Move`` goal: move the fingers to ``width`` (m) at ``speed`` (m/s)."""

    width: float
    speed: float

    action = "move"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GraspGoal:
    """``franka_msgs/action/Grasp`` goal (m, m/s, N).

    The grasp succeeds when the final width is within ``[width - epsilon_inner,
    width + epsilon_outer]``; ``epsilon`` maps to ``franka_msgs/msg/GraspEpsilon``.
    """

    width: float
    epsilon_inner: float
    epsilon_outer: float
    speed: float
    force: float

    action = "grasp"

    def to_dict(self) -> dict:
        return {"width": self.width,
                "epsilon": {"inner": self.epsilon_inner, "outer": self.epsilon_outer},
                "speed": self.speed, "force": self.force}


@dataclass(frozen=True)
class HomingGoal:
    """``franka_msgs/action/Homing`` goal (empty)."""

    action = "homing"

    def to_dict(self) -> dict:
        return {}


@dataclass(frozen=True)
class GripperCommand:
    """A gripper command at plan waypoint ``index`` (time ``time`` s): ``closed`` or open."""

    index: int
    time: float
    closed: bool
    goal: MoveGoal | GraspGoal

    def to_dict(self) -> dict:
        return {"index": self.index, "time": self.time, "closed": self.closed,
                "action": self.goal.action, "goal": self.goal.to_dict()}


def quantize_openings(times, openings, close_below: float, open_above: float,
                      min_dwell: float) -> np.ndarray:
    """Binary closed state per waypoint from a continuous opening, with hysteresis and dwell.

    Args:
        times: ``(T,)`` s.
        openings: ``(T,)`` per-finger opening, m.
        close_below: switch to closed when the opening is below this, m.
        open_above: switch to open when the opening is above this, m.
        min_dwell: a state is held at least this long before the next switch, s.

    Returns:
        ``(T,)`` bool, True = closed.
    """
    times = np.asarray(times, dtype=float)
    o = np.asarray(openings, dtype=float)
    closed = np.zeros(len(o), dtype=bool)
    if len(o) == 0:
        return closed
    state = bool(o[0] < 0.5 * (close_below + open_above))
    t_switch = -np.inf
    for k in range(len(o)):
        want = state
        if state and o[k] > open_above:
            want = False
        elif not state and o[k] < close_below:
            want = True
        if want != state and (k == 0 or times[k] - t_switch >= min_dwell):
            state = want
            t_switch = times[k]
        elif k == 0:
            t_switch = times[0]
        closed[k] = state
    return closed


def gripper_commands(times, openings, cfg: GripperConfig) -> list[GripperCommand]:
    """The franka_gripper commands of a plan: one at the start, one at each switch.

    The grasp width is ``cfg.grasp_width`` or, when that is negative, twice the median opening
    over the closed interval (clipped to the Franka hand's range).
    """
    times = np.asarray(times, dtype=float)
    o = np.asarray(openings, dtype=float)
    closed = quantize_openings(times, o, cfg.close_below, cfg.open_above, cfg.min_dwell)
    cmds = []
    for k in range(len(closed)):
        if k > 0 and closed[k] == closed[k - 1]:
            continue
        if closed[k]:
            end = k
            while end + 1 < len(closed) and closed[end + 1]:
                end += 1
            width = cfg.grasp_width if cfg.grasp_width >= 0 else \
                float(np.clip(2.0 * np.median(o[k:end + 1]), 0.0, panda.MAX_FINGER_WIDTH))
            goal = GraspGoal(width, cfg.epsilon_inner, cfg.epsilon_outer, cfg.speed, cfg.force)
        else:
            goal = MoveGoal(cfg.open_width, cfg.speed)
        cmds.append(GripperCommand(k, float(times[k]), bool(closed[k]), goal))
    return cmds
