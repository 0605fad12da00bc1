"""policy_node's ``real2sim/train`` action with real rclpy (node + clients in one executor):
tiny trainings on demonstrations published as StateTrajectory messages, feedback, cancel,
bad goals, the trained policy used by ``real2sim/rollout``; and train_policy's on_update hook."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest
from real2sim_policy.demos import load_demos
from real2sim_policy.policies import policy_zip_action
from real2sim_policy.train import train_policy
from real2sim_policy.train_config import TrainConfig

from real2sim_core import StateTrajectory

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "models" / "demos"
ACTION = "pull_left_to_right"  # one-object action with 3 shipped demonstrations

TINY = {
    "train.updates": 2, "train.envs": 1, "train.envs_per_process": 1, "train.init": "track",
    "train.validation_starts": 1,
    "train.checkpoint_every": 0, "train.ppo.episodes_per_update": 1, "train.ppo.epochs": 1,
    "train.ppo.minibatches": 1, "train.warm_start.iterations": 1,
    "train.warm_start.episodes": 1, "train.warm_start.epochs": 1,
    "train.warm_start.value_epochs": 1, "tf.enabled": False,
}


def _wait(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Harness:
    """A PolicyNode and a client node spun by one MultiThreadedExecutor in a thread."""

    def __init__(self, ctx, out: Path):
        import rclpy
        from rclpy.action import ActionClient
        from rclpy.executors import MultiThreadedExecutor
        from rclpy.parameter import Parameter
        from real2sim_core.node_utils import LATCHED_QOS, BackgroundSpin
        from real2sim_policy.policy_node import PolicyNode

        from real2sim_core import topics as T
        from real2sim_interfaces.action import TrainPolicy
        from real2sim_interfaces.msg import StateTrajectory as TrajMsg
        from real2sim_interfaces.srv import RolloutPolicy

        self.out = out
        params = [Parameter(k, value=v) for k, v in TINY.items()]
        params.append(Parameter("out_dir", value=str(out)))
        self.node = PolicyNode(context=ctx, parameter_overrides=params)
        self.client = rclpy.create_node("test_train_client", context=ctx)
        self.pub = self.client.create_publisher(TrajMsg, T.STATE_TRAJECTORY_TOPIC, LATCHED_QOS)
        self.train_client = ActionClient(self.client, TrainPolicy, T.TRAIN_ACTION)
        self.rollout_client = self.client.create_client(RolloutPolicy, T.ROLLOUT_SERVICE)
        self.executor = MultiThreadedExecutor(num_threads=4, context=ctx)
        self.executor.add_node(self.node)
        self.executor.add_node(self.client)
        self.spin = BackgroundSpin(self.executor)
        assert self.train_client.wait_for_server(timeout_sec=10)
        assert self.rollout_client.wait_for_service(timeout_sec=10)
        _wait(lambda: self.pub.get_subscription_count() > 0, 10, "the demo subscription")

    def close(self):
        from real2sim_core.node_utils import destroy_actions

        self.spin.close(timeout=5)
        self.node.destroy_node()
        destroy_actions(self.client)
        self.client.destroy_node()

    def publish(self, msg) -> None:
        """Publish one trajectory and wait until the node kept or rejected it (the node's
        subscription is latched with depth 1: one at a time)."""
        self.pub.publish(msg)
        _wait(lambda: msg.video_id in self.node.demonstrations
              or msg.video_id in self.node.rejected_demonstrations, 10,
              f"the node to receive {msg.video_id}")

    @staticmethod
    def result_of(future, timeout: float):
        _wait(future.done, timeout, "a future")
        return future.result()

    def send(self, **goal):
        """Send a TrainPolicy goal; returns (goal handle, the feedback list it fills)."""
        from real2sim_interfaces.action import TrainPolicy

        feedback = []
        fut = self.train_client.send_goal_async(
            TrainPolicy.Goal(**goal), feedback_callback=lambda m: feedback.append(m.feedback))
        handle = self.result_of(fut, 10)
        assert handle.accepted
        return handle, feedback

    def train(self, timeout: float = 60, **goal):
        handle, feedback = self.send(**goal)
        res = self.result_of(handle.get_result_async(), timeout)
        return res.status, res.result, feedback

    def rollout(self, action: str, seed: int = 0):
        from real2sim_interfaces.srv import RolloutPolicy

        fut = self.rollout_client.call_async(RolloutPolicy.Request(action=action, seed=seed))
        return self.result_of(fut, 60)


@pytest.fixture(scope="module")
def ros(tmp_path_factory):
    rclpy = pytest.importorskip("rclpy")
    pytest.importorskip("real2sim_interfaces.action")
    from real2sim_core.ros_msgs import trajectory_to_msg

    out = tmp_path_factory.mktemp("policy_node")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROS_DOMAIN_ID", str(random.randint(100, 200)))
        ctx = rclpy.Context()
        rclpy.init(context=ctx)
        h = None
        try:
            h = Harness(ctx, out)
            for f in sorted((DEMOS / ACTION).glob("*.csv")):
                h.publish(trajectory_to_msg(StateTrajectory.from_csv(f)))
            # a one-object trajectory labelled with a two-object action: rejected on receipt
            bad = trajectory_to_msg(StateTrajectory.from_csv(next((DEMOS / ACTION).glob("*.csv"))))
            bad.action, bad.video_id = "put_behind", "one_object_put_behind"
            h.publish(bad)
            yield h
        finally:
            if h is not None:
                h.close()
            rclpy.try_shutdown(context=ctx)


@pytest.mark.ros
def test_bad_goals_are_refused_and_the_node_keeps_serving(ros):
    from action_msgs.msg import GoalStatus

    assert len(ros.node.demonstrations) == 3
    assert "one_object_put_behind" in ros.node.rejected_demonstrations
    cases = [
        (dict(action="wave"), ["unknown action 'wave'"]),
        (dict(action="push_right_to_left"),
         ["no demonstrations of push_right_to_left", f"kept: 3 of {ACTION}", "publish"]),
        (dict(action="put_behind"),
         ["no demonstrations of put_behind", "one_object_put_behind",
          "needs 2 object(s) but the trajectory has 1",
          "publish state trajectories of put_behind"]),
        (dict(action=ACTION, reward="median"), ["median"]),
        (dict(action=ACTION, init="pretrained"), ["pretrained"]),
        (dict(action=ACTION, updates=-1), ["updates = -1"]),
        (dict(action=ACTION, reward="single"), ["exactly one demonstration"]),
    ]
    for goal, fragments in cases:
        status, result, feedback = ros.train(timeout=20, **goal)
        assert status == GoalStatus.STATUS_ABORTED and not result.success, (goal, result)
        for frag in fragments:
            assert frag in result.message, (goal, result.message)
        assert not feedback and not result.policy_path
    assert not ros.node.trained_policies
    r = ros.rollout(ACTION, seed=1)
    assert r.success and len(r.plan.waypoints) > 10, r.message
    assert "trained" not in r.message


@pytest.mark.ros
def test_train_goal_sends_feedback_and_later_rollouts_use_the_policy(ros):
    from action_msgs.msg import GoalStatus

    # the goal overrides train.updates (2) and reward.reduction (mean)
    status, result, feedback = ros.train(action=ACTION, updates=1, reward="max", timeout=120)
    assert status == GoalStatus.STATUS_SUCCEEDED and result.success, result.message
    assert [(f.update, f.updates) for f in feedback] == [(1, 1)]
    assert 0.0 < feedback[0].scale <= 1.0 and feedback[0].std > 0.0
    assert 0.0 <= feedback[0].validation_success <= 1.0  # the last update validates
    path = ros.out / "trained" / ACTION / "policy.zip"
    assert result.policy_path == str(path) and path.is_file()
    assert not (ros.out / "trained" / f"{ACTION}.running").exists()
    assert result.env_steps == 120 and 0.0 <= result.validation_success <= 1.0
    assert "3 demonstration(s)" in result.message and "reward max" in result.message
    info = json.loads((path.parent / "policy.json").read_text())
    assert info["reward"] == "max" and info["updates"] == 1 and len(info["demonstrations"]) == 3
    assert info["config"]["init"] == "track" and info["warm_start"] is not None
    assert ros.node.trained_policies == {ACTION: str(path)}
    r = ros.rollout(ACTION, seed=2)
    assert r.success and str(path) in r.message and "trained" in r.message, r.message
    assert len(r.plan.waypoints) > 10
    # other actions keep their policy
    assert "trained" not in ros.rollout("push_right_to_left", seed=2).message


@pytest.mark.ros
def test_cancel_stops_after_the_current_update_and_keeps_the_previous_policy(ros):
    from action_msgs.msg import GoalStatus

    before = dict(ros.node.trained_policies)
    handle, feedback = ros.send(action=ACTION, updates=5, init="none")
    _wait(lambda: feedback, 60, "the first feedback")
    # one training at a time: a second goal is refused while the first runs
    status, second, _ = ros.train(action=ACTION, timeout=20)
    assert status == GoalStatus.STATUS_ABORTED and not second.success
    assert "another training is running" in second.message
    ros.result_of(handle.cancel_goal_async(), 10)
    res = ros.result_of(handle.get_result_async(), 120)
    status, result = res.status, res.result
    assert status == GoalStatus.STATUS_CANCELED and not result.success, result.message
    assert "canceled after" in result.message and "not used" in result.message
    assert 1 <= len(feedback) < 5 and all(f.updates == 5 for f in feedback)
    partial = ros.out / "trained" / f"{ACTION}.canceled" / "policy.zip"
    assert result.policy_path == str(partial) and partial.is_file()
    info = json.loads((partial.parent / "policy.json").read_text())
    assert info["stopped"] and len(info["history"]) < 5
    assert ros.node.trained_policies == before  # a canceled run is not used
    if before:
        assert Path(before[ACTION]).is_file()
    assert ros.rollout(ACTION, seed=3).success


def test_train_policy_on_update_hook_stops_training(tmp_path):
    """``on_update`` sees each update's record; returning False ends the run after it."""
    from real2sim_policy.train_config import PPOConfig

    demos = load_demos([DEMOS / ACTION], ACTION)
    seen = []
    cfg = TrainConfig(updates=3, envs=1, envs_per_process=1, validation_starts=0,
                      checkpoint_every=0,
                      ppo=PPOConfig(episodes_per_update=1, epochs=1, minibatches=1))
    res = train_policy(ACTION, demos, tmp_path / "run", cfg, progress=False,
                       on_update=lambda rec: seen.append(rec) or False)
    assert [r["update"] for r in seen] == [1] and set(seen[0]) >= {"scale", "std", "timesteps"}
    assert res.info["stopped"] and len(res.info["history"]) == 1
    assert 120 <= res.info["env_steps"] < 240 and res.policy_path.is_file()
    assert policy_zip_action(res.policy_path) == ACTION  # the zip names its action
    assert not math.isnan(seen[0]["scale"])
