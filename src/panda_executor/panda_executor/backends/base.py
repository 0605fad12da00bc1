"""The backend interface: execute an :class:`~panda_executor.executor.ExecutionPlan`.

A backend runs the plan's chunks in order (gripper command, then arm trajectory), reports
progress through a callback and stops when the cancellation hook says so. Run-time failures
(a controller aborts, an action server is missing) are *returned* as a FAILED result with a
reason; only wrong input raises.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ExecutionStatus", "ExecutionResult", "Progress", "Backend", "ProgressCallback",
           "CancelHook"]


class ExecutionStatus(enum.Enum):
    """Outcome of an execution."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class Progress:
    """Progress report: ``fraction`` of the arm motion time done, the current chunk and time."""

    fraction: float
    chunk: int
    chunk_name: str
    time: float


ProgressCallback = Callable[[Progress], None]
CancelHook = Callable[[], bool]


@dataclass
class ExecutionResult:
    """What a backend returns.

    Attributes:
        status: succeeded / failed / canceled.
        message: one line on what happened (the reason when not succeeded).
        duration: execution time, s (simulated time for ``sim``).
        check: the action check (METHOD section 8) as a dict, when the backend can judge it.
        details: backend-specific data (tracking errors, paths; ``recording``: arrays of the
            executed trajectory, left out of :meth:`to_dict`).
    """

    status: ExecutionStatus
    message: str = ""
    duration: float = 0.0
    check: dict | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is ExecutionStatus.SUCCEEDED

    @property
    def check_passed(self) -> bool:
        """Whether there is an action check and it passed."""
        return bool(self.check and self.check.get("success"))

    def to_dict(self) -> dict:
        return {"status": self.status.value, "message": self.message,
                "duration_s": self.duration, "check": self.check,
                **{k: v for k, v in self.details.items() if k != "recording" and _plain(v)}}


def _plain(v) -> bool:
    return isinstance(v, (str, int, float, bool, type(None), list, dict))


class Backend(ABC):
    """Executes execution plans on some robot (simulated or real)."""

    name: str = ""

    @abstractmethod
    def execute(self, plan, *, progress: ProgressCallback | None = None,
                cancel: CancelHook | None = None) -> ExecutionResult:
        """Run ``plan`` (an :class:`~panda_executor.executor.ExecutionPlan`).

        Args:
            plan: the checked, timed plan.
            progress: called with :class:`Progress` during execution.
            cancel: polled during execution; returning True stops the robot (CANCELED).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (simulator, ROS nodes)."""
