"""``executor_node``: execute Cartesian gripper plans on the Panda (simulated, its ROS 2
controllers, or MoveIt); a thin adapter over :class:`~panda_executor.executor.Executor` and
:mod:`panda_executor.job` (the backends, checks and writers shared with the CLI).

* action ``real2sim/execute`` (``ExecutePlan``): the plan becomes a timed joint trajectory first
  (a refused plan aborts before any motion), then runs on the goal's backend with feedback;
  cancelling stops the arm; a failure ends the goal with its reason, the node keeps serving.
  ROS backends are kept per name (``moveit`` holds the one ``MoveItPy``); ``sim`` is new per goal.
* ``joint_states`` (sim backend only), ``real2sim/executed_trajectory`` (latched) and the static
  TF ``panda_link0 -> real2sim_aligned`` (``object_pose``, ``workspace.table_height``).

A multi-threaded executor (``run_node``) and a reentrant group for the action serve a second goal
(rejected), a cancel and parameter calls during an execution. Parameters:
:class:`~panda_executor.config.ExecutorConfig` (``config/executor.yaml``), ``out_dir`` included;
invalid values are refused at start-up (one line, exit status 2) and on set.
"""

from __future__ import annotations

import threading

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import (
    LATCHED_QOS,
    STREAM_QOS,
    config_validator,
    declare_config,
    destroy_actions,
    run_node,
)
from real2sim_core.ros_msgs import plan_from_msg
from real2sim_core.tf_broadcast import TfPublisher, to_transform_msgs
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg

from real2sim_core import InputError, Real2SimError
from real2sim_core import topics as T
from real2sim_interfaces.action import ExecutePlan

from . import job, panda
from .backends import ROS_BACKENDS, ExecutionStatus
from .backends.ros2_control import joint_trajectory_dict, to_joint_trajectory_msg
from .config import ExecutorConfig
from .executor import Executor
from .transform import aligned_frame_pose

__all__ = ["ExecutorNode", "main"]


class ExecutorNode(Node):
    def __init__(self, **kwargs):
        super().__init__("panda_executor", **kwargs)
        self.config: ExecutorConfig = declare_config(self, ExecutorConfig())
        job.check_out_dir(self.config.out_dir)
        self.add_on_set_parameters_callback(config_validator(
            self, ExecutorConfig, lambda: self.config, self._set_config,
            check=lambda old, new: old.out_dir == new.out_dir or job.check_out_dir(new.out_dir)))
        self._busy = threading.Lock()
        self._backends = job.BackendPool(self)
        self._js_pub = None  # created by the first sim goal: ROS backends never write it
        self._traj_pub = self.create_publisher(JointTrajectoryMsg, T.EXECUTED_TRAJECTORY_TOPIC,
                                               LATCHED_QOS)
        self.tf = TfPublisher(self)
        self._publish_aligned_frame(self.config.object_pose)
        self._server = ActionServer(
            self, ExecutePlan, T.EXECUTE_ACTION, execute_callback=self._execute,
            goal_callback=self._on_goal, cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())
        self.get_logger().info(f"ready: {T.EXECUTE_ACTION} (default backend "
                               f"{self.config.backend}; TF {self.tf.backend})")

    # -- parameters ------------------------------------------------------------------------------

    def _set_config(self, cfg: ExecutorConfig) -> None:
        old, self.config = self.config, cfg
        if (list(old.object_pose) != list(cfg.object_pose)
                or old.workspace.table_height != cfg.workspace.table_height):
            self._publish_aligned_frame(cfg.object_pose)

    def _publish_aligned_frame(self, object_pose) -> None:
        pose = aligned_frame_pose(object_pose, self.config.workspace.table_height)
        self.tf.send_static(to_transform_msgs([pose], self.get_clock().now().to_msg()))

    def destroy_node(self):
        if hasattr(self, "_backends"):  # absent when the constructor refused
            self._backends.close()
        destroy_actions(self)
        return super().destroy_node()

    # -- the action ------------------------------------------------------------------------------

    def _on_goal(self, goal) -> GoalResponse:
        if self._busy.locked():
            self.get_logger().warning("rejected a goal: another plan is executing")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _publish_joints(self, xplan, progress) -> None:
        """The simulated arm's commanded configuration at a progress report."""
        js = JointState(name=list(panda.ARM_JOINT_NAMES),
                        position=job.commanded_joints(xplan, progress))
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
                return self._fail(goal_handle, ExecutePlan.Result(),
                                  f"internal error: {type(e).__name__}: {e or 'no message'}")

    def _run(self, goal_handle):
        goal, cfg = goal_handle.request, self.config
        result, fb = ExecutePlan.Result(), ExecutePlan.Feedback()
        try:
            name = job.check_backend(goal.backend or cfg.backend)
        except InputError as e:
            return self._fail(goal_handle, result, str(e))
        try:
            out = job.check_out_dir(cfg.out_dir)
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
        result.max_position_error, result.max_orientation_error = job.ik_error_max(xplan)
        try:
            job.write_plan_trajectory(xplan, out)
        except InputError as e:
            return self._fail(goal_handle, result, f"output: {e}")
        fb.stage = "time_parameterisation"
        goal_handle.publish_feedback(fb)

        def progress(p):
            fb.stage, fb.progress = f"executing {p.chunk_name}", float(p.fraction)
            fb.waypoint_index = int(round(p.fraction * max(plan.num_waypoints - 1, 0)))
            goal_handle.publish_feedback(fb)
            if name not in ROS_BACKENDS:  # only the simulated arm's joints are ours to publish
                self._publish_joints(xplan, p)

        try:
            with self._backends.use(name, cfg, out) as backend:
                res = backend.execute(xplan, progress=progress,
                                      cancel=lambda: goal_handle.is_cancel_requested)
        except Real2SimError as e:
            return self._fail(goal_handle, result, f"backend {name}: {e}")
        except Exception as e:  # noqa: BLE001 - a backend failure must not kill the node
            return self._fail(goal_handle, result, f"backend {name} failed: "
                              f"{type(e).__name__}: {e or 'no message'}")
        msg = to_joint_trajectory_msg(joint_trajectory_dict(xplan.main))
        msg.header.stamp = self.get_clock().now().to_msg()
        self._traj_pub.publish(msg)
        try:
            job.write_results(out, res, job.job_summary(xplan, name, res))
        except OSError as e:
            self.get_logger().error(f"cannot write the results into {out}: {e.strerror or e}")
        return self._finish(goal_handle, result, fb, name, res)

    def _finish(self, goal_handle, result, fb, name: str, res):
        result.check_passed, result.success = res.check_passed, res.ok
        result.message = job.result_message(name, res)
        if res.status is ExecutionStatus.CANCELED:
            goal_handle.canceled()
        elif res.ok:
            fb.stage, fb.progress = "done", 1.0
            goal_handle.publish_feedback(fb)
            goal_handle.succeed()
        else:
            goal_handle.abort()
        if res.ok:  # rclpy fixes a call site's severity: one call per level
            self.get_logger().info(f"execution {res.status.value}: {result.message}")
        else:
            self.get_logger().error(f"execution {res.status.value}: {result.message}")
        return result


def main(args=None) -> None:
    run_node(ExecutorNode, args=args)


if __name__ == "__main__":
    main()
