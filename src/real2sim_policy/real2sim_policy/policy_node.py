"""``policy_node``: roll out the policy of an action in simulation into a Cartesian gripper plan.

A thin adapter over :mod:`real2sim_policy` (env, policies, rollout):

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
  (per video id) for training.

Parameters: ``action`` (str), ``policy`` ("" = the shipped model ``models/<action>/policy.zip``
if present, else the scripted reference controller; or ``idle``, ``scripted``, a file path),
``out_dir`` (rollout CSVs). Bad requests get ``success = false`` with the reason; the node
keeps serving.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nav_msgs.msg import Path as PathMsg
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import LATCHED_QOS, config_validator, declare_config, run_node
from real2sim_core.ros_msgs import (
    plan_path_msg,
    plan_to_msg,
    trajectory_from_msg,
    trajectory_markers,
)
from real2sim_core.tf_broadcast import TfPublisher, plan_target_transforms
from visualization_msgs.msg import MarkerArray

from real2sim_core import Real2SimError, StateTrajectory, get_action
from real2sim_core import topics as T
from real2sim_interfaces.msg import GripperPlan as PlanMsg
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import RolloutPolicy

from .config import PolicyPackageConfig

__all__ = ["PolicyNode", "main", "default_policy_spec", "rollout_trajectory"]

REPO = Path(__file__).resolve().parents[3]


def default_policy_spec(action: str, models_dir: Path = REPO / "models") -> str:
    """The shipped trained policy of ``action`` if there is one, else ``"scripted"``."""
    shipped = models_dir / get_action(action).name / "policy.zip"
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
        super().__init__("real2sim_policy", **kwargs)
        self._envs: dict[str, object] = {}
        self.config: PolicyPackageConfig = declare_config(self, PolicyPackageConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PolicyPackageConfig, lambda: self.config, self._set_config))
        self.declare_parameter("action", "push_left_to_right")
        self.declare_parameter("policy", "")
        self.declare_parameter("out_dir", "")
        self.demonstrations: dict[str, object] = {}
        self._plan_pub = self.create_publisher(PlanMsg, T.PLAN_TOPIC, LATCHED_QOS)
        self._path_pub = self.create_publisher(PathMsg, T.PLAN_PATH_TOPIC, LATCHED_QOS)
        self._marker_pub = self.create_publisher(MarkerArray, T.PLAN_MARKERS_TOPIC, LATCHED_QOS)
        self.create_subscription(TrajMsg, T.STATE_TRAJECTORY_TOPIC, self._on_demo, LATCHED_QOS)
        self.tf = TfPublisher(self) if self.config.tf.enabled else None
        self.create_service(RolloutPolicy, T.ROLLOUT_SERVICE, self._on_rollout,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(f"ready: {T.ROLLOUT_SERVICE}")

    def _set_config(self, cfg: PolicyPackageConfig) -> None:
        self.config = cfg
        self._envs.clear()  # rebuilt with the new settings on the next request

    def _on_demo(self, msg) -> None:
        try:
            traj = trajectory_from_msg(msg)
        except Real2SimError as e:
            self.get_logger().warning(f"ignored a state trajectory: {e}")
            return
        self.demonstrations[traj.video_id or str(len(self.demonstrations))] = traj
        self.get_logger().info(f"demonstration {traj.video_id!r} ({traj.action}, "
                               f"{traj.num_frames} frames); {len(self.demonstrations)} kept")

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
        pspec = self.get_parameter("policy").value or default_policy_spec(action)
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
                                                    every=12, hand_length=0.15, stamp=stamp))
        self.broadcast_plan_target(plan, stamp=stamp)
        out_dir = self.get_parameter("out_dir").value
        if out_dir:
            ro.to_csv(Path(out_dir) / "rollout.csv")
        response.success = not ro.error
        response.message = (f"policy {Path(pspec).name}: {ro.error or 'completed'}; "
                            f"check {'passed' if check.success else 'failed'}: {check.reason}")
        response.plan = msg
        response.check_passed = bool(check.success)
        self.get_logger().info(response.message)
        return response


def main(args=None) -> None:
    run_node(PolicyNode, args=args)


if __name__ == "__main__":
    main()
