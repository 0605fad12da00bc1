"""Executor backends behind one interface, looked up by name."""

from __future__ import annotations

from real2sim_core.errors import UnknownNameError

from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = ["Backend", "ExecutionResult", "ExecutionStatus", "Progress", "BACKENDS",
           "backend_names", "make_backend"]


def _sim():
    from .sim import SimBackend

    return SimBackend


def _moveit():
    from .moveit import MoveItBackend

    return MoveItBackend


#: name -> loader of the backend class (modules are imported on demand).
BACKENDS = {"sim": _sim, "moveit": _moveit}


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
