"""Message round trips, and a state trajectory published by one process and received by another
over real DDS (rclpy from the Kilted wheels, Fast DDS)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from real2sim_core.ros_msgs import (
    plan_from_msg,
    plan_to_msg,
    trajectory_from_msg,
    trajectory_to_msg,
)

from real2sim_core import GripperPlan, InputError, align, frames, read_plan_json, write_plan_json

from ..node_process import die_with_the_tests
from .test_trajectory import make_traj

rclpy = pytest.importorskip("rclpy")
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402

from real2sim_interfaces.msg import GripperPlan as PlanMsg  # noqa: E402
from real2sim_interfaces.msg import StateTrajectory as TrajMsg  # noqa: E402


@pytest.mark.parametrize("num_objects,action", [(1, "pull_right_to_left"), (2, "put_next_to")])
def test_trajectory_message_round_trip_is_lossless(num_objects, action):
    tr = make_traj(9, num_objects, action)
    msg = trajectory_to_msg(tr)
    # through the wire format too
    msg2 = deserialize_message(serialize_message(msg), TrajMsg)
    assert trajectory_from_msg(msg2).allclose(tr)
    al = align(tr)
    assert trajectory_from_msg(trajectory_to_msg(al)).allclose(al)
    assert trajectory_to_msg(al).header.frame_id == "real2sim_aligned"


def make_plan(n=6):
    t = np.arange(n) / 12.0
    pos = np.c_[np.linspace(-0.1, 0.1, n), np.zeros(n), np.full(n, 0.05)]
    q = frames.gripper_quat_from_hand_angles(np.zeros(n), np.full(n, 0.3))
    return GripperPlan(t, pos, q, np.linspace(0.0375, 0.02, n), action="push_left_to_right")


def test_plan_message_and_json_round_trip(tmp_path):
    plan = make_plan()
    back = plan_from_msg(deserialize_message(serialize_message(plan_to_msg(plan)), PlanMsg))
    np.testing.assert_allclose(back.times, plan.times, atol=1e-9)  # Duration: ns resolution
    np.testing.assert_array_equal(back.positions, plan.positions)
    np.testing.assert_array_equal(back.quats, plan.quats)
    np.testing.assert_array_equal(back.openings, plan.openings)
    assert back.frame_id == plan.frame_id and back.action == plan.action
    j = read_plan_json(write_plan_json(plan, tmp_path / "plan.json"))
    np.testing.assert_array_equal(j.positions, plan.positions)
    np.testing.assert_array_equal(j.times, plan.times)


def test_plan_bad_input_names_waypoints(tmp_path):
    plan = make_plan()
    pos = plan.positions.copy()
    pos[3, 1] = np.nan
    with pytest.raises(InputError, match=r"positions is NaN/inf at waypoint\(s\) 3"):
        GripperPlan(plan.times, pos, plan.quats, plan.openings)
    p = tmp_path / "broken.json"
    p.write_text('{"waypoints": [{"position": [0, 0, 0]}]}')
    with pytest.raises(InputError, match="broken.json: malformed plan"):
        read_plan_json(p)


@pytest.mark.ros
def test_state_trajectory_crosses_dds_between_processes(tmp_path):
    """A states_publisher process publishes a CSV; this process receives it intact."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    tr = make_traj(30, 2, "put_behind")
    path = tr.to_csv(tmp_path / "states.csv")
    topic = "test/state_trajectory"
    proc = subprocess.Popen(
        [sys.executable, "-m", "real2sim_perception.states_publisher_node", "--ros-args",
         "-p", f"states_file:={path}", "-p", f"topic:={topic}"],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=die_with_the_tests,
    )
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("test_receiver", context=ctx)
    got = []
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(TrajMsg, topic, got.append, qos)
    executor = rclpy.executors.SingleThreadedExecutor(context=ctx)
    executor.add_node(node)
    try:
        deadline = time.monotonic() + 30.0
        while not got and time.monotonic() < deadline and proc.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        assert proc.poll() is None, f"publisher exited early:\n{proc.stdout.read()}"
        assert got, "no StateTrajectory received within 30 s"
        received = trajectory_from_msg(got[0])
        assert received.allclose(tr)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_visualisation_messages():
    from real2sim_core.ros_msgs import plan_path_msg, trajectory_markers, transform_msg

    tr = align(make_traj(9, 2, "put_onto"))
    ma = trajectory_markers(tr, every=4)
    kinds = [m.ns for m in ma.markers]
    # DELETEALL + frames 0, 4, 8 x (hand + 2 objects) + fingertip path
    assert len(ma.markers) == 1 + 3 * 3 + 1
    assert kinds.count("estimate/hand") == 3 and kinds[-1] == "estimate/fingertip_path"
    assert all(m.header.frame_id == "real2sim_aligned" for m in ma.markers[1:])
    cube = next(m for m in ma.markers if m.ns == "estimate/object1")
    assert cube.scale.x == pytest.approx(tr.obj_size[0, 1, 0])
    hand = next(m for m in ma.markers if m.ns == "estimate/hand")
    # the cylinder ends at the fingertip: centre + half length along the hand direction
    d = tr.hand_direction()[0]
    c = np.array([hand.pose.position.x, hand.pose.position.y, hand.pose.position.z])
    np.testing.assert_allclose(c + 0.2 * d, tr.hand_pos[0], atol=1e-12)
    path = plan_path_msg(make_plan(5))
    assert len(path.poses) == 5 and path.header.frame_id == "real2sim_aligned"
    t = transform_msg("panda_link0", "real2sim_aligned", [0.5, 0, 0], [0, 0, 0, 1])
    assert t.child_frame_id == "real2sim_aligned" and t.transform.translation.x == 0.5
