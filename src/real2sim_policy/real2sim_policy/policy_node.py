"""``policy_node``: rollouts in simulation and training on received demonstrations; a thin
adapter over :mod:`real2sim_policy.jobs` (shared with the ``real2sim`` CLI).

* service ``real2sim/rollout`` (``RolloutPolicy``): :func:`~real2sim_policy.jobs.rollout_request`
  -> the plan and its action check; publishes the plan (``real2sim/plan``, latched), a
  ``nav_msgs/Path``, markers, the static TF ``<tf.prefix>plan_target``; writes
  ``<out_dir>/rollout.csv``;
* ``real2sim/state_trajectory``: kept as demonstrations (a ``DemonstrationStore``; refused
  ones with their reason);
* action ``real2sim/train`` (``TrainPolicy``): :func:`~real2sim_policy.jobs.train_staged` on the
  kept demonstrations of the goal's action into ``<out_dir or a temporary folder>/trained/
  <action>``; feedback per update, cancellation after the current one; later rollouts of the
  action use the trained policy. One training at a time (reentrant group: rollouts and
  demonstrations are served meanwhile).

Parameters: :class:`~real2sim_policy.config.PolicyPackageConfig`; bad values are refused at
start-up (one line, exit code 2) and on SetParameters. Bad requests and goals get
``success = false`` with the reason; the node keeps serving.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

from nav_msgs.msg import Path as PathMsg
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from real2sim_core.errors import failure_message
from real2sim_core.node_utils import (
    LATCHED_QOS,
    config_validator,
    declare_config,
    destroy_actions,
    run_node,
)
from real2sim_core.tf_broadcast import TfPublisher, plan_target_transforms
from real2sim_core.trajectory import HAND_LENGTH_WRIST
from visualization_msgs.msg import MarkerArray

from real2sim_core import Real2SimError, ros_msgs
from real2sim_core import topics as T
from real2sim_interfaces.action import TrainPolicy
from real2sim_interfaces.msg import GripperPlan as PlanMsg
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import RolloutPolicy

from . import jobs
from .config import PolicyPackageConfig
from .demos import DemonstrationStore
from .jobs import TrainingStatus

__all__ = ["PolicyNode", "main"]


class PolicyNode(Node):
    def __init__(self, **kwargs):
        self._stop_training = threading.Event()  # before anything can fail: destroy_node uses it
        super().__init__("real2sim_policy", **kwargs)
        self._envs = jobs.EnvCache()
        self.config: PolicyPackageConfig = declare_config(self, PolicyPackageConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PolicyPackageConfig, lambda: self.config, self._set_config))
        self.store = DemonstrationStore()
        self.demonstrations, self.rejected_demonstrations = self.store.kept, self.store.rejected
        self.trained_policies: dict[str, str] = {}  # action -> policy.zip trained here
        self._train_lock = threading.Lock()
        self._train_dirs = jobs.TrainingFolders()
        self._plan_pub = self.create_publisher(PlanMsg, T.PLAN_TOPIC, LATCHED_QOS)
        self._path_pub = self.create_publisher(PathMsg, T.PLAN_PATH_TOPIC, LATCHED_QOS)
        self._marker_pub = self.create_publisher(MarkerArray, T.PLAN_MARKERS_TOPIC, LATCHED_QOS)
        self.create_subscription(TrajMsg, T.STATE_TRAJECTORY_TOPIC, self._on_demo, LATCHED_QOS)
        self.tf = TfPublisher(self) if self.config.tf.enabled else None
        self.create_service(RolloutPolicy, T.ROLLOUT_SERVICE, self._on_rollout,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self._train_server = ActionServer(
            self, TrainPolicy, T.TRAIN_ACTION, execute_callback=self._execute_train,
            cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())
        self.get_logger().info(f"ready: {T.ROLLOUT_SERVICE}, {T.TRAIN_ACTION}")

    def _set_config(self, cfg: PolicyPackageConfig) -> None:
        self.config = cfg
        self._envs.clear()  # rebuilt with the new settings on the next request

    def destroy_node(self):
        self._stop_training.set()  # a running training stops after its current update
        destroy_actions(self)
        return super().destroy_node()

    def _on_demo(self, msg) -> None:
        try:
            traj = ros_msgs.trajectory_from_msg(msg)
            n = self.store.add(traj)
        except Real2SimError as e:
            self.get_logger().warning(f"ignored a state trajectory: {e}")
            self.store.reject(msg.video_id, msg.action, str(e))
            return
        self.get_logger().info(f"demonstration {traj.video_id!r} ({traj.action}, "
                               f"{traj.num_frames} frames); {n} kept")

    def broadcast_plan_target(self, plan, stamp=None) -> int:
        """Static TF of the plan's final waypoint (``<tf.prefix>plan_target``); returns the
        number of transforms sent (0 when off/unavailable)."""
        cfg = self.config.tf
        if not cfg.enabled:
            return 0
        if self.tf is None:  # enabled at runtime
            self.tf = TfPublisher(self)
        return self.tf.send_static(plan_target_transforms(plan, -1, prefix=cfg.prefix,
                                                          stamp=stamp), replace=True)

    def _on_rollout(self, request, response):
        try:
            ro, pspec = jobs.rollout_request(self._envs, self.config, request.action,
                                             request.spec, request.row, request.seed,
                                             self.trained_policies)
        except Exception as e:  # noqa: BLE001 - a failed rollout must not take the node down
            response.success = False
            response.message = failure_message(e, "rollout")
            self.get_logger().error(f"rollout refused: {response.message}")
            return response
        plan, check = ro.to_plan(), ro.evaluate()
        stamp = self.get_clock().now().to_msg()
        response.plan = ros_msgs.plan_to_msg(plan, stamp=stamp)
        self._plan_pub.publish(response.plan)
        self._path_pub.publish(ros_msgs.plan_path_msg(plan, stamp=stamp))
        self._marker_pub.publish(ros_msgs.trajectory_markers(
            ro.trajectory, ns="rollout", every=12, hand_length=HAND_LENGTH_WRIST, stamp=stamp))
        self.broadcast_plan_target(plan, stamp=stamp)
        if self.config.out_dir:
            ro.to_csv(Path(self.config.out_dir) / "rollout.csv")
        response.success, response.check_passed = not ro.error, bool(check.success)
        trained = pspec in self.trained_policies.values()
        response.message = jobs.describe_rollout(
            ro, check, pspec, f"trained through {T.TRAIN_ACTION}" if trained else "")
        self.get_logger().info(response.message)
        return response

    # -- training ---------------------------------------------------------------------------

    def _execute_train(self, goal_handle):
        result = TrainPolicy.Result(validation_success=math.nan)
        log, goal = self.get_logger(), goal_handle.request
        if not self._train_lock.acquire(blocking=False):
            goal_handle.abort()
            result.message = ("training refused: another training is running on this node; "
                              "wait for it or cancel it")
            log.error(result.message)
            return result
        try:
            try:
                action, demos, cfg = jobs.training_job(
                    self.config, self.store, goal.action, updates=goal.updates, init=goal.init,
                    reward=goal.reward, source=f"/{T.STATE_TRAJECTORY_TOPIC}",
                    hint=f" (or estimate them with /{T.ESTIMATE_SERVICE})")
                dest = self._train_dirs(self.config.out_dir, action)
                log.info(jobs.describe_training(action, demos, cfg, dest))
                out = jobs.train_staged(
                    dest, action, demos, cfg,
                    command=f"policy_node {T.TRAIN_ACTION} ({action})",
                    on_update=lambda rec: self._feedback(goal_handle, rec, action, cfg),
                    stop_status=lambda: TrainingStatus.of_stop(
                        self._stop_training.is_set(), goal_handle.is_cancel_requested))
            except Exception as e:  # noqa: BLE001 - a failed training must not kill the node
                goal_handle.abort()
                result.message = failure_message(e, "training", "training refused: ")
                log.error(result.message)
                return result
            val = out.validation_success
            result.validation_success = math.nan if val is None else float(val)
            result.env_steps, result.policy_path = out.env_steps, str(out.policy_path)
            result.message = out.describe(action, demos, cfg)
            if out.status is not TrainingStatus.SUCCEEDED:
                log.warning(result.message)
                if out.status is TrainingStatus.CANCELED:  # shutting down: no server left
                    goal_handle.canceled()
                return result
            self.trained_policies[action] = result.policy_path
            result.success = True
            result.message += f"; {T.ROLLOUT_SERVICE} of {action} now uses {result.policy_path}"
            goal_handle.succeed()
            log.info(result.message)
            return result
        finally:
            self._train_lock.release()

    def _feedback(self, goal_handle, rec: dict, action: str, cfg) -> bool:
        """Publish one update's feedback; False (stop) when canceled or shutting down."""
        try:
            goal_handle.publish_feedback(
                TrainPolicy.Feedback(**jobs.update_feedback(rec, cfg.train.updates)))
        except Exception as e:  # noqa: BLE001 - feedback must not end a training
            self.get_logger().warning(f"training feedback not sent: {e}")
        self.get_logger().info(jobs.describe_update(action, rec, cfg.train.updates))
        return not (goal_handle.is_cancel_requested or self._stop_training.is_set())


def main(args=None) -> None:
    run_node(PolicyNode, args=args)


if __name__ == "__main__":
    main()
