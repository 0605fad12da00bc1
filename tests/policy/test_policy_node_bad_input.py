"""policy_node as its own process over DDS, fed bad input: an unknown action or a missing
policy file at start-up and through SetParameters, and a one-frame demonstration that must be
rejected on receipt without blocking a later training of its action."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from real2sim_core import StateTrajectory
from tests.node_process import Client, NodeProcess, console_script

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "models" / "demos"
ACTION = "pull_left_to_right"
NODE = "real2sim_policy"

TINY = {
    "train.updates": 1, "train.envs": 1, "train.init": "track", "train.validation_starts": 1,
    "train.checkpoint_every": 0, "train.ppo.episodes_per_update": 1, "train.ppo.epochs": 1,
    "train.ppo.minibatches": 1, "train.warm_start.iterations": 1,
    "train.warm_start.episodes": 1, "train.warm_start.epochs": 1,
    "train.warm_start.value_epochs": 1, "tf.enabled": False,
}


def _start(*params: str, timeout: float = 60):
    return subprocess.run([console_script("policy_node"), "--ros-args",
                           *[x for p in params for x in ("-p", p)]],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.ros
@pytest.mark.parametrize("param, fragments", [
    ("action:=fly", ["parameter action = 'fly'", "unknown action 'fly'", "known actions:",
                     "push_left_to_right"]),
    ("policy:=/nonexist.zip", ["parameter policy = '/nonexist.zip'",
                               "policy file /nonexist.zip does not exist"]),
    ("policy:=clever", ["unknown policy 'clever'", "scripted"]),
])
def test_bad_action_or_policy_is_refused_at_start_up(param, fragments):
    r = _start(param)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines()  # (pybullet prints its banner at import)
             if ln.strip() and not ln.startswith("pybullet build time")]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("PolicyNode: refused to start: ")
    for frag in fragments:
        assert frag in lines[0], lines[0]


@pytest.mark.ros
def test_policy_zip_of_another_action_is_refused_at_start_up():
    zip_of_other = REPO / "models" / "push_left_to_right" / "policy.zip"
    r = _start(f"action:={ACTION}", f"policy:={zip_of_other}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "trained for 'push_left_to_right', not for 'pull_left_to_right'" in r.stderr


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    pytest.importorskip("rclpy")
    out = tmp_path_factory.mktemp("policy_node_bad")
    params = [f"{k}:={str(v).lower() if isinstance(v, bool) else v}" for k, v in TINY.items()]
    params += [f"out_dir:={out}", f"action:={ACTION}"]
    args = [x for p in params for x in ("-p", p)]
    with NodeProcess("policy_node", args, out / "node.log") as proc:
        proc.wait_for_log("ready:", 60)
        client = Client("test_policy_bad_input")
        try:
            client.round_trip(NODE)  # the node has discovered this client: no lost replies
            yield proc, client, out
        finally:
            client.close()


def _set(client, **values):
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    cli = client.node.create_client(SetParameters, f"/{NODE}/set_parameters")
    assert cli.wait_for_service(timeout_sec=30)
    req = SetParameters.Request(parameters=[
        Parameter(name=k, value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                               string_value=v)) for k, v in values.items()])
    res = client.wait(cli.call_async(req), 30, "SetParameters")
    client.node.destroy_client(cli)
    return res.results


def _get(client, *names):
    from rcl_interfaces.srv import GetParameters

    cli = client.node.create_client(GetParameters, f"/{NODE}/get_parameters")
    assert cli.wait_for_service(timeout_sec=30)
    res = client.wait(cli.call_async(GetParameters.Request(names=list(names))), 30,
                      "GetParameters")
    client.node.destroy_client(cli)
    return [v.string_value for v in res.values]


@pytest.mark.ros
def test_set_parameters_refuses_bad_action_and_policy_with_the_reason(node):
    proc, client, _ = node
    (r,) = _set(client, action="fly")
    assert not r.successful and "unknown action 'fly'" in r.reason, r.reason
    (r,) = _set(client, policy="/nonexist.zip")
    assert not r.successful and "policy file /nonexist.zip does not exist" in r.reason
    (r,) = _set(client, policy=str(REPO / "models" / "put_onto" / "policy.zip"))
    assert not r.successful and "trained for 'put_onto'" in r.reason, r.reason
    assert _get(client, "action", "policy") == [ACTION, ""]  # nothing changed
    (r,) = _set(client, policy="scripted")
    assert r.successful, r.reason
    (r,) = _set(client, policy="")
    assert r.successful and proc.alive()


def _publish(client, msg):
    """Publish one latched trajectory from its own publisher (kept until the test ends)."""
    from real2sim_core.node_utils import LATCHED_QOS

    from real2sim_core import topics as T
    from real2sim_interfaces.msg import StateTrajectory as TrajMsg

    pub = client.node.create_publisher(TrajMsg, T.STATE_TRAJECTORY_TOPIC, LATCHED_QOS)
    client.spin_until(lambda: pub.get_subscription_count() > 0, 30, "the node's subscription")
    pub.publish(msg)
    return pub


def _train(client, timeout: float, **goal):
    from rclpy.action import ActionClient

    from real2sim_core import topics as T
    from real2sim_interfaces.action import TrainPolicy

    ac = ActionClient(client.node, TrainPolicy, T.TRAIN_ACTION)
    assert ac.wait_for_server(timeout_sec=30)
    handle = client.wait(ac.send_goal_async(TrainPolicy.Goal(**goal)), 30, "goal acceptance")
    res = client.wait(handle.get_result_async(), timeout, "the training result")
    ac.destroy()
    return res.result


@pytest.mark.ros
def test_one_frame_demonstration_is_rejected_and_does_not_block_training(node):
    from real2sim_core.ros_msgs import trajectory_to_msg

    proc, client, out = node
    first = StateTrajectory.from_csv(sorted((DEMOS / ACTION).glob("*.csv"))[0])
    msg = trajectory_to_msg(first)
    del msg.frames[1:]
    msg.video_id = "one_frame"
    pubs = [_publish(client, msg)]
    proc.wait_for_log("'one_frame'", 30)
    assert "has 1 frame(s); a demonstration needs at least 2 (not kept)" in proc.text()
    result = _train(client, 30, action=ACTION)
    assert not result.success
    assert f"no demonstrations of {ACTION}" in result.message, result.message
    assert "one_frame: " in result.message and "needs at least 2" in result.message
    # good demonstrations of the same action arrive later: the training runs on them alone
    for f in sorted((DEMOS / ACTION).glob("*.csv")):
        traj = StateTrajectory.from_csv(f)
        pubs.append(_publish(client, trajectory_to_msg(traj)))
        proc.wait_for_log(f"demonstration {traj.video_id!r}", 30)
    result = _train(client, 240, action=ACTION, updates=1)
    assert result.success, result.message
    assert "3 demonstration(s)" in result.message and "one_frame" not in result.message
    assert Path(result.policy_path).is_file() and proc.alive()
    del pubs
