"""panda_executor: Cartesian gripper plans -> Panda joint trajectories -> execution.

Paper section 5.2: numerical IK tracking of the gripper path, a time-parameterised joint
trajectory within the Panda's limits, a quantized gripper, and execution on a simulated Panda
(pybullet) or a real one (moveit_py + franka_gripper). Plain Python: imports no rclpy.

Typical use::

    from panda_executor import Executor, make_backend, load_executor_config
    cfg = load_executor_config()
    xplan = Executor(cfg).plan_joint_trajectory(plan, object_pose=(0.5, 0.0, 0.0))
    result = make_backend("sim", cfg, video_path="out.mp4").execute(xplan)
"""

from .backends import (
    BACKENDS,
    Backend,
    ExecutionResult,
    ExecutionStatus,
    Progress,
    backend_names,
    make_backend,
)
from .config import ExecutorConfig, load_executor_config
from .errors import ExecutorInputError, LimitError, UnreachableError, WorkspaceError
from .executor import Chunk, ExecutionPlan, Executor, ObjectSpec
from .gripper import GraspGoal, GripperCommand, MoveGoal, gripper_commands, quantize_openings
from .ik import IKSolver, PathTrackingResult, track_path
from .kinematics import PandaKinematics
from .timing import JointTrajectory, time_parameterize

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "Backend",
    "Chunk",
    "ExecutionPlan",
    "ExecutionResult",
    "ExecutionStatus",
    "Executor",
    "ExecutorConfig",
    "ExecutorInputError",
    "GraspGoal",
    "GripperCommand",
    "IKSolver",
    "JointTrajectory",
    "LimitError",
    "MoveGoal",
    "ObjectSpec",
    "PandaKinematics",
    "PathTrackingResult",
    "Progress",
    "UnreachableError",
    "WorkspaceError",
    "backend_names",
    "gripper_commands",
    "load_executor_config",
    "make_backend",
    "quantize_openings",
    "time_parameterize",
    "track_path",
]
