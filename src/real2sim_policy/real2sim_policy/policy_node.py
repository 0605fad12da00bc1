"""``policy_node``: roll out the policy of an action in simulation into a Cartesian gripper plan,
or train one on the demonstrations it received. A thin adapter over :mod:`real2sim_policy`:

* service ``real2sim/rollout`` (``RolloutPolicy``): a start state (benchmark row, or sampled
  with the seed) and the policy (:func:`real2sim_policy.jobs.rollout`) -> the plan and whether
  it passed the action's check; publishes the plan (``real2sim/plan``, latched), a
  ``nav_msgs/Path`` and markers of the rollout, the static TF ``<tf.prefix>plan_target``, and
  writes ``<out_dir>/rollout.csv``;
* keeps the state trajectories of ``real2sim/state_trajectory`` as demonstrations
  (:class:`real2sim_policy.demos.DemonstrationStore`: a refused one is remembered with its
  reason, never kept);
* action ``real2sim/train`` (``TrainPolicy``): trains on the kept demonstrations of the goal's
  action (:func:`real2sim_policy.train.train_policy`; the goal's ``updates``, ``reward`` and
  ``init`` override the parameters), staged in ``<out_dir or a temporary folder>/trained/
  <action>.running/`` and moved to ``trained/<action>/`` on success (a canceled run goes to
  ``<action>.canceled/``); feedback after every update, cancellation at the end of the current
  one. Later rollouts of that action use the trained policy. One training at a time, in the
  action's reentrant callback group, so rollouts and demonstrations are served meanwhile.

Parameters: :class:`~real2sim_policy.config.PolicyPackageConfig` (``action``, ``policy``,
``out_dir`` and the simulation, reward and training settings); bad values are refused at
start-up (one line, exit code 2) and on SetParameters (with the reason). Bad requests and
goals get ``success = false`` with the reason; the node keeps serving.
"""

from __future__ import annotations

import math
import tempfile
import threading
from pathlib import Path

from nav_msgs.msg import Path as PathMsg
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import LATCHED_QOS, config_validator, declare_config, run_node
from real2sim_core.ros_msgs import (
    plan_path_msg,
    plan_to_msg,
    trajectory_from_msg,
    trajectory_markers,
)
from real2sim_core.tf_broadcast import TfPublisher, plan_target_transforms
from real2sim_core.trajectory import HAND_LENGTH_WRIST
from visualization_msgs.msg import MarkerArray

from real2sim_core import Real2SimError, get_action
from real2sim_core import topics as T
from real2sim_interfaces.action import TrainPolicy
from real2sim_interfaces.msg import GripperPlan as PlanMsg
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import RolloutPolicy

from .config import PolicyPackageConfig
from .demos import DemonstrationStore, check_demonstrations
from .jobs import TrainingStatus, rollout, start_from_spec, train_staged, with_overrides
from .quiet import quiet_env

__all__ = ["PolicyNode", "main"]


class PolicyNode(Node):
    def __init__(self, **kwargs):
        self._stop_training = threading.Event()  # before anything can fail: destroy_node uses it
        super().__init__("real2sim_policy", **kwargs)
        self._envs: dict[str, object] = {}
        self.config: PolicyPackageConfig = declare_config(self, PolicyPackageConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PolicyPackageConfig, lambda: self.config, self._set_config))
        self.store = DemonstrationStore()
        self.trained_policies: dict[str, str] = {}  # action -> policy.zip trained here
        self._train_lock = threading.Lock()
        self._train_root: Path | None = None
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

    @property
    def demonstrations(self) -> dict:
        return self.store.kept

    @property
    def rejected_demonstrations(self) -> dict:
        return self.store.rejected

    def _set_config(self, cfg: PolicyPackageConfig) -> None:
        self.config = cfg
        self._envs.clear()  # rebuilt with the new settings on the next request

    def destroy_node(self):
        self._stop_training.set()  # a running training stops after its current update
        return super().destroy_node()

    def _on_demo(self, msg) -> None:
        try:
            traj = trajectory_from_msg(msg)
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
            action = get_action(request.action or self.config.action).name
            start = start_from_spec(request.spec, request.row)[1] if request.spec else None
            if action not in self._envs:
                self._envs[action] = quiet_env(action, self.config.env, self.config.sampler)
            ro, pspec = rollout(self._envs[action], self.trained_policies.get(action)
                                or self.config.policy, start, request.seed)
        except Exception as e:  # noqa: BLE001 - a failed rollout must not take the node down
            response.success = False
            response.message = str(e) if isinstance(e, Real2SimError) else \
                f"rollout failed: {type(e).__name__}: {e}"
            self.get_logger().error(f"rollout refused: {response.message}")
            return response
        plan, check = ro.to_plan(), ro.evaluate()
        stamp = self.get_clock().now().to_msg()
        response.plan = plan_to_msg(plan, stamp=stamp)
        self._plan_pub.publish(response.plan)
        self._path_pub.publish(plan_path_msg(plan, stamp=stamp))
        self._marker_pub.publish(trajectory_markers(ro.trajectory, ns="rollout", every=12,
                                                    hand_length=HAND_LENGTH_WRIST, stamp=stamp))
        self.broadcast_plan_target(plan, stamp=stamp)
        if self.config.out_dir:
            ro.to_csv(Path(self.config.out_dir) / "rollout.csv")
        response.success = not ro.error
        label = (f"{pspec} (trained through {T.TRAIN_ACTION})"
                 if pspec in self.trained_policies.values() else Path(pspec).name)
        response.message = (f"policy {label}: {ro.error or 'completed'}; "
                            f"check {'passed' if check.success else 'failed'}: {check.reason}")
        response.check_passed = bool(check.success)
        self.get_logger().info(response.message)
        return response

    # -- training ---------------------------------------------------------------------------

    def train_dir(self, action: str) -> Path:
        """``<out_dir or a temporary folder>/trained/<action>``: where a training writes."""
        out = self.config.out_dir
        if not out:
            if self._train_root is None:
                self._train_root = Path(tempfile.mkdtemp(prefix="real2sim_policy_"))
            out = self._train_root
        return Path(out) / "trained" / action

    def _training_job(self, goal):
        """``(action, demos, config)`` of a TrainPolicy goal (raises InputError)."""
        action = get_action(goal.action or self.config.action).name
        demos = self.store.for_action(action, f"/{T.STATE_TRAJECTORY_TOPIC}",
                                      f" (or estimate them with /{T.ESTIMATE_SERVICE})")
        overrides = {k: v for k, v in (("train.updates", int(goal.updates)),
                                       ("train.init", goal.init),
                                       ("reward.reduction", goal.reward)) if v}
        cfg = with_overrides(self.config, overrides)
        check_demonstrations(demos, action, cfg.reward.reduction)
        return action, demos, cfg

    def _execute_train(self, goal_handle):
        result = TrainPolicy.Result(validation_success=math.nan)
        log = self.get_logger()
        if not self._train_lock.acquire(blocking=False):
            goal_handle.abort()
            result.message = ("training refused: another training is running on this node; "
                              "wait for it or cancel it")
            log.error(result.message)
            return result
        try:
            try:
                action, demos, cfg = self._training_job(goal_handle.request)
                ids = ", ".join(d.video_id or "?" for d in demos)
                log.info(f"training {action} on {len(demos)} demonstration(s) ({ids}): "
                         f"{cfg.train.updates} updates, reward {cfg.reward.reduction}, init "
                         f"{cfg.train.init} -> {self.train_dir(action)}")
                out = train_staged(
                    self.train_dir(action), action, demos, cfg,
                    command=f"policy_node {T.TRAIN_ACTION} ({action})",
                    on_update=lambda rec: self._feedback(goal_handle, rec, action, cfg),
                    stop_status=lambda: self._stop_status(goal_handle))
            except Exception as e:  # noqa: BLE001 - a failed training must not kill the node
                goal_handle.abort()
                result.message = (f"training refused: {e}" if isinstance(e, Real2SimError)
                                  else f"training failed: {type(e).__name__}: {e}")
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

    def _stop_status(self, goal_handle) -> TrainingStatus | None:
        if self._stop_training.is_set():
            return TrainingStatus.STOPPED
        return TrainingStatus.CANCELED if goal_handle.is_cancel_requested else None

    def _feedback(self, goal_handle, rec: dict, action: str, cfg) -> bool:
        """Publish one update's feedback; False (stop) when canceled or shutting down."""
        fb = TrainPolicy.Feedback(
            update=int(rec["update"]), updates=int(cfg.train.updates), scale=float(rec["scale"]),
            std=float(rec["std"]), validation_success=float(rec.get("val_success", math.nan)))
        try:
            goal_handle.publish_feedback(fb)
        except Exception as e:  # noqa: BLE001 - feedback must not end a training
            self.get_logger().warning(f"training feedback not sent: {e}")
        self.get_logger().info(f"train {action}: update {fb.update}/{fb.updates}, scale "
                               f"{fb.scale:.2f}, std {100 * fb.std:.1f} cm, reward "
                               f"{rec['ep_reward']:.3f}")
        return not (goal_handle.is_cancel_requested or self._stop_training.is_set())


def main(args=None) -> None:
    run_node(PolicyNode, args=args)


if __name__ == "__main__":
    main()
