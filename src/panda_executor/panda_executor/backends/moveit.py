"""``moveit`` backend: MoveIt 2 (moveit_py, ROS 2 Jazzy) on top of the Panda's controllers.

What MoveIt adds to the :mod:`~panda_executor.backends.ros2_control` backend:

The same code runs on the real-robot image's moveit_py (moveit2 humble branch, MoveItPy
backport #3487) where its API differs (``PlanRequestParameters(moveit_py)``, ``plan(parameters)``,
a read-only ``allowed_collision_matrix``); the trajectory is sent to the arm controller by this
backend, so ``MoveItPy.execute``'s differing signatures are never used.

* **one** ``MoveItPy`` for the executor node's life, created on the first goal. Its parameters
  (robot description + semantic, kinematics, joint limits, the OMPL and Pilz planning
  pipelines, ``planning_pipelines.pipeline_names``, the planning scene monitor) are what
  ``MoveItConfigsBuilder(...).to_dict()`` gives in the launch files
  (``launch/sim_demo.launch.py``, ``launch/panda_real.launch.py``); launch_ros passes them to
  the executor node as ``--params-file``, and ``MoveItPy`` reads exactly those files
  (``moveit.utils.get_launch_params_filepaths``; moveit2 2.12.4
  ``moveit_py/src/moveit/moveit_ros/moveit_cpp/moveit_cpp.cpp`` lines 65-155);
* the **planning scene**: the table (a box under ``workspace.table_x/table_y``) and the objects
  (cylinders at the plan's object pose) as collision objects, with contact between the objects
  and ``moveit.touch_links`` allowed (pushing is contact);
* the **move to the start**: planned by MoveIt (``moveit.start_pipeline``: OMPL, or Pilz PTP)
  from the current state, collision-aware, then executed through the arm controller;
* the executor's **own IK trajectory** (a straight Cartesian approach and the plan, tracked by
  :mod:`panda_executor.ik` to 1 mm) is checked point by point against the planning scene
  (``PlanningScene.is_state_colliding``) before it is sent to the arm controller -- the
  "IK trajectory checked for collisions and executed through the arm controller" way of doing
  Cartesian segments (MoveIt's Python API has no Cartesian-path call);
* ``moveit.start_tolerance`` -> the trajectory execution manager's
  ``set_allowed_start_tolerance`` (and the backend's own check before each trajectory);
* every planned trajectory is published as ``moveit_msgs/DisplayTrajectory`` on
  ``moveit.display_topic`` (RViz's MotionPlanning display shows it).

moveit_py and moveit_msgs are imported on the first goal; without them the goal fails with a
message saying where they come from. :func:`scene_objects` is plain data (tested without ROS).
"""

from __future__ import annotations

import numpy as np

from .. import panda
from ..config import ExecutorConfig
from .ros2_control import Ros2ControlBackend, StepFailed, joint_trajectory_dict

__all__ = ["MoveItBackend", "scene_objects", "TABLE_ID", "object_id"]

TABLE_ID = "real2sim_table"
#: links the table may touch (the base stands on it)
TABLE_TOUCH_LINKS = (panda.BASE_LINK, "panda_link1")


def object_id(i: int) -> str:
    return f"real2sim_object{i}"


def scene_objects(plan, config: ExecutorConfig) -> list[dict]:
    """The collision objects of ``plan``'s scene in ``panda_link0``: the table box and, for
    each object standing on the table, a cylinder (the held object of put actions is not in
    the scene: the hand carries it).

    Returns:
        dicts with ``id``, ``type`` (``"box"`` / ``"cylinder"``), ``dimensions`` (box: x, y, z;
        cylinder: height, radius -- shape_msgs/SolidPrimitive order), ``position`` (x, y, z)
        and ``orientation`` (x, y, z, w).
    """
    ws, mc = config.workspace, config.moveit
    x0, x1 = ws.table_x[0] - mc.table_margin, ws.table_x[1] + mc.table_margin
    y0, y1 = ws.table_y[0] - mc.table_margin, ws.table_y[1] + mc.table_margin
    out = [{"id": TABLE_ID, "type": "box",
            "dimensions": [x1 - x0, y1 - y0, mc.table_thickness],
            "position": [(x0 + x1) / 2, (y0 + y1) / 2, plan.table_height - mc.table_thickness / 2],
            "orientation": [0.0, 0.0, 0.0, 1.0]}]
    pose = plan.object_pose
    half = pose.yaw / 2
    for i, o in enumerate(plan.objects[:1]):
        out.append({"id": object_id(i), "type": "cylinder", "dimensions": [o.height, o.radius],
                    "position": [pose.x, pose.y, plan.table_height + o.height / 2],
                    "orientation": [0.0, 0.0, float(np.sin(half)), float(np.cos(half))]})
    return out


def _collision_object_msg(obj: dict):
    from geometry_msgs.msg import Pose
    from moveit_msgs.msg import CollisionObject
    from shape_msgs.msg import SolidPrimitive

    msg = CollisionObject()
    msg.id = obj["id"]
    msg.header.frame_id = panda.BASE_LINK
    prim = SolidPrimitive()
    prim.type = SolidPrimitive.BOX if obj["type"] == "box" else SolidPrimitive.CYLINDER
    prim.dimensions = [float(v) for v in obj["dimensions"]]
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = map(float, obj["position"])
    (pose.orientation.x, pose.orientation.y, pose.orientation.z,
     pose.orientation.w) = map(float, obj["orientation"])
    msg.primitives = [prim]
    msg.primitive_poses = [pose]
    msg.operation = CollisionObject.ADD
    return msg


class MoveItBackend(Ros2ControlBackend):
    """MoveIt on top of the controllers (see the module docstring).

    Args:
        config: executor configuration (``moveit``, ``robot``, ``timing``, ``workspace``).
        node: the executor node (action clients, joint states, the DisplayTrajectory publisher).
        moveit: an existing ``moveit.planning.MoveItPy`` (default: created on the first goal).
    """

    name = "moveit"

    def __init__(self, config: ExecutorConfig | None = None, node=None, moveit=None, **_):
        super().__init__(config, node)
        self._moveit = moveit
        self._display_pub = None
        self._model_id = ""

    # -- MoveIt (created once) -------------------------------------------------------------------

    def _connect(self) -> None:
        if self._moveit is not None and self._display_pub is not None:
            return
        try:
            from moveit.planning import MoveItPy
            from moveit_msgs.msg import DisplayTrajectory
        except ImportError as e:
            raise StepFailed(f"moveit_py is not importable here ({e}); the moveit backend runs "
                             "in the ROS 2 Jazzy image (docker/README.md), elsewhere use "
                             "backend ros2_control or sim") from None
        mc = self.config.moveit
        if self._moveit is None:
            try:
                # parameters: the --params-file the launch file gave this process
                self._moveit = MoveItPy(node_name=mc.node_name)
            except Exception as e:  # noqa: BLE001 - MoveItCpp throws std::runtime_error
                raise StepFailed(
                    f"MoveItPy could not start: {e} (are the MoveIt parameters passed to "
                    "executor_node? see launch/sim_demo.launch.py)") from None
        self._moveit.get_trajectory_execution_manager().set_allowed_start_tolerance(
            self.config.robot.start_tolerance)
        self._model_id = self._moveit.get_robot_model().name
        self._display_pub = self._node.create_publisher(DisplayTrajectory, mc.display_topic, 10)

    def _robot_state(self, q):
        from moveit.core.robot_state import RobotState

        rs = RobotState(self._moveit.get_robot_model())
        rs.set_joint_group_positions(self.config.moveit.arm_group, np.asarray(q, dtype=float))
        rs.update()
        return rs

    def _display(self, joint_trajectory_msg) -> None:
        from moveit_msgs.msg import DisplayTrajectory, RobotTrajectory

        msg = DisplayTrajectory()
        msg.model_id = self._model_id
        msg.trajectory_start.joint_state.name = list(joint_trajectory_msg.joint_names)
        if joint_trajectory_msg.points:
            msg.trajectory_start.joint_state.position = list(
                joint_trajectory_msg.points[0].positions)
        rt = RobotTrajectory()
        rt.joint_trajectory = joint_trajectory_msg
        msg.trajectory = [rt]
        self._display_pub.publish(msg)

    # -- hooks -----------------------------------------------------------------------------------

    def prepare(self, plan) -> None:
        """MoveItPy (first goal only), the planning scene, the planned motion for RViz."""
        from .ros2_control import to_joint_trajectory_msg

        self._connect()
        mc = self.config.moveit
        objects = scene_objects(plan, self.config)
        psm = self._moveit.get_planning_scene_monitor()
        with psm.read_write() as scene:
            for obj in objects:
                scene.apply_collision_object(_collision_object_msg(obj))
            acm = scene.allowed_collision_matrix
            for obj in objects[1:]:
                for link in mc.touch_links:
                    acm.set_entry(obj["id"], link, True)
            for link in TABLE_TOUCH_LINKS:
                acm.set_entry(TABLE_ID, link, True)
            try:
                scene.allowed_collision_matrix = acm  # Jazzy: a property with a setter
            except AttributeError:
                pass  # Humble backport: read-only, ``acm`` is the scene's own matrix
            scene.current_state.update()
        self._display(to_joint_trajectory_msg(joint_trajectory_dict(plan.main)))

    def _trajectory(self, step, cancel, report) -> str:
        if self.config.moveit.check_collisions:
            self._check_collisions(step)
        return super()._trajectory(step, cancel, report)

    def _check_collisions(self, step) -> None:
        mc = self.config.moveit
        points = step["joint_trajectory"]["points"]
        with self._moveit.get_planning_scene_monitor().read_only() as scene:
            for k, p in enumerate(points):
                if scene.is_state_colliding(robot_state=self._robot_state(p["positions"]),
                                            joint_model_group_name=mc.arm_group, verbose=False):
                    t = p["time_from_start"]["sec"] + 1e-9 * p["time_from_start"]["nanosec"]
                    raise StepFailed(
                        f"point {k} of {len(points)} (t = {t:.2f} s) is in collision with the "
                        "planning scene (table, objects or the robot itself); nothing was sent")

    def _move_to_start(self, step, cancel, report) -> str:
        mc = self.config.moveit
        if not mc.plan_to_start:
            return super()._move_to_start(step, cancel, report)
        from moveit.planning import PlanRequestParameters

        q0 = self.measured_arm_state(self.config.robot.state_timeout)
        if q0 is None:
            raise StepFailed(f"no joint state of the arm on {self.config.robot.joint_states_topic}"
                             f" within {self.config.robot.state_timeout} s")
        if np.abs(np.asarray(step["joint_positions"]) - q0).max() <= \
                self.config.robot.start_tolerance:
            return ""
        arm = self._moveit.get_planning_component(mc.arm_group)
        arm.set_start_state_to_current_state()
        arm.set_goal_state(robot_state=self._robot_state(step["joint_positions"]))
        try:  # Jazzy: (moveit_py, namespace); the Humble backport: (moveit_py)
            params = PlanRequestParameters(self._moveit, "plan_request_params")
        except TypeError:
            params = PlanRequestParameters(self._moveit)
        params.planning_pipeline = mc.start_pipeline
        params.planner_id = mc.start_planner_id or (
            "PTP" if mc.start_pipeline == "pilz_industrial_motion_planner" else "")
        params.planning_time = mc.planning_time
        params.max_velocity_scaling_factor = self.config.timing.move_to_start_velocity_scaling
        params.max_acceleration_scaling_factor = self.config.timing.acceleration_scaling
        # positional: ``single_plan_parameters`` on Jazzy, ``parameters`` in the Humble backport
        result = arm.plan(params)
        if not result:
            code = getattr(getattr(result, "error_code", None), "val", "?")
            raise StepFailed(f"MoveIt ({mc.start_pipeline}) found no plan to the start "
                             f"configuration (error code {code})")
        jt = result.trajectory.get_robot_trajectory_msg().joint_trajectory
        self._display(jt)
        self._check_start(list(jt.points[0].positions), "the planned move to the start")
        last = jt.points[-1].time_from_start
        return self._send_trajectory(jt, last.sec + 1e-9 * last.nanosec, cancel, report)
