"""Typed configuration of the Panda executor (``config/executor.yaml``, ``panda_executor``).

Every dataclass validates itself on construction and raises
:class:`real2sim_core.config.ConfigError` naming the field, the value and what is allowed.
Load with :func:`load_executor_config`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from real2sim_core.config import ConfigError, check_choice, check_range, load_config

from . import panda
from .backends import backend_names

__all__ = [
    "IKConfig",
    "TimingConfig",
    "GripperConfig",
    "WorkspaceConfig",
    "SimConfig",
    "RobotConfig",
    "MoveItConfig",
    "ExecutorConfig",
    "BACKEND_NAMES",
    "load_executor_config",
    "CONFIG_FILE",
    "FLIP_CHOICES",
    "TIMING_MODES",
]

#: the parameter file (in ``config/``) and its section
CONFIG_FILE = "executor.yaml"
FLIP_CHOICES = ("best", "never", "always")
#: executor backend names (the registry is :data:`panda_executor.backends.BACKENDS`)
BACKEND_NAMES = tuple(backend_names())
GRIPPER_INTERFACES = ("franka", "gripper_command", "none")
MOVEIT_PIPELINES = ("ompl", "pilz_industrial_motion_planner")
TIMING_MODES = ("stretch", "strict")


@dataclass
class IKConfig:
    """Damped-least-squares IK tracking of the gripper path.

    Attributes:
        position_tolerance: accepted TCP position error per waypoint, m.
        orientation_tolerance_deg: accepted TCP orientation error per waypoint, deg.
        convergence_fraction: iterate until the error is below this fraction of the tolerances.
        max_iterations: DLS iterations per waypoint.
        damping: DLS damping (lambda), in m (rad) units of the task error.
        max_step_position: largest Cartesian correction per iteration, m.
        max_step_rotation: largest rotational correction per iteration, rad.
        nullspace_gain: gain of the null-space pull toward the neutral posture (per iteration).
        limit_margin: joints are never commanded closer than this to the datasheet limits, rad.
        limit_buffer: distance to a limit below which the null-space pushes away from it, rad.
        restarts: extra random seeds tried for the first waypoint (and when tracking fails).
        max_joint_step: largest joint change between consecutive waypoints, rad (continuity).
        max_waypoint_step: the tracked path is resampled (straight lines, constant-rate
            rotation) so that consecutive waypoints are at most this far apart, m.
        max_waypoint_rotation: ... and turn by at most this much, rad.
        max_interpolation_deviation: largest TCP deviation of the joint-space interpolation
            between consecutive waypoints from the straight Cartesian segment, m.
        finger_flip: the parallel gripper is symmetric under a half turn about its axis:
            ``"best"`` tracks both and keeps the one with the larger joint-limit margin,
            ``"never"``/``"always"`` fix the choice.
        seed: random seed of the restarts.
    """

    position_tolerance: float = 0.001
    orientation_tolerance_deg: float = 1.0
    convergence_fraction: float = 0.05
    max_iterations: int = 60
    damping: float = 0.02
    max_step_position: float = 0.05
    max_step_rotation: float = 0.3
    nullspace_gain: float = 0.05
    limit_margin: float = 0.02
    limit_buffer: float = 0.3
    restarts: int = 16
    max_joint_step: float = 0.3
    max_waypoint_step: float = 0.01
    max_waypoint_rotation: float = 0.1
    max_interpolation_deviation: float = 0.002
    finger_flip: str = "best"
    seed: int = 0

    def __post_init__(self):
        check_range(self, "position_tolerance", 0.0, 0.05, lo_open=True)
        check_range(self, "orientation_tolerance_deg", 0.0, 30.0, lo_open=True)
        check_range(self, "convergence_fraction", 0.0, 1.0, lo_open=True)
        check_range(self, "max_iterations", 1, 10000)
        check_range(self, "damping", 0.0, 1.0)
        check_range(self, "max_step_position", 0.0, 1.0, lo_open=True)
        check_range(self, "max_step_rotation", 0.0, math.pi, lo_open=True)
        check_range(self, "nullspace_gain", 0.0, 1.0)
        check_range(self, "limit_margin", 0.0, 0.5)
        check_range(self, "limit_buffer", 0.0, 1.5)
        check_range(self, "restarts", 0, 1000)
        check_range(self, "max_joint_step", 0.0, math.pi, lo_open=True)
        check_range(self, "max_waypoint_step", 0.001, 0.2)
        check_range(self, "max_waypoint_rotation", 0.01, 1.0)
        check_range(self, "max_interpolation_deviation", 0.0, 0.1, lo_open=True)
        check_choice(self, "finger_flip", FLIP_CHOICES)

    @property
    def orientation_tolerance(self) -> float:
        """Accepted orientation error, rad."""
        return math.radians(self.orientation_tolerance_deg)

    @property
    def flips(self) -> list[bool]:
        """The finger orientations to try, in order (True: turned by half a turn)."""
        return {"never": [False], "always": [True], "best": [False, True]}[self.finger_flip]


@dataclass
class TimingConfig:
    """Time-parameterisation and the moves added around the plan.

    Attributes:
        velocity_scaling: fraction of the datasheet joint velocity limits that may be used.
        acceleration_scaling: fraction of the datasheet joint acceleration limits.
        mode: ``"stretch"`` slows down the segments that would exceed the limits (same path,
            later times); ``"strict"`` refuses a plan that exceeds them at its own timing.
        max_stretch: refuse the plan when it would have to last more than this many times its
            own duration.
        move_to_start_velocity_scaling: velocity fraction of the joint move from the current
            (home) configuration to the pre-approach pose.
        approach_height: the pre-approach pose is the plan's first pose lifted by this, m
            (0 = start the plan directly).
        approach_speed: speed of the straight approach from the pre-approach pose, m/s.
        approach_step: waypoint spacing of the approach line, m.
    """

    velocity_scaling: float = 0.8
    acceleration_scaling: float = 0.5
    mode: str = "stretch"
    max_stretch: float = 3.0
    move_to_start_velocity_scaling: float = 0.3
    approach_height: float = 0.1
    approach_speed: float = 0.1
    approach_step: float = 0.01

    def __post_init__(self):
        check_range(self, "velocity_scaling", 0.0, 1.0, lo_open=True)
        check_range(self, "acceleration_scaling", 0.0, 1.0, lo_open=True)
        check_choice(self, "mode", TIMING_MODES)
        check_range(self, "max_stretch", 1.0, 1000.0)
        check_range(self, "move_to_start_velocity_scaling", 0.0, 1.0, lo_open=True)
        check_range(self, "approach_height", 0.0, 0.5)
        check_range(self, "approach_speed", 0.0, 1.0, lo_open=True)
        check_range(self, "approach_step", 0.001, 0.1)


@dataclass
class GripperConfig:
    """Quantization of the plan's continuous opening and the franka_gripper goals.

    Openings are per finger (distance from the centre, the plan's unit); widths are the total
    distance between the fingers (franka_gripper's unit).

    Attributes:
        close_below: the gripper closes when the opening falls below this, m.
        open_above: it opens again when the opening rises above this, m (> close_below).
        min_dwell: a state is held at least this long before the next switch, s.
        open_width: width of the ``move`` goal that opens the gripper, m.
        grasp_width: width of the ``grasp`` goal, m; negative = twice the plan's median
            opening while closed (clipped to [0, max width]).
        epsilon_inner, epsilon_outer: grasp tolerances, m.
        speed: finger speed, m/s.
        force: grasp force, N.
    """

    close_below: float = 0.05
    open_above: float = 0.06
    min_dwell: float = 0.5
    open_width: float = panda.MAX_FINGER_WIDTH
    grasp_width: float = -1.0
    epsilon_inner: float = 0.01
    epsilon_outer: float = 0.01
    speed: float = panda.GRIPPER_DEFAULT_SPEED
    force: float = panda.GRIPPER_DEFAULT_FORCE

    def __post_init__(self):
        check_range(self, "close_below", 0.0, 0.2)
        check_range(self, "open_above", 0.0, 0.2)
        if self.open_above <= self.close_below:
            raise ConfigError(
                f"GripperConfig.open_above = {self.open_above!r} must be greater than "
                f"close_below = {self.close_below!r} (the hysteresis band)"
            )
        check_range(self, "min_dwell", 0.0, 10.0)
        check_range(self, "open_width", 0.0, panda.MAX_FINGER_WIDTH)
        check_range(self, "grasp_width", None, panda.MAX_FINGER_WIDTH)
        check_range(self, "epsilon_inner", 0.0, panda.MAX_FINGER_WIDTH)
        check_range(self, "epsilon_outer", 0.0, panda.MAX_FINGER_WIDTH)
        check_range(self, "speed", 0.0, panda.GRIPPER_MAX_SPEED, lo_open=True)
        check_range(self, "force", 0.0, panda.GRIPPER_MAX_CONTINUOUS_FORCE, lo_open=True)


@dataclass
class WorkspaceConfig:
    """Table and reachable workspace, in ``panda_link0``.

    Attributes:
        table_height: z of the table surface, m (the aligned frame's z = 0).
        table_x, table_y: the table area where an object may stand, ``[min, max]`` m.
        min_radius, max_radius: allowed horizontal distance of the TCP and of the object from
            the base's z axis, m.
        min_tcp_height: lowest TCP height above the table, m.
        max_tcp_height: highest TCP height above the table, m.
    """

    table_height: float = 0.0
    table_x: list[float] = field(default_factory=lambda: [0.25, 0.8])
    table_y: list[float] = field(default_factory=lambda: [-0.5, 0.5])
    min_radius: float = 0.25
    max_radius: float = 0.8
    min_tcp_height: float = 0.005
    max_tcp_height: float = 0.8

    def __post_init__(self):
        check_range(self, "table_height", -1.0, 1.0)
        for name in ("table_x", "table_y"):
            v = getattr(self, name)
            if len(v) != 2 or not v[0] < v[1]:
                raise ConfigError(f"WorkspaceConfig.{name} = {v!r} must be [min, max], min < max")
        check_range(self, "min_radius", 0.0, 2.0)
        check_range(self, "max_radius", 0.0, panda.MAX_REACH + 0.2)
        if self.max_radius <= self.min_radius:
            raise ConfigError(
                f"WorkspaceConfig.max_radius = {self.max_radius!r} must exceed min_radius = "
                f"{self.min_radius!r}"
            )
        check_range(self, "min_tcp_height", -0.1, 1.0)
        check_range(self, "max_tcp_height", 0.0, 2.0, lo_open=True)


@dataclass
class SimConfig:
    """The pybullet backend.

    Attributes:
        time_step: physics step, s.
        record_hz: rate of the recorded object/hand trajectory that the action check judges.
        video: write ``execution.mp4``.
        video_fps: frames per second of the video (frames are rendered at this rate).
        video_width, video_height: pixels.
        camera_distance, camera_yaw_deg, camera_pitch_deg: fixed camera around the object.
        table_friction: lateral friction of the table.
        object_mass: kg; object_friction: lateral friction of the cylinders.
        object_height, object_radius: default cylinder sizes, m, when neither the plan nor the
            command line gives them.
        position_gain, velocity_gain: pybullet POSITION_CONTROL gains of the arm joints.
        settle_time: simulated time after the last command, s.
        gripper_settle_time: extra time the arm waits after each gripper command, s.
        max_tracking_error: a joint tracking error above this marks the run as failed, rad.
    """

    time_step: float = 1.0 / 240.0
    record_hz: float = 12.0
    video: bool = True
    video_fps: float = 12.0
    video_width: int = 320
    video_height: int = 240
    camera_distance: float = 1.1
    camera_yaw_deg: float = 30.0
    camera_pitch_deg: float = -25.0
    table_friction: float = 0.3
    object_mass: float = 1.0
    object_friction: float = 1.0
    object_height: float = 0.07
    object_radius: float = 0.045
    position_gain: float = 0.3
    velocity_gain: float = 1.0
    settle_time: float = 0.5
    gripper_settle_time: float = 0.1
    max_tracking_error: float = 0.1

    def __post_init__(self):
        check_range(self, "time_step", 1e-4, 0.05)
        check_range(self, "record_hz", 1.0, 1000.0)
        check_range(self, "video_fps", 1.0, 60.0)
        check_range(self, "video_width", 16, 1920)
        check_range(self, "video_height", 16, 1080)
        check_range(self, "camera_distance", 0.1, 10.0)
        check_range(self, "camera_pitch_deg", -89.0, 89.0)
        check_range(self, "table_friction", 0.0, 5.0)
        check_range(self, "object_mass", 0.0, 50.0, lo_open=True)
        check_range(self, "object_friction", 0.0, 5.0)
        check_range(self, "object_height", 0.005, 0.5)
        check_range(self, "object_radius", 0.005, 0.3)
        check_range(self, "position_gain", 0.0, 1.0, lo_open=True)
        check_range(self, "velocity_gain", 0.0, 10.0)
        check_range(self, "settle_time", 0.0, 10.0)
        check_range(self, "gripper_settle_time", 0.0, 5.0)
        check_range(self, "max_tracking_error", 0.0, 3.0, lo_open=True)


@dataclass
class RobotConfig:
    """The ROS 2 controllers of a real or simulated Panda (``ros2_control`` and ``moveit``
    backends): the arm through its FollowJointTrajectory controller, the hand through
    franka_gripper's actions (real robot) or a GripperCommand controller (simulation).

    Attributes:
        arm_action: ``control_msgs/action/FollowJointTrajectory`` action of the arm controller.
        gripper_interface: ``"franka"`` (``franka_msgs/action/Move`` and ``Grasp`` under
            ``gripper_namespace``) or ``"gripper_command"`` (``control_msgs/action/
            GripperCommand`` at ``gripper_command_action``; position = one finger's opening) or
            ``"none"`` (no hand: the gripper commands are skipped and listed in the result's
            notes -- franka_ros2's fake hardware has no gripper actions).
        gripper_namespace: namespace of franka_gripper's actions (``<ns>/move``, ``<ns>/grasp``).
        gripper_command_action: the GripperCommand action (e.g. MoveIt's Panda config:
            ``/panda_hand_controller/gripper_cmd``).
        joint_states_topic: where the robot's measured joint states are read (never written by
            these backends).
        server_timeout: seconds to wait for an action server and for a goal to be accepted.
        gripper_timeout: seconds to wait for a gripper result.
        trajectory_margin: seconds beyond a trajectory's duration before its result counts as
            late (the arm is then stopped).
        state_timeout: seconds to wait for a joint state before the first motion.
        start_tolerance: largest joint difference between the measured state and a
            trajectory's first point, rad (MoveIt's ``allowed_start_tolerance`` in the moveit
            backend as well).
    """

    arm_action: str = "/panda_arm_controller/follow_joint_trajectory"
    gripper_interface: str = "franka"
    gripper_namespace: str = "/panda_gripper"
    gripper_command_action: str = "/panda_hand_controller/gripper_cmd"
    joint_states_topic: str = "/joint_states"
    server_timeout: float = 5.0
    gripper_timeout: float = 10.0
    trajectory_margin: float = 2.0
    state_timeout: float = 2.0
    start_tolerance: float = 0.01

    def __post_init__(self):
        for name in ("arm_action", "gripper_namespace", "gripper_command_action",
                     "joint_states_topic"):
            if not getattr(self, name):
                raise ConfigError(f"RobotConfig.{name} must not be empty")
        check_choice(self, "gripper_interface", GRIPPER_INTERFACES)
        check_range(self, "server_timeout", 0.0, 600.0, lo_open=True)
        check_range(self, "gripper_timeout", 0.0, 600.0, lo_open=True)
        check_range(self, "trajectory_margin", 0.0, 600.0)
        check_range(self, "state_timeout", 0.0, 600.0, lo_open=True)
        check_range(self, "start_tolerance", 0.0, 0.5, lo_open=True)


@dataclass
class MoveItConfig:
    """The moveit backend: moveit_py (one ``MoveItPy`` for the node's life) on top of the
    ``robot`` controllers.

    Attributes:
        node_name: name of the MoveItPy (rclcpp) node; its parameters (robot description,
            planning pipelines, ...) come from the launch file's ``--params-file``.
        arm_group: MoveIt planning group of the arm.
        plan_to_start: plan the move to the first configuration with MoveIt (collision-aware);
            otherwise it is a joint move from the measured state like the ros2_control backend.
        start_pipeline: planning pipeline of that move (``ompl`` or
            ``pilz_industrial_motion_planner``).
        start_planner_id: planner of the pipeline ("" = the pipeline's default; Pilz: ``PTP``).
        planning_time: seconds the planner may use.
        check_collisions: check every point of the executor's own IK trajectory against the
            planning scene (table, objects, self) before it is sent.
        touch_links: links allowed to touch the objects (pushing is contact).
        table_margin: the table box extends this far beyond ``workspace.table_x/table_y``, m.
        table_thickness: m.
        display_topic: ``moveit_msgs/DisplayTrajectory`` topic (RViz MotionPlanning's default).
    """

    node_name: str = "real2sim_moveit_py"
    arm_group: str = panda.ARM_GROUP
    plan_to_start: bool = True
    start_pipeline: str = "ompl"
    start_planner_id: str = ""
    planning_time: float = 5.0
    check_collisions: bool = True
    touch_links: list[str] = field(default_factory=lambda: [
        panda.HAND_LINK, "panda_leftfinger", "panda_rightfinger"])
    table_margin: float = 0.2
    table_thickness: float = 0.02
    display_topic: str = "/display_planned_path"

    def __post_init__(self):
        if not self.node_name or not self.arm_group or not self.display_topic:
            raise ConfigError("MoveItConfig.node_name, arm_group and display_topic must not be "
                              "empty")
        check_choice(self, "start_pipeline", MOVEIT_PIPELINES)
        check_range(self, "planning_time", 0.0, 600.0, lo_open=True)
        check_range(self, "table_margin", 0.0, 2.0)
        check_range(self, "table_thickness", 0.001, 0.5)


@dataclass
class ExecutorConfig:
    """Everything the executor needs.

    Attributes:
        backend: registry name of the backend: ``"sim"`` (pybullet Panda), ``"ros2_control"``
            (the arm and gripper controllers directly) or ``"moveit"`` (MoveIt on top of them).
        object_pose: default ``[x, y, yaw]`` of the (first) object in ``panda_link0`` (m, rad):
            the aligned frame's origin.
        home: joint configuration the robot starts from (sim) / is assumed in, rad.
        out_dir: ``executor_node``'s folder for the last goal's ``joint_trajectory.csv``,
            ``summary.json`` (and, sim, ``execution.mp4``); ``""`` = its working directory; it
            must be writable (checked at start-up, on set and per goal). ``real2sim execute``
            writes into its ``--out`` instead.
    """

    backend: str = "sim"
    object_pose: list[float] = field(default_factory=lambda: [0.55, 0.0, 1.5708])
    home: list[float] = field(default_factory=lambda: [float(v) for v in panda.Q_READY])
    ik: IKConfig = field(default_factory=IKConfig)
    timing: TimingConfig = field(default_factory=TimingConfig)
    gripper: GripperConfig = field(default_factory=GripperConfig)
    workspace: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    robot: RobotConfig = field(default_factory=RobotConfig)
    moveit: MoveItConfig = field(default_factory=MoveItConfig)
    out_dir: str = ""

    def __post_init__(self):
        check_choice(self, "backend", BACKEND_NAMES)
        if len(self.object_pose) != 3:
            raise ConfigError(
                f"ExecutorConfig.object_pose = {self.object_pose!r} must be [x, y, yaw]"
            )
        if len(self.home) != panda.NUM_ARM_JOINTS:
            raise ConfigError(f"ExecutorConfig.home = {self.home!r} must have 7 joint values")
        for i, (v, lo, hi) in enumerate(zip(self.home, panda.Q_MIN, panda.Q_MAX)):
            if not lo <= v <= hi:
                raise ConfigError(
                    f"ExecutorConfig.home[{i}] ({panda.ARM_JOINT_NAMES[i]}) = {v!r} is outside "
                    f"[{lo}, {hi}] rad"
                )


def load_executor_config(path=CONFIG_FILE, overrides=None) -> ExecutorConfig:
    """Load :class:`ExecutorConfig` from a ROS parameter file (section ``panda_executor``).

    Args:
        path: YAML file; a bare name is looked up in the repository's ``config/``.
        overrides: dotted ``name -> value`` pairs (e.g. ``{"ik.damping": 0.05}``).
    """
    return load_config(ExecutorConfig, path, section="panda_executor", overrides=overrides)
