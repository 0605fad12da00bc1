"""TF frames of estimates and plans (pure functions) and the TfPublisher backend selection."""

from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np
import pytest
from real2sim_core.config import ConfigError
from real2sim_core.tf_broadcast import (
    FramePose,
    TfConfig,
    TfPublisher,
    frame_index,
    plan_target_pose,
    plan_target_transforms,
    trajectory_frame_poses,
    trajectory_transforms,
)

from real2sim_core import GripperPlan, StateTrajectory, align, frames

from .test_trajectory import make_traj


def _traj(hand_azi, hand_ele, obj0_rotvec, n_frames=3):
    """A two-object trajectory whose last frame has the given hand angles and object 0 rotation."""
    t = n_frames
    hand_pos = np.tile([0.1, -0.2, 0.3], (t, 1))
    hand_pos[-1] = [0.5, 0.25, 0.125]
    azi, ele = np.zeros(t), np.zeros(t)
    azi[-1], ele[-1] = hand_azi, hand_ele
    obj_pos = np.tile([[0.0, 0.0, 0.05], [0.2, 0.1, 0.04]], (t, 1, 1))
    obj_rot = np.zeros((t, 2, 3))
    obj_rot[-1, 0] = obj0_rotvec
    return StateTrajectory(times=np.arange(t) / 12.0, hand_pos=hand_pos, hand_azi=azi,
                           hand_ele=ele, obj_pos=obj_pos, obj_rot=obj_rot,
                           obj_size=np.full((t, 2, 3), 0.08), touch=np.zeros(t),
                           action="put_next_to", aligned=True)


def test_hand_pointing_down_and_object_turned_about_z():
    tr = _traj(0.0, np.pi / 2, [0.0, 0.0, np.pi / 2])
    poses = trajectory_frame_poses(tr)  # last frame
    assert [p.child for p in poses] == ["real2sim/hand", "real2sim/object0", "real2sim/object1"]
    assert {p.parent for p in poses} == {"real2sim_aligned"}
    hand, obj0, obj1 = poses
    np.testing.assert_allclose(hand.position, [0.5, 0.25, 0.125])
    r = hand.matrix()[:3, :3]
    # +z (wrist -> fingertip) points straight down, +y (finger opening) stays along world +y
    np.testing.assert_allclose(r[:, 2], [0, 0, -1], atol=1e-12)
    np.testing.assert_allclose(r[:, 1], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(r[:, 0], [-1, 0, 0], atol=1e-12)
    # a half turn about y: quaternion (0, +-1, 0, 0)
    np.testing.assert_allclose(np.abs(hand.quat_xyzw), [0, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(obj0.position, [0.0, 0.0, 0.05])
    np.testing.assert_allclose(obj0.quat_xyzw, [0, 0, np.sqrt(0.5), np.sqrt(0.5)], atol=1e-12)
    # the object's local +x is the world's +y after a quarter turn about z
    np.testing.assert_allclose(obj0.matrix() @ [1, 0, 0, 1], [0, 1, 0.05, 1], atol=1e-12)
    np.testing.assert_allclose(obj1.quat_xyzw, [0, 0, 0, 1])
    np.testing.assert_allclose(obj1.position, [0.2, 0.1, 0.04])


def test_hand_frame_z_axis_is_the_hand_direction_and_round_trips():
    rng = np.random.default_rng(3)
    for _ in range(20):
        azi, ele = rng.uniform(-np.pi, np.pi), rng.uniform(-1.4, 1.4)
        rot = rng.normal(size=3) * 0.8
        tr = _traj(azi, ele, rot)
        hand, obj0, _ = trajectory_frame_poses(tr, prefix="")
        assert hand.child == "hand" and obj0.child == "object0"
        np.testing.assert_allclose(hand.matrix()[:3, 2], frames.hand_direction(azi, ele),
                                   atol=1e-12)
        a2, e2 = frames.hand_angles_from_gripper_quat(hand.quat_xyzw)
        assert float(frames.angle_difference(a2, azi)) == pytest.approx(0.0, abs=1e-9)
        assert float(e2) == pytest.approx(ele, abs=1e-9)
        np.testing.assert_allclose(frames.quat_to_rotvec(obj0.quat_xyzw), rot, atol=1e-9)
        # a wrist 0.15 m behind the fingertip, expressed in the hand frame as (0, 0, -0.15)
        wrist = hand.matrix() @ [0, 0, -0.15, 1]
        np.testing.assert_allclose(wrist[:3], tr.hand_pos[-1] - 0.15 * tr.hand_direction()[-1],
                                   atol=1e-12)


def test_frame_selection_by_index_and_time():
    tr = align(make_traj(9, 1, "pull_right_to_left"))
    assert frame_index(tr.times) == 8
    assert frame_index(tr.times, 2) == 2 and frame_index(tr.times, -9) == 0
    assert frame_index(tr.times, time=tr.times[4] + 1e-6) == 4
    assert frame_index(tr.times, time=-5.0) == 0 and frame_index(tr.times, time=1e6) == 8
    with pytest.raises(IndexError, match="index 9 is outside the 9 samples"):
        frame_index(tr.times, 9)
    hand, obj0 = trajectory_frame_poses(tr, time=tr.times[3])
    np.testing.assert_allclose(hand.position, tr.hand_pos[3])
    np.testing.assert_allclose(obj0.position, tr.obj_pos[3, 0])
    raw = make_traj(9, 1, "pull_right_to_left")
    assert trajectory_frame_poses(raw, 0)[0].parent == "real2sim_world"


def _plan():
    q = frames.gripper_quat_from_hand_angles([0.0, np.pi / 2, np.pi / 2], [0.3, 0.6, np.pi / 2])
    return GripperPlan(times=[0.0, 0.5, 1.0],
                       positions=[[0, 0, 0.3], [0.1, 0, 0.2], [0.2, 0.1, 0.1]],
                       quats=q, openings=[0.04, 0.04, 0.0], action="push_left_to_right")


def test_plan_target_is_the_final_or_current_waypoint():
    plan = _plan()
    final = plan_target_pose(plan)
    assert (final.parent, final.child) == ("real2sim_aligned", "real2sim/plan_target")
    np.testing.assert_allclose(final.position, [0.2, 0.1, 0.1])
    np.testing.assert_allclose(final.matrix()[:3, 2], [0, 0, -1], atol=1e-12)  # pointing down
    current = plan_target_pose(plan, time=0.7, prefix="robot/")
    assert current.child == "robot/plan_target"
    np.testing.assert_allclose(current.position, [0.1, 0, 0.2])
    az, el = frames.hand_angles_from_gripper_quat(current.quat_xyzw)
    assert (float(az), float(el)) == pytest.approx((np.pi / 2, 0.6))


def test_transform_messages_carry_the_poses():
    pytest.importorskip("geometry_msgs")
    from builtin_interfaces.msg import Time

    tr = _traj(np.pi / 2, 0.2, [0.0, 0.0, np.pi / 2])
    stamp = Time(sec=12, nanosec=5)
    msgs = trajectory_transforms(tr, stamp=stamp, prefix="x/")
    poses = trajectory_frame_poses(tr, prefix="x/")
    assert len(msgs) == 3
    for m, p in zip(msgs, poses):
        assert type(m).__name__ == "TransformStamped"
        assert (m.header.frame_id, m.child_frame_id) == (p.parent, p.child)
        assert (m.header.stamp.sec, m.header.stamp.nanosec) == (12, 5)
        t, r = m.transform.translation, m.transform.rotation
        np.testing.assert_allclose([t.x, t.y, t.z], p.position)
        np.testing.assert_allclose([r.x, r.y, r.z, r.w], p.quat_xyzw)
    (pm,) = plan_target_transforms(_plan(), index=0)
    assert pm.child_frame_id == "real2sim/plan_target"
    assert pm.transform.translation.z == pytest.approx(0.3)


def test_tf_config_validates_the_prefix():
    assert TfConfig().prefix == "real2sim/" and TfConfig().enabled
    assert TfConfig(prefix="").prefix == ""
    assert TfConfig(prefix="lab/r2s_").prefix == "lab/r2s_"
    for bad in ("/real2sim/", "real 2sim/", "a//b", "real2sim-x/"):
        with pytest.raises(ConfigError, match="TfConfig.prefix"):
            TfConfig(prefix=bad)


def test_shipped_node_configs_have_the_tf_block():
    from real2sim_perception.config import load_perception_config
    from real2sim_policy.config import load_policy_config

    for cfg in (load_perception_config(), load_policy_config()):
        assert cfg.tf == TfConfig()
    cfg = load_policy_config(overrides={"tf.enabled": False, "tf.prefix": "demo/"})
    assert cfg.tf == TfConfig(enabled=False, prefix="demo/")


# --- TfPublisher ------------------------------------------------------------------------------


class _FakeLogger:
    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)


class _FakeNode:
    """Records create_publisher calls; publishers record what they publish."""

    def __init__(self):
        self.logger = _FakeLogger()
        self.publishers = {}

    def get_logger(self):
        return self.logger

    def create_publisher(self, msg_type, topic, qos):
        pub = types.SimpleNamespace(msg_type=msg_type, qos=qos, sent=[])
        pub.publish = pub.sent.append
        self.publishers[topic] = pub
        return pub


class _Transform:
    def __init__(self, child):
        self.child_frame_id = child


def _no_tf_modules(monkeypatch):
    for name in ("tf2_ros", "tf2_msgs", "tf2_msgs.msg"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError


def test_backend_none_logs_one_line_and_ignores_sends(monkeypatch):
    _no_tf_modules(monkeypatch)
    node = _FakeNode()
    tf = TfPublisher(node)
    assert tf.backend == "none" and not tf.active
    assert tf.send_static([_Transform("a")]) == 0 and tf.send([_Transform("b")]) == 0
    assert tf.send_static([_Transform("c")], replace=True) == 0
    assert len(node.logger.lines) == 1 and "TF broadcasting is unavailable" in node.logger.lines[0]
    assert node.publishers == {} and tf.static_frames == []


def test_backend_tf2_msgs_publishes_the_net_static_set(monkeypatch):
    from rclpy.qos import DurabilityPolicy

    _no_tf_modules(monkeypatch)
    fake_msg = types.ModuleType("tf2_msgs.msg")

    class TFMessage:
        def __init__(self, transforms=()):
            self.transforms = list(transforms)

    fake_msg.TFMessage = TFMessage
    monkeypatch.setitem(sys.modules, "tf2_msgs", types.ModuleType("tf2_msgs"))
    monkeypatch.setitem(sys.modules, "tf2_msgs.msg", fake_msg)
    node = _FakeNode()
    tf = TfPublisher(node)
    assert tf.backend == "tf2_msgs" and node.logger.lines == []
    static = node.publishers["/tf_static"]
    assert static.msg_type is TFMessage and static.qos.depth == 1
    assert static.qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert "/tf" not in node.publishers  # no dynamic publisher until the first send()
    assert tf.send_static([_Transform("hand"), _Transform("object0")]) == 2
    first_obj = _Transform("object0")
    assert tf.send_static([first_obj, _Transform("object1")]) == 3  # object0 replaced
    assert [t.child_frame_id for t in static.sent[-1].transforms] == ["hand", "object0",
                                                                      "object1"]
    assert static.sent[-1].transforms[1] is first_obj
    assert tf.send_static([_Transform("plan_target")], replace=True) == 1
    assert tf.static_frames == ["plan_target"] and len(static.sent) == 3
    assert tf.send([_Transform("moving")]) == 1
    dyn = node.publishers["/tf"]
    assert dyn.qos.durability == DurabilityPolicy.VOLATILE and dyn.qos.depth == 100
    assert [t.child_frame_id for t in dyn.sent[0].transforms] == ["moving"]


def test_backend_tf2_ros_uses_its_broadcasters(monkeypatch):
    calls = []

    class Static:
        def __init__(self, node):
            calls.append(("static", node))

        def sendTransform(self, transforms):  # noqa: N802 - tf2_ros's name
            calls.append(("static_send", [t.child_frame_id for t in transforms]))

    class Dynamic(Static):
        def __init__(self, node):
            calls.append(("dynamic", node))

        def sendTransform(self, transforms):  # noqa: N802
            calls.append(("dynamic_send", [t.child_frame_id for t in transforms]))

    fake = types.ModuleType("tf2_ros")
    fake.StaticTransformBroadcaster, fake.TransformBroadcaster = Static, Dynamic
    monkeypatch.setitem(sys.modules, "tf2_ros", fake)
    node = _FakeNode()
    tf = TfPublisher(node)
    assert tf.backend == "tf2_ros" and calls == [("static", node)]
    tf.send_static([_Transform("hand")])
    tf.send_static([_Transform("object0")])
    tf.send([_Transform("x")])
    tf.send([_Transform("y")])
    assert calls[1:] == [("static_send", ["hand"]), ("static_send", ["hand", "object0"]),
                         ("dynamic", node), ("dynamic_send", ["x"]), ("dynamic_send", ["y"])]
    assert node.publishers == {} and node.logger.lines == []


# --- with real rclpy nodes --------------------------------------------------------------------


def _expected_backend() -> str:
    for backend, module in (("tf2_ros", "tf2_ros"), ("tf2_msgs", "tf2_msgs")):
        if importlib.util.find_spec(module) is not None:
            return backend
    return "none"


@pytest.mark.ros
def test_tf_publisher_on_a_real_node(ros_context):
    import rclpy

    node = rclpy.create_node("test_tf_publisher", context=ros_context)
    try:
        tf = TfPublisher(node)
        assert tf.backend == _expected_backend()
        tr = _traj(0.0, np.pi / 2, [0.0, 0.0, np.pi / 2])
        stamp = node.get_clock().now().to_msg()
        n = tf.send_static(trajectory_transforms(tr, stamp=stamp), replace=True)
        assert n == (0 if tf.backend == "none" else 3)
        assert tf.send(plan_target_transforms(_plan(), stamp=stamp)) == (0 if n == 0 else 1)
        topics = {name for name, _ in node.get_topic_names_and_types()}
        assert ("/tf_static" in topics) == (tf.backend != "none")
    finally:
        node.destroy_node()


@pytest.mark.ros
def test_nodes_broadcast_estimate_and_plan_target_frames(ros_context):
    from rclpy.parameter import Parameter
    from real2sim_perception.perception_node import PerceptionNode
    from real2sim_policy.policy_node import PolicyNode

    tr = _traj(0.0, np.pi / 2, [0.0, 0.0, np.pi / 2])
    perception = PerceptionNode(context=ros_context)
    policy = PolicyNode(context=ros_context,
                        parameter_overrides=[Parameter("tf.prefix", value="demo/")])
    try:
        expected = _expected_backend()
        assert perception.config.tf == TfConfig() and policy.config.tf.prefix == "demo/"
        assert perception.tf.backend == expected and policy.tf.backend == expected
        active = expected != "none"
        assert perception.broadcast_frames(tr) == (3 if active else 0)
        assert policy.broadcast_plan_target(_plan()) == (1 if active else 0)
        if active:
            assert perception.tf.static_frames == ["real2sim/hand", "real2sim/object0",
                                                   "real2sim/object1"]
            assert policy.tf.static_frames == ["demo/plan_target"]
        result = perception.set_parameters([Parameter("tf.enabled", value=False)])
        assert result[0].successful and not perception.config.tf.enabled
        assert perception.broadcast_frames(tr) == 0
        bad = policy.set_parameters([Parameter("tf.prefix", value="/abs/")])
        assert not bad[0].successful and "TfConfig.prefix" in bad[0].reason
    finally:
        perception.destroy_node()
        policy.destroy_node()


def test_frame_pose_is_a_plain_record():
    p = FramePose("a", "b", np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0, 1.0]))
    np.testing.assert_allclose(p.matrix(), [[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3],
                                            [0, 0, 0, 1]])
