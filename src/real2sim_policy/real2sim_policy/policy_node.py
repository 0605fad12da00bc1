"""``policy_node``: roll out the policy of an action in simulation into a Cartesian gripper plan,
or train one on the demonstrations it received.

A thin adapter over :mod:`real2sim_policy` (env, policies, rollout, train):

* service ``real2sim/rollout`` (``real2sim_interfaces/srv/RolloutPolicy``): reset the gripper
  world to a start state (a benchmark row, or sampled with a seed), run the policy, answer with
  the plan and whether the rollout passed the action's check;
* publishes the plan (``real2sim/plan``, latched), a ``nav_msgs/Path``
  (``real2sim/plan_path``) and markers of the rolled-out objects (``real2sim/plan_markers``);
* broadcasts the plan's final waypoint as the static TF frame ``<tf.prefix>plan_target`` in
  the plan's frame (``real2sim_aligned``) through
  :class:`real2sim_core.tf_broadcast.TfPublisher` (tf2_ros where installed, else a no-op with
  one info line; ``tf.enabled: false`` turns it off);
* subscribes to ``real2sim/state_trajectory`` and keeps the demonstrations it receives
  (per video id; a message that does not validate, e.g. a one-object trajectory labelled with
  a two-object action, or one with fewer than :data:`MIN_DEMO_FRAMES` frames, is logged and
  remembered as rejected, never kept: it cannot block a later training);
* action ``real2sim/train`` (``real2sim_interfaces/action/TrainPolicy``): train a PPO policy
  (:func:`real2sim_policy.train.train_policy`) for the goal's action on all kept
  demonstrations labelled with that action, with the node's ``train.*``, ``reward.*``,
  ``env.*`` and ``sampler.*`` parameters (the goal's ``updates``, ``reward`` and ``init``
  override them when set). It writes ``<out_dir or a temporary folder>/trained/<action>/``
  (``policy.zip``, ``policy.json``, ``training.png``, checkpoints, TensorBoard logs; staged
  in ``<action>.running/`` and moved there on success), sends feedback after every PPO update
  and honours cancellation at the end of the current update (a canceled run's partial policy
  goes to ``<action>.canceled/`` and is not used). After a successful run, ``real2sim/rollout``
  requests of that action use the trained policy (it takes precedence over the ``policy``
  parameter until the node restarts). One training at a time; a second goal gets
  ``success = false``. Training runs in the action's execute callback (its own reentrant
  callback group) on one of the executor's threads, so rollouts and new demonstrations are
  still served meanwhile.

Parameters: ``action`` (str), ``policy`` ("" = the shipped model ``models/<action>/policy.zip``
if present, else the scripted reference controller; or ``idle``, ``scripted``, a file path),
``out_dir`` (rollout CSVs; trained policies under ``trained/``), and the
:class:`~real2sim_policy.config.PolicyPackageConfig` parameters. An unknown ``action``, or a
``policy`` that names no kind, a missing file or a policy zip of another action, is refused at
start-up (one line, exit code 2) and on SetParameters (with the reason). Bad requests and goals
get ``success = false`` with the reason; the node keeps serving.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
from nav_msgs.msg import Path as PathMsg
from rcl_interfaces.msg import SetParametersResult
from rclpy.action import ActionServer, CancelResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import LATCHED_QOS, config_validator, declare_config, run_node
from real2sim_core.resources import resource_dir
from real2sim_core.ros_msgs import (
    plan_path_msg,
    plan_to_msg,
    trajectory_from_msg,
    trajectory_markers,
)
from real2sim_core.tf_broadcast import TfPublisher, plan_target_transforms
from real2sim_core.trajectory import HAND_LENGTH_WRIST
from visualization_msgs.msg import MarkerArray

from real2sim_core import InputError, Real2SimError, StateTrajectory, get_action
from real2sim_core import topics as T
from real2sim_interfaces.action import TrainPolicy
from real2sim_interfaces.msg import GripperPlan as PlanMsg
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import RolloutPolicy

from .config import PolicyPackageConfig

__all__ = ["PolicyNode", "main", "default_policy_spec", "rollout_trajectory",
           "MIN_DEMO_FRAMES"]

MIN_DEMO_FRAMES = 2
"""Fewest frames a demonstration needs to be kept (the imitation reward follows its motion)."""


def default_policy_spec(action: str, models_dir: Path | None = None) -> str:
    """The shipped trained policy of ``action`` if there is one, else ``"scripted"``."""
    if models_dir is None:
        try:
            models_dir = resource_dir("models")
        except InputError:
            return "scripted"
    shipped = Path(models_dir) / get_action(action).name / "policy.zip"
    return str(shipped) if shipped.is_file() else "scripted"


def rollout_trajectory(ro) -> StateTrajectory:
    """A rollout as an aligned :class:`StateTrajectory` (cylinders drawn as their bounding
    cuboids) for visualisation."""
    k, n = ro.obj_pos.shape[:2]
    size = np.stack([2 * ro.radii, 2 * ro.radii, ro.heights], axis=-1)
    return StateTrajectory(times=ro.times, hand_pos=ro.hand_pos, hand_azi=ro.hand_azi,
                           hand_ele=ro.hand_ele, obj_pos=ro.obj_pos, obj_rot=ro.obj_rot,
                           obj_size=np.broadcast_to(size, (k, n, 3)), touch=np.zeros(k),
                           action=ro.action, aligned=True)


class PolicyNode(Node):
    def __init__(self, **kwargs):
        self._stop_training = threading.Event()  # before anything can fail: destroy_node uses it
        super().__init__("real2sim_policy", **kwargs)
        self._envs: dict[str, object] = {}
        self.config: PolicyPackageConfig = declare_config(self, PolicyPackageConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PolicyPackageConfig, lambda: self.config, self._set_config))
        self.declare_parameter("action", "push_left_to_right")
        self.declare_parameter("policy", "")
        self.declare_parameter("out_dir", "")
        # refused at start-up (one line, exit 2 through run_node) and on SetParameters
        self.check_action_policy(self.get_parameter("action").value,
                                 self.get_parameter("policy").value)
        self.add_on_set_parameters_callback(self._on_set_action_policy)
        self.demonstrations: dict[str, StateTrajectory] = {}
        # video id -> (labelled action, reason) of state trajectories that did not validate
        self.rejected_demonstrations: dict[str, tuple[str, str]] = {}
        # action -> policy.zip trained through real2sim/train (used by later rollouts)
        self.trained_policies: dict[str, str] = {}
        self._demo_lock = threading.Lock()
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

    @staticmethod
    def check_action_policy(action: str, policy: str) -> None:
        """Refuse an unknown ``action`` or a ``policy`` that cannot be used for it.

        Raises:
            InputError: naming the parameter, the value and what is allowed.
        """
        from .policies import check_policy_spec

        try:
            name = get_action(action).name
        except Real2SimError as e:
            raise InputError(f"parameter action = {action!r}: {e}") from None
        try:
            check_policy_spec(policy or default_policy_spec(name), name)
        except Real2SimError as e:
            raise InputError(f"parameter policy = {policy!r}: {e} (give idle, scripted, a "
                             f"policy.zip of {name}, or \"\" for the shipped one)") from None

    def _on_set_action_policy(self, params) -> SetParametersResult:
        new = {p.name: p.value for p in params if p.name in ("action", "policy")}
        if not new:
            return SetParametersResult(successful=True)
        for name, value in new.items():
            if not isinstance(value, str):
                return SetParametersResult(successful=False, reason=(
                    f"parameter {name} must be a string, got {type(value).__name__}"))
        try:
            self.check_action_policy(new.get("action", self.get_parameter("action").value),
                                     new.get("policy", self.get_parameter("policy").value))
        except InputError as e:
            return SetParametersResult(successful=False, reason=str(e))
        return SetParametersResult(successful=True)

    def _set_config(self, cfg: PolicyPackageConfig) -> None:
        self.config = cfg
        self._envs.clear()  # rebuilt with the new settings on the next request

    def destroy_node(self):
        self._stop_training.set()  # a running training stops after its current update
        return super().destroy_node()

    def _on_demo(self, msg) -> None:
        try:
            traj = trajectory_from_msg(msg)
            if traj.num_frames < MIN_DEMO_FRAMES:
                raise InputError(
                    f"demonstration {traj.video_id or '?'!r} ({traj.action}) has "
                    f"{traj.num_frames} frame(s); a demonstration needs at least "
                    f"{MIN_DEMO_FRAMES} (not kept)")
        except Real2SimError as e:
            self.get_logger().warning(f"ignored a state trajectory: {e}")
            with self._demo_lock:
                key = msg.video_id or f"#{len(self.rejected_demonstrations)}"
                self.rejected_demonstrations[key] = (str(msg.action), str(e))
            return
        with self._demo_lock:
            self.demonstrations[traj.video_id or str(len(self.demonstrations))] = traj
            self.rejected_demonstrations.pop(traj.video_id, None)
            n = len(self.demonstrations)
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

    def _rollout(self, action: str, spec: str, row: int, seed: int):
        from .benchmark import resolve_spec
        from .env import GripperEnv
        from .policies import make_policy
        from .rollout import load_start_states, run_rollout

        action = get_action(action or self.get_parameter("action").value).name
        pspec = (self.trained_policies.get(action) or self.get_parameter("policy").value
                 or default_policy_spec(action))
        policy = make_policy(pspec, action)
        start = None
        if spec:
            states = load_start_states(resolve_spec(spec))
            if not 0 <= row < len(states):
                raise Real2SimError(f"row {row} is outside the spec's {len(states)} start states")
            start = states[row][1]
        env = self._envs.get(action)
        if env is None:
            env = self._envs[action] = GripperEnv(action, config=self.config.env,
                                                  sampler=self.config.sampler)
        ro = run_rollout(env, policy, start=start, seed=seed)
        return ro, pspec

    def _on_rollout(self, request, response):
        try:
            ro, pspec = self._rollout(request.action, request.spec, request.row, request.seed)
        except Real2SimError as e:
            response.success = False
            response.message = str(e)
            self.get_logger().error(f"rollout refused: {e}")
            return response
        except Exception as e:  # noqa: BLE001 - a failed rollout must not take the node down
            response.success = False
            response.message = f"rollout failed: {type(e).__name__}: {e}"
            self.get_logger().error(response.message)
            return response
        plan = ro.to_plan()
        check = ro.evaluate()
        stamp = self.get_clock().now().to_msg()
        msg = plan_to_msg(plan, stamp=stamp)
        self._plan_pub.publish(msg)
        self._path_pub.publish(plan_path_msg(plan, stamp=stamp))
        self._marker_pub.publish(trajectory_markers(rollout_trajectory(ro), ns="rollout",
                                                    every=12, hand_length=HAND_LENGTH_WRIST,
                                                    stamp=stamp))
        self.broadcast_plan_target(plan, stamp=stamp)
        out_dir = self.get_parameter("out_dir").value
        if out_dir:
            ro.to_csv(Path(out_dir) / "rollout.csv")
        response.success = not ro.error
        label = (f"{pspec} (trained through {T.TRAIN_ACTION})"
                 if pspec in self.trained_policies.values() else Path(pspec).name)
        response.message = (f"policy {label}: {ro.error or 'completed'}; "
                            f"check {'passed' if check.success else 'failed'}: {check.reason}")
        response.plan = msg
        response.check_passed = bool(check.success)
        self.get_logger().info(response.message)
        return response

    # -- training ---------------------------------------------------------------------------

    def train_dir(self, action: str) -> Path:
        """Where a training of ``action`` writes: ``<out_dir or a temporary folder>/trained/
        <action>``."""
        out = self.get_parameter("out_dir").value
        if not out:
            if self._train_root is None:
                self._train_root = Path(tempfile.mkdtemp(prefix="real2sim_policy_"))
            out = self._train_root
        return Path(out) / "trained" / action

    def _training_job(self, goal):
        """Check a TrainPolicy goal against the kept demonstrations and the configuration.

        Returns ``(action, demos, train_config, reward_config)``.

        Raises:
            InputError: an unknown action, no (or unusable) demonstrations, bad overrides.
        """
        spec = get_action(goal.action or self.get_parameter("action").value)
        action = spec.name
        with self._demo_lock:
            kept = dict(self.demonstrations)
            rejected = dict(self.rejected_demonstrations)
        demos = [d for d in kept.values() if d.action == action]
        if not demos:
            others = sorted({d.action or "unlabelled" for d in kept.values()})
            why = [f"{vid}: {reason}" for vid, (act, reason) in rejected.items()
                   if _same_action(act, action)]
            raise InputError(
                f"no demonstrations of {action} received on /{T.STATE_TRAJECTORY_TOPIC} ("
                + (f"kept: {len(kept)} of {', '.join(others)}" if kept else "none kept")
                + (f"; rejected: {'; '.join(why)}" if why else "")
                + f"); publish state trajectories of {action} there (or estimate them with "
                f"/{T.ESTIMATE_SERVICE}) first")
        wrong = [d for d in demos if d.num_objects != spec.num_objects]
        if wrong:
            raise InputError(
                f"demonstration(s) {', '.join(repr(d.video_id) for d in wrong)} have "
                f"{wrong[0].num_objects} object(s) but {action} is a {spec.num_objects}-object "
                f"action; publish trajectories of {action}")
        short = [d.video_id for d in demos if d.num_frames < 2]
        if short:
            raise InputError(f"demonstration(s) {short} have fewer than 2 frames")
        cfg = self.config.train
        if goal.updates < 0:
            raise InputError(f"updates = {goal.updates}: give a positive number of PPO "
                             "updates, or 0 for the train.updates parameter")
        if goal.updates:
            cfg = dataclasses.replace(cfg, updates=int(goal.updates))
        if goal.init:
            cfg = dataclasses.replace(cfg, init=goal.init)
        reward = self.config.reward
        if goal.reward:
            reward = dataclasses.replace(reward, reduction=goal.reward)
        if reward.reduction == "single" and len(demos) != 1:
            raise InputError(f"reward 'single' needs exactly one demonstration; {len(demos)} of "
                             f"{action} are kept ({', '.join(d.video_id for d in demos)})")
        return action, demos, cfg, reward

    def _execute_train(self, goal_handle):
        from .train import train_policy

        result = TrainPolicy.Result(validation_success=math.nan)
        log = self.get_logger()

        def refuse(message: str):
            goal_handle.abort()
            result.success, result.message = False, message
            log.error(message)
            return result

        if not self._train_lock.acquire(blocking=False):
            return refuse("training refused: another training is running on this node; wait "
                          "for it or cancel it")
        try:
            try:
                action, demos, cfg, reward = self._training_job(goal_handle.request)
            except Real2SimError as e:
                return refuse(f"training refused: {e}")
            final = self.train_dir(action)
            work = final.with_name(final.name + ".running")  # staged: a canceled or failed
            shutil.rmtree(work, ignore_errors=True)          # run keeps the previous policy
            ids = ", ".join(d.video_id or "?" for d in demos)
            log.info(f"training {action} on {len(demos)} demonstration(s) ({ids}): "
                     f"{cfg.updates} updates, reward {reward.reduction}, init {cfg.init} "
                     f"-> {final}")

            def on_update(rec: dict) -> bool:
                fb = TrainPolicy.Feedback(
                    update=int(rec["update"]), updates=int(cfg.updates),
                    scale=float(rec["scale"]), std=float(rec["std"]),
                    validation_success=float(rec.get("val_success", math.nan)))
                try:
                    goal_handle.publish_feedback(fb)
                except Exception as e:  # noqa: BLE001 - feedback must not end a training
                    log.warning(f"training feedback not sent: {e}")
                log.info(f"train {action}: update {fb.update}/{fb.updates}, scale "
                         f"{fb.scale:.2f}, std {100 * fb.std:.1f} cm, reward "
                         f"{rec['ep_reward']:.3f}")
                return not (goal_handle.is_cancel_requested or self._stop_training.is_set())

            try:
                res = train_policy(action, demos, work, cfg, self.config.env,
                                   self.config.sampler, reward, progress=False,
                                   command=f"policy_node {T.TRAIN_ACTION} ({action})",
                                   on_update=on_update)
            except Real2SimError as e:
                return refuse(f"training refused: {e}")
            except Exception as e:  # noqa: BLE001 - a failed training must not kill the node
                return refuse(f"training failed: {type(e).__name__}: {e}")
            info = res.info
            val = info.get("final_validation_success")
            done = len(info.get("history", []))
            result.validation_success = math.nan if val is None else float(val)
            result.env_steps = int(info.get("env_steps", 0))
            if goal_handle.is_cancel_requested or self._stop_training.is_set():
                partial = _replace_dir(work, final.with_name(final.name + ".canceled"))
                result.policy_path = str(partial / res.policy_path.name)
                result.success = False
                why = "canceled" if goal_handle.is_cancel_requested else \
                    "stopped (the node is shutting down)"
                result.message = (f"training of {action} {why} after {done} of "
                                  f"{cfg.updates} updates; its partial policy "
                                  f"{result.policy_path} is not used for rollouts")
                log.warning(result.message)
                if self._stop_training.is_set():  # the node is shutting down: no server left
                    return result
                goal_handle.canceled()
                return result
            result.policy_path = str(_replace_dir(work, final) / res.policy_path.name)
            self.trained_policies[action] = result.policy_path
            result.success = True
            result.message = (
                f"trained {action} on {len(demos)} demonstration(s) ({ids}) for {done} "
                f"updates ({result.env_steps} env steps), reward {reward.reduction}, init "
                f"{cfg.init}: validation success "
                + ("n/a" if val is None else f"{100 * val:.0f} %")
                + f"; {T.ROLLOUT_SERVICE} of {action} now uses {result.policy_path}")
            goal_handle.succeed()
            log.info(result.message)
            return result
        finally:
            self._train_lock.release()


def _replace_dir(src: Path, dst: Path) -> Path:
    """Move folder ``src`` to ``dst``, replacing what was there; returns ``dst``."""
    old = dst.with_name(dst.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dst.exists():
        dst.rename(old)
    src.rename(dst)
    shutil.rmtree(old, ignore_errors=True)
    return dst


def _same_action(label: str, action: str) -> bool:
    try:
        return get_action(label).name == action
    except Real2SimError:
        return False


def main(args=None) -> None:
    run_node(PolicyNode, args=args)


if __name__ == "__main__":
    main()
