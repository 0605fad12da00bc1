"""``executor_node``: execute Cartesian gripper plans on the Panda (simulated, its ROS 2
controllers, or MoveIt).

A thin adapter over :mod:`panda_executor` (Executor, backends):

* action ``real2sim/execute`` (``real2sim_interfaces/action/ExecutePlan``): the plan is checked
  and converted to a timed joint trajectory first (IK, limits, workspace: a refused plan aborts
  with the reason before any motion), then executed on the goal's backend with progress
  feedback; cancelling stops the arm. A failed step ends the goal with ``step i/n (what): why``;
  the node keeps serving;
* the backend of each name is created once and kept for the node's life (the ``moveit``
  backend holds the one ``MoveItPy`` of the process); ``sim`` makes a new pybullet world per goal;
* ``joint_states`` (``sensor_msgs/JointState``) is published **only by the sim backend** (the
  simulated arm's commanded configuration, stamped with the node clock); the ``ros2_control``
  and ``moveit`` backends read the robot's measured state from that topic and never write it;
* ``real2sim/executed_trajectory`` (``trajectory_msgs/JointTrajectory``, latched): the last
  executed trajectory;
* static TF ``panda_link0 -> real2sim_aligned`` from ``object_pose`` and
  ``workspace.table_height`` (updated when they change and by each goal's object pose), so RViz
  shows plans and estimates (frame ``real2sim_aligned``) next to the robot.

Threading: spun by a :class:`~rclpy.executors.MultiThreadedExecutor` (``run_node``); the action
callbacks are in a reentrant group, the backends never spin (they wait on futures), so a second
goal (rejected while one runs), a cancel and parameter calls are served during an execution.

Parameters: every field of :class:`~panda_executor.config.ExecutorConfig` (dotted names,
``config/executor.yaml``; ``backend`` must be one of ``sim``, ``ros2_control``, ``moveit``)
plus ``out_dir`` (joint_trajectory.csv, execution.mp4, summary.json of the last goal; must be
writable). Invalid values are refused at start-up (one line, exit status 2) and on set.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import (
    LATCHED_QOS,
    STREAM_QOS,
    config_validator,
    declare_config,
    run_node,
)
from real2sim_core.ros_msgs import plan_from_msg, seconds_to_duration
from real2sim_core.tf_broadcast import TfPublisher, to_transform_msgs
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg
from trajectory_msgs.msg import JointTrajectoryPoint

from real2sim_core import InputError, Real2SimError
from real2sim_core import topics as T
from real2sim_interfaces.action import ExecutePlan

from . import panda
from .config import ExecutorConfig
from .transform import aligned_frame_pose

__all__ = ["ExecutorNode", "main", "joint_trajectory_msg", "check_out_dir"]

#: backends that talk to ROS controllers (they get the node; they never publish joint states)
ROS_BACKENDS = ("ros2_control", "moveit")


def joint_trajectory_msg(traj, stamp=None) -> JointTrajectoryMsg:
    """``trajectory_msgs/JointTrajectory`` of a :class:`panda_executor.timing.JointTrajectory`."""
    msg = JointTrajectoryMsg()
    if stamp is not None:
        msg.header.stamp = stamp
    msg.joint_names = list(panda.ARM_JOINT_NAMES)
    for k in range(len(traj)):
        msg.points.append(JointTrajectoryPoint(
            positions=[float(v) for v in traj.positions[k]],
            velocities=[float(v) for v in traj.velocities[k]],
            accelerations=[float(v) for v in traj.accelerations[k]],
            time_from_start=seconds_to_duration(traj.times[k])))
    return msg


def check_out_dir(value: str) -> Path:
    """The output folder ``value`` ("" = the working directory), created if missing.

    Raises:
        InputError: naming the folder and why it cannot be written.
    """
    out = Path(value or ".").expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"out_dir {str(out)!r} cannot be created ({e.strerror or e}); give a "
                         "writable folder") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"out_dir {str(out)!r} is not a writable folder; give a writable "
                         "folder") from None
    return out


class ExecutorNode(Node):
    def __init__(self, **kwargs):
        super().__init__("panda_executor", **kwargs)
        self.config: ExecutorConfig = declare_config(self, ExecutorConfig())
        self.declare_parameter("out_dir", "")
        check_out_dir(self.get_parameter("out_dir").value)
        self.add_on_set_parameters_callback(
            config_validator(self, ExecutorConfig, lambda: self.config, self._set_config))
        self.add_on_set_parameters_callback(self._check_params)
        self._busy = threading.Lock()
        self._backends: dict[str, object] = {}
        self._backends_lock = threading.Lock()
        self._group = ReentrantCallbackGroup()
        self._js_pub = None  # created by the first sim goal: ROS backends never write it
        self._traj_pub = self.create_publisher(JointTrajectoryMsg, T.EXECUTED_TRAJECTORY_TOPIC,
                                               LATCHED_QOS)
        self.tf = TfPublisher(self)
        self._publish_aligned_frame(self.config.object_pose)
        self._server = ActionServer(
            self, ExecutePlan, T.EXECUTE_ACTION, execute_callback=self._execute,
            goal_callback=self._on_goal, cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=self._group)
        self.get_logger().info(f"ready: {T.EXECUTE_ACTION} (default backend "
                               f"{self.config.backend}; TF {self.tf.backend})")

    # -- parameters ------------------------------------------------------------------------------

    def _set_config(self, cfg: ExecutorConfig) -> None:
        old = self.config
        self.config = cfg
        if (list(old.object_pose) != list(cfg.object_pose)
                or old.workspace.table_height != cfg.workspace.table_height):
            self._publish_aligned_frame(cfg.object_pose)

    def _check_params(self, params) -> SetParametersResult:
        for p in params:
            if p.name == "out_dir":
                try:
                    check_out_dir(p.value)
                except InputError as e:
                    return SetParametersResult(successful=False, reason=str(e))
        return SetParametersResult(successful=True)

    def _publish_aligned_frame(self, object_pose) -> None:
        pose = aligned_frame_pose(object_pose, self.config.workspace.table_height)
        self.tf.send_static(to_transform_msgs([pose], self.get_clock().now().to_msg()))

    # -- backends (one per name for the node's life) ---------------------------------------------

    def _backend(self, name: str, out: Path):
        from .backends import make_backend

        if name == "sim":
            return make_backend("sim", self.config, video_path=out / "execution.mp4")
        with self._backends_lock:
            backend = self._backends.get(name)
            if backend is None:
                backend = self._backends[name] = make_backend(name, self.config, node=self)
        backend.config = self.config
        return backend

    def destroy_node(self):
        backends = getattr(self, "_backends", {})  # absent when the constructor refused
        for b in backends.values():
            b.close()
        backends.clear()
        return super().destroy_node()

    # -- the action ------------------------------------------------------------------------------

    def _on_goal(self, goal) -> GoalResponse:
        if self._busy.locked():
            self.get_logger().warning("rejected a goal: another plan is executing")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _publish_joints(self, xplan, t: float) -> None:
        """Publish the simulated arm's commanded configuration at time ``t`` of the main
        trajectory (sim backend only)."""
        main = xplan.main
        q = np.array([np.interp(t, main.times, main.positions[:, j]) for j in range(7)])
        js = JointState(name=list(panda.ARM_JOINT_NAMES), position=[float(v) for v in q])
        js.header.stamp = self.get_clock().now().to_msg()
        if self._js_pub is None:
            self._js_pub = self.create_publisher(JointState, T.JOINT_STATES_TOPIC, STREAM_QOS)
        self._js_pub.publish(js)

    def _fail(self, goal_handle, result, message: str):
        if goal_handle.is_active:
            goal_handle.abort()
        result.success, result.message = False, message
        self.get_logger().error(message)
        return result

    def _execute(self, goal_handle):
        with self._busy:
            try:
                return self._run(goal_handle)
            except Exception as e:  # noqa: BLE001 - a goal must end with a reason, never kill the node
                result = ExecutePlan.Result()
                return self._fail(goal_handle, result,
                                  f"internal error: {type(e).__name__}: {e or 'no message'}")

    def _run(self, goal_handle):
        from .backends import make_backend  # noqa: F401 - registry import (errors name backends)
        from .cli import write_joint_trajectory_csv
        from .executor import Executor

        goal = goal_handle.request
        result = ExecutePlan.Result()
        fb = ExecutePlan.Feedback()
        cfg = self.config
        backend_name = goal.backend or cfg.backend
        if backend_name not in ("sim", *ROS_BACKENDS):
            return self._fail(goal_handle, result,
                              f"unknown backend {backend_name!r}; backends: moveit, ros2_control, "
                              "sim")
        try:
            out = check_out_dir(self.get_parameter("out_dir").value)
        except InputError as e:
            return self._fail(goal_handle, result, f"output: {e}")
        object_pose = (goal.object_x, goal.object_y, goal.object_yaw)
        try:
            plan = plan_from_msg(goal.plan)
            fb.stage, fb.num_waypoints = "ik", plan.num_waypoints
            goal_handle.publish_feedback(fb)
            xplan = Executor(cfg).plan_joint_trajectory(plan, object_pose)
        except Real2SimError as e:
            return self._fail(goal_handle, result, f"plan refused: {e}")
        self._publish_aligned_frame(object_pose)
        summary = xplan.summary()
        ik = summary["ik"]["plan_only"]
        result.max_position_error = ik["position_error_max_mm"] / 1e3
        result.max_orientation_error = float(np.radians(ik["orientation_error_max_deg"]))
        try:
            write_joint_trajectory_csv(xplan, out / "joint_trajectory.csv")
        except OSError as e:
            return self._fail(goal_handle, result, f"output: cannot write "
                              f"{out / 'joint_trajectory.csv'} ({e.strerror or e})")
        fb.stage = "time_parameterisation"
        goal_handle.publish_feedback(fb)
        publish_joints = backend_name == "sim"

        def progress(p):
            fb.stage = f"executing {p.chunk_name}"
            fb.progress = float(p.fraction)
            fb.waypoint_index = int(round(p.fraction * max(plan.num_waypoints - 1, 0)))
            goal_handle.publish_feedback(fb)
            if publish_joints:
                self._publish_joints(xplan, p.time if p.chunk_name != "move_to_start" else 0.0)

        try:
            backend = self._backend(backend_name, out)
            try:
                res = backend.execute(xplan, progress=progress,
                                      cancel=lambda: goal_handle.is_cancel_requested)
            finally:
                if backend_name == "sim":
                    backend.close()
        except Real2SimError as e:
            return self._fail(goal_handle, result, f"backend {backend_name}: {e}")
        except Exception as e:  # noqa: BLE001 - a backend failure must not kill the node
            return self._fail(goal_handle, result, f"backend {backend_name} failed: "
                              f"{type(e).__name__}: {e or 'no message'}")
        self._traj_pub.publish(joint_trajectory_msg(xplan.main, self.get_clock().now().to_msg()))
        summary["backend"] = backend_name
        summary["execution"] = res.to_dict()
        try:
            (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
        except OSError as e:
            self.get_logger().error(f"cannot write {out / 'summary.json'}: {e.strerror or e}")
        result.check_passed = bool(res.check and res.check.get("success"))
        text = res.message if res.ok else f"backend {backend_name}: {res.message}"
        result.message = text + (f"; action check: {res.check['reason']}" if res.check else "")
        if res.status.value == "canceled":
            goal_handle.canceled()
            result.success = False
        elif res.ok:
            fb.stage, fb.progress = "done", 1.0
            goal_handle.publish_feedback(fb)
            goal_handle.succeed()
            result.success = True
        else:
            goal_handle.abort()
            result.success = False
        if res.ok:
            self.get_logger().info(f"execution {res.status.value}: {result.message}")
        else:
            self.get_logger().error(f"execution {res.status.value}: {result.message}")
        return result


def main(args=None) -> None:
    run_node(ExecutorNode, args=args)


if __name__ == "__main__":
    main()
