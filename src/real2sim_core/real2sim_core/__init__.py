"""real2sim_core: what the Real2Sim packages share.

The state-trajectory data model, the action registry, rotations/frames, gripper plans,
typed configuration and message conversion. Imports no rclpy.
"""

from .actions import ACTIONS, ActionSpec, action_names, get_action
from .errors import InputError, Real2SimError, TrajectoryFormatError, UnknownNameError
from .plan import GripperPlan, read_plan_json, write_plan_json
from .trajectory import (
    ALIGN_SCALE,
    ALIGNED_FRAME_ID,
    RAW_FRAME_ID,
    Camera,
    StateTrajectory,
    align,
    read_states_csv,
    write_states_csv,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIONS",
    "ALIGN_SCALE",
    "ALIGNED_FRAME_ID",
    "RAW_FRAME_ID",
    "ActionSpec",
    "Camera",
    "GripperPlan",
    "InputError",
    "Real2SimError",
    "StateTrajectory",
    "TrajectoryFormatError",
    "UnknownNameError",
    "action_names",
    "align",
    "get_action",
    "read_plan_json",
    "read_states_csv",
    "write_plan_json",
    "write_states_csv",
]
