"""``executor_node``: execute Cartesian gripper plans on the Panda (simulated or through MoveIt).

A thin adapter over :mod:`panda_executor` (Executor, backends):

* action ``real2sim/execute`` (``real2sim_interfaces/action/ExecutePlan``): the plan is checked
  and converted to a timed joint trajectory first (IK, limits, workspace: a refused plan aborts
  with the reason before any motion), then executed on the goal's backend with progress
  feedback; cancellation stops the execution between control steps;
* publishes ``sensor_msgs/JointState`` on ``joint_states`` while executing (the commanded arm
  configuration) and the executed ``trajectory_msgs/JointTrajectory`` on
  ``real2sim/executed_trajectory`` (latched).

Parameters: every field of :class:`~panda_executor.config.ExecutorConfig` (dotted names,
``config/executor.yaml``) plus ``out_dir`` (joint_trajectory.csv, execution.mp4, summary.json
of the last goal).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
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
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg
from trajectory_msgs.msg import JointTrajectoryPoint

from real2sim_core import Real2SimError
from real2sim_core import topics as T
from real2sim_interfaces.action import ExecutePlan

from . import panda
from .config import ExecutorConfig

__all__ = ["ExecutorNode", "main", "joint_trajectory_msg"]


def joint_trajectory_msg(traj, stamp=None) -> JointTrajectoryMsg:
    """``trajectory_msgs/JointTrajectory`` of a :class:`panda_executor.timing.JointTrajectory`."""
    msg = JointTrajectoryMsg()
    if stamp is not None:
        msg.header.stamp = stamp
    msg.joint_names = list(traj.joint_names)
    for k in range(len(traj)):
        msg.points.append(JointTrajectoryPoint(
            positions=[float(v) for v in traj.positions[k]],
            velocities=[float(v) for v in traj.velocities[k]],
            accelerations=[float(v) for v in traj.accelerations[k]],
            time_from_start=seconds_to_duration(traj.times[k])))
    return msg


class ExecutorNode(Node):
    def __init__(self, **kwargs):
        super().__init__("panda_executor", **kwargs)
        self.config: ExecutorConfig = declare_config(self, ExecutorConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, ExecutorConfig, lambda: self.config, self._set_config))
        self.declare_parameter("out_dir", "")
        self._busy = threading.Lock()
        self._js_pub = self.create_publisher(JointState, T.JOINT_STATES_TOPIC, STREAM_QOS)
        self._traj_pub = self.create_publisher(JointTrajectoryMsg, T.EXECUTED_TRAJECTORY_TOPIC,
                                               LATCHED_QOS)
        self._server = ActionServer(
            self, ExecutePlan, T.EXECUTE_ACTION, execute_callback=self._execute,
            goal_callback=self._on_goal, cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())
        self.get_logger().info(f"ready: {T.EXECUTE_ACTION} (default backend "
                               f"{self.config.backend})")

    def _set_config(self, cfg: ExecutorConfig) -> None:
        self.config = cfg

    def _on_goal(self, _goal) -> GoalResponse:
        if self._busy.locked():
            self.get_logger().warning("rejected a goal: another plan is executing")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _publish_joints(self, xplan, t: float) -> None:
        """Publish the commanded arm configuration at time ``t`` of the main trajectory."""
        main = xplan.main
        q = np.array([np.interp(t, main.times, main.positions[:, j]) for j in range(7)])
        js = JointState(name=list(panda.ARM_JOINT_NAMES), position=[float(v) for v in q])
        js.header.stamp = self.get_clock().now().to_msg()
        self._js_pub.publish(js)

    def _execute(self, goal_handle):
        from .backends import make_backend
        from .cli import write_joint_trajectory_csv
        from .executor import Executor

        goal = goal_handle.request
        result = ExecutePlan.Result()
        fb = ExecutePlan.Feedback()
        with self._busy:
            try:
                plan = plan_from_msg(goal.plan)
                backend_name = goal.backend or self.config.backend
                cfg = self.config
                fb.stage, fb.num_waypoints = "ik", plan.num_waypoints
                goal_handle.publish_feedback(fb)
                xplan = Executor(cfg).plan_joint_trajectory(
                    plan, (goal.object_x, goal.object_y, goal.object_yaw))
            except Real2SimError as e:
                goal_handle.abort()
                result.success, result.message = False, f"plan refused: {e}"
                self.get_logger().error(result.message)
                return result
            summary = xplan.summary()
            ik = summary["ik"]["plan_only"]
            result.max_position_error = ik["position_error_max_mm"] / 1e3
            result.max_orientation_error = float(np.radians(ik["orientation_error_max_deg"]))
            out = Path(self.get_parameter("out_dir").value or ".")
            out.mkdir(parents=True, exist_ok=True)
            write_joint_trajectory_csv(xplan, out / "joint_trajectory.csv")
            fb.stage = "time_parameterisation"
            goal_handle.publish_feedback(fb)

            def progress(p):
                fb.stage = f"executing {p.chunk_name}"
                fb.progress = float(p.fraction)
                fb.waypoint_index = int(round(p.fraction * max(plan.num_waypoints - 1, 0)))
                goal_handle.publish_feedback(fb)
                self._publish_joints(xplan, p.time if p.chunk_name != "move_to_start" else 0.0)

            kwargs = {"video_path": out / "execution.mp4"} if backend_name == "sim" else \
                {"node": self}
            try:
                backend = make_backend(backend_name, cfg, **kwargs)
                try:
                    res = backend.execute(xplan, progress=progress,
                                          cancel=lambda: goal_handle.is_cancel_requested)
                finally:
                    backend.close()
            except Real2SimError as e:
                goal_handle.abort()
                result.success, result.message = False, f"backend {backend_name}: {e}"
                self.get_logger().error(result.message)
                return result
            except Exception as e:  # noqa: BLE001 - a backend failure must not kill the node
                goal_handle.abort()
                result.success = False
                result.message = f"backend {backend_name} failed: {type(e).__name__}: {e}"
                self.get_logger().error(result.message)
                return result
            self._traj_pub.publish(joint_trajectory_msg(xplan.main,
                                                        self.get_clock().now().to_msg()))
            summary["execution"] = res.to_dict()
            (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
            result.check_passed = bool(res.check and res.check.get("success"))
            result.message = res.message + (f"; action check: {res.check['reason']}"
                                            if res.check else "")
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
            self.get_logger().info(f"execution {res.status.value}: {result.message}")
            return result


def main(args=None) -> None:
    run_node(ExecutorNode, args=args)


if __name__ == "__main__":
    main()
