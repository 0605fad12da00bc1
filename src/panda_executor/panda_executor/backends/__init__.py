"""Executor backends behind one interface, looked up by name in :data:`BACKENDS`."""

from __future__ import annotations

from real2sim_core.registry import load_entry, names

from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = ["Backend", "ExecutionResult", "ExecutionStatus", "Progress", "BACKENDS",
           "ROS_BACKENDS", "backend_names", "make_backend"]

#: name -> ``"module:Class"`` of the backend (modules are imported on demand).
BACKENDS = {
    "sim": "panda_executor.backends.sim:SimBackend",
    "ros2_control": "panda_executor.backends.ros2_control:Ros2ControlBackend",
    "moveit": "panda_executor.backends.moveit:MoveItBackend",
}
#: the backends that talk to ROS controllers: they are handed the node, never publish joint
#: states, and live as long as the node (``sim`` makes a new pybullet world per plan).
ROS_BACKENDS = ("ros2_control", "moveit")


def backend_names() -> list[str]:
    """The registered backend names, sorted."""
    return names(BACKENDS)


def make_backend(name: str, config, **kwargs) -> Backend:
    """Create backend ``name`` with the executor ``config``.

    Raises:
        UnknownNameError: listing the known backends.
    """
    return load_entry("backend", name, BACKENDS)(config, **kwargs)
