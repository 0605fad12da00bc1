"""Executor exceptions: input the executor refuses before any motion.

All subclass :class:`real2sim_core.errors.InputError` (a ``ValueError``), so callers (the CLI, a
ROS node) can catch one type; the message names the offending waypoints and the limit.
"""

from __future__ import annotations

from real2sim_core.errors import InputError

__all__ = ["ExecutorInputError", "WorkspaceError", "UnreachableError", "LimitError",
           "CollisionError"]


class ExecutorInputError(InputError):
    """A plan, object pose or parameter the executor refuses (nothing has moved)."""


class WorkspaceError(ExecutorInputError):
    """The object pose or a gripper pose is off the table or outside the robot's workspace."""


class UnreachableError(ExecutorInputError):
    """IK found no joint configuration within tolerance (or only with a discontinuity)."""


class LimitError(ExecutorInputError):
    """The joint trajectory would leave the joint position, velocity or acceleration limits."""


class CollisionError(ExecutorInputError):
    """The arm would hit the table or an object before the gripper reaches it."""
