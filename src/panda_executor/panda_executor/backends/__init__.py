"""Executor backends behind one interface, looked up by name."""

from __future__ import annotations

from real2sim_core.errors import UnknownNameError

from ..config import BACKEND_NAMES
from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = ["Backend", "ExecutionResult", "ExecutionStatus", "Progress", "BACKENDS",
           "backend_names", "make_backend"]


def _sim():
    from .sim import SimBackend

    return SimBackend


def _moveit():
    from .moveit import MoveItBackend

    return MoveItBackend


def _ros2_control():
    from .ros2_control import Ros2ControlBackend

    return Ros2ControlBackend


#: name -> loader of the backend class (modules are imported on demand).
BACKENDS = {"sim": _sim, "ros2_control": _ros2_control, "moveit": _moveit}
assert tuple(sorted(BACKENDS)) == BACKEND_NAMES, "config.BACKEND_NAMES and BACKENDS differ"


def backend_names() -> list[str]:
    return sorted(BACKENDS)


def make_backend(name: str, config, **kwargs) -> Backend:
    """Create backend ``name`` with the executor ``config``.

    Raises:
        UnknownNameError: listing the known backends.
    """
    if name not in BACKENDS:
        raise UnknownNameError("backend", name, BACKENDS)
    return BACKENDS[name]()(config, **kwargs)
