"""The executor node over DDS against a Panda test double that speaks the real interfaces
(control_msgs FollowJointTrajectory / GripperCommand, franka_msgs Move / Grasp / Homing, built
from the upstream definitions by ``tests/ros_fixtures.py``): responsiveness during execution,
the bad-input cases of the ROS backends, joint states, TF and the node's parameters."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import rclpy
from rclpy.action import ActionClient
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from real2sim_core.node_utils import BackgroundSpin, destroy_actions

from .. import ros_fixtures
from ..node_process import die_with_the_tests

OBJECT_POSE = (0.5, 0.0, -1.5708)
Q_READY = [0.0, -0.785398, 0.0, -2.356194, 0.0, 1.570796, 0.785398]


@pytest.fixture(scope="module")
def interfaces():
    ros_fixtures.import_path()
    return ros_fixtures.interface_env()


@pytest.fixture(scope="module")
def push_goal():
    from panda_executor.handmade import push_pull_plan
    from real2sim_core.ros_msgs import plan_to_msg

    from real2sim_interfaces.action import ExecutePlan

    goal = ExecutePlan.Goal()
    goal.plan = plan_to_msg(push_pull_plan("push_left_to_right"))
    goal.object_x, goal.object_y, goal.object_yaw = OBJECT_POSE
    return goal


def start_node(env, tmp_path, *params):
    """The executor node as a process (``env`` None: this environment, no fixtures)."""
    cmd = [sys.executable, "-m", "panda_executor.executor_node", "--ros-args",
           "--params-file", str(ros_fixtures.REPO / "config" / "executor.yaml"),
           "-p", f"out_dir:={tmp_path / 'exec'}"]
    for p in params:
        cmd += ["-p", p]
    log = open(tmp_path / "executor.log", "w")  # noqa: SIM115 - closed by the process
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_the_tests)


class Client:
    """ExecutePlan, parameter services and topic probes from the test process."""

    def __init__(self, subscriptions=()):
        """``subscriptions``: ``(msg type, topic, callback, qos)`` made before the executor
        thread spins (rclpy entities must not be created while another thread waits on them:
        that crashed the interpreter once on a loaded CI machine)."""
        from rcl_interfaces.srv import GetParameters, SetParameters

        from real2sim_interfaces.action import ExecutePlan

        self.log = None  # the executor node's log, quoted when it does not answer
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node("executor_test_client", context=self.ctx)
        g = ReentrantCallbackGroup()
        self.action = ActionClient(self.node, ExecutePlan, "real2sim/execute", callback_group=g)
        self.set_srv = self.node.create_client(SetParameters, "/panda_executor/set_parameters",
                                               callback_group=g)
        self.get_srv = self.node.create_client(GetParameters, "/panda_executor/get_parameters",
                                               callback_group=g)
        for msg_type, topic, callback, qos in subscriptions:
            self.node.create_subscription(msg_type, topic, callback, qos, callback_group=g)
        self._exec = MultiThreadedExecutor(num_threads=3, context=self.ctx)
        self._exec.add_node(self.node)
        self._spin = BackgroundSpin(self._exec)

    @staticmethod
    def wait(fut, timeout):
        ev = threading.Event()
        fut.add_done_callback(lambda _f: ev.set())
        assert ev.wait(timeout), f"no answer within {timeout} s"
        return fut.result()

    def ready(self, timeout=30.0):
        assert self.action.wait_for_server(timeout_sec=timeout), "executor node did not start"
        assert self.set_srv.wait_for_service(timeout_sec=timeout)
        # wait_for_server says that this client sees the node, not that the node sees this
        # client: Fast DDS drops a response whose reader the server has not matched within the
        # writer's max blocking time (100 ms), so an unanswered goal request was lost once on a
        # loaded CI machine. A retried, idempotent round trip to the same node first completes
        # the node's discovery of this participant, whose endpoints are announced together.
        self.get("backend", timeout=timeout)

    def send(self, goal, timeout=30.0):
        # not retried (a goal is not idempotent: a resent one is rejected while the first
        # runs); a liveness bound, generous for a loaded 2-core CI machine
        try:
            return self.wait(self.action.send_goal_async(goal), timeout)
        except AssertionError as e:  # say what the node printed (did it see the goal?)
            raise AssertionError(f"{e}; the node's log ends:\n{self.log_tail()}") from None

    @staticmethod
    def retry(call, timeout, attempt=5.0):
        """Call ``call()`` (an idempotent request returning a future) again every ``attempt``
        s until one answers: a response can be lost while DDS is still matching endpoints on
        a loaded machine."""
        t_end = time.monotonic() + timeout
        while True:
            fut = call()
            ev = threading.Event()
            fut.add_done_callback(lambda _f, ev=ev: ev.set())
            if ev.wait(min(attempt, max(0.0, t_end - time.monotonic()))):
                return fut.result()
            assert time.monotonic() < t_end, f"no answer within {timeout} s"

    def run(self, goal, timeout=90.0):
        handle = self.send(goal)
        assert handle.accepted
        try:
            res = self.retry(handle.get_result_async, timeout)
        except AssertionError as e:  # say what the node printed (alive? what did it do?)
            raise AssertionError(f"{e}; the node's log ends:\n{self.log_tail()}") from None
        return res.status, res.result

    def log_tail(self, lines=40) -> str:
        if self.log is None or not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def set(self, name, value, timeout=15.0):
        from rcl_interfaces.srv import SetParameters

        req = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        return self.retry(lambda: self.set_srv.call_async(req), timeout).results[0]

    def get(self, name, timeout=15.0):
        from rcl_interfaces.srv import GetParameters

        res = self.retry(lambda: self.get_srv.call_async(GetParameters.Request(names=[name])),
                         timeout)
        return Parameter.from_parameter_msg(
            type("P", (), {"name": name, "value": res.values[0]})()).value

    def publishers(self, topic):
        return [i.node_name for i in self.node.get_publishers_info_by_topic(topic)]

    def close(self):
        self._spin.close()
        destroy_actions(self.node)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


SUCCEEDED, CANCELED, ABORTED = 4, 5, 6


@pytest.fixture()
def rig(interfaces, tmp_path):
    """The executor node (ros2_control backend, short timeouts), the Panda double, a client."""
    from .fake_panda import FakePanda

    robot = FakePanda(Q_READY)
    node = start_node(interfaces, tmp_path, "backend:=ros2_control", "robot.server_timeout:=2.0",
                      "robot.state_timeout:=2.0")
    client = Client()
    client.log = tmp_path / "executor.log"
    try:
        client.ready()
        yield robot, client, node, tmp_path
    finally:
        client.close()
        stop(node)
        robot.close()


def test_node_serves_a_second_goal_a_cancel_and_parameters_during_and_after_execution(
        rig, push_goal):
    robot, client, node, tmp_path = rig
    robot.hold_longer_than = 50   # the long plan trajectory waits until released (or cancelled)
    handle = client.send(push_goal)
    assert handle.accepted
    assert robot.holding.wait(60), "the plan trajectory never reached the controller"
    assert "grasp" in robot.gripper_goals or "move" in robot.gripper_goals
    assert len(robot.arm_goals) >= 2           # the move to the start and the plan so far
    # while the arm "moves": a second goal is answered (rejected: one plan at a time) ...
    t0 = time.monotonic()
    second = client.send(push_goal, timeout=5.0)
    assert not second.accepted
    # ... parameter calls are served ...
    assert client.set("timing.velocity_scaling", 0.7).successful
    assert client.get("timing.velocity_scaling") == pytest.approx(0.7)
    assert time.monotonic() - t0 < 15.0  # answered while the arm is held (retries allowed)
    # ... and a cancel stops the arm
    client.retry(handle.cancel_goal_async, 15.0)
    res = client.retry(handle.get_result_async, 30.0)
    assert res.status == CANCELED
    assert "canceled" in res.result.message and "the arm was stopped" in res.result.message
    assert robot.arm_cancels == 1
    # afterwards the node executes a whole plan again (gripper and arm steps)
    robot.hold_longer_than = None
    n_arm, n_grip = len(robot.arm_goals), len(robot.gripper_goals)
    status, result = client.run(push_goal)
    assert status == SUCCEEDED, result.message
    assert result.message == "executed on ros2_control"
    # (the move to the start is skipped when the cancel came before the arm left the start)
    assert len(robot.arm_goals) > n_arm and len(robot.gripper_goals) > n_grip
    # the robot ends where the plan ends (the double played every trajectory)
    from panda_executor.handmade import push_pull_plan

    from panda_executor import Executor, ExecutorConfig

    cfg = ExecutorConfig(timing=ExecutorConfig().timing)
    cfg.timing.velocity_scaling = 0.7
    xplan = Executor(cfg).plan_joint_trajectory(push_pull_plan("push_left_to_right"), OBJECT_POSE)
    np.testing.assert_allclose(robot.q, xplan.main.positions[-1], atol=1e-6)
    # ROS backends never write /joint_states: the only publisher is the robot
    assert client.publishers("/joint_states") == ["fake_panda"]
    assert client.set("backend", "moveit").successful and node.poll() is None


def test_bad_inputs_end_the_goal_with_the_step_and_reason_and_the_node_keeps_serving(
        rig, push_goal):
    robot, client, node, _ = rig
    # a gripper server that never appears
    assert client.set("robot.gripper_namespace", "/no_gripper_here").successful
    status, result = client.run(push_goal)
    assert status == ABORTED
    assert "backend ros2_control: step 2/" in result.message
    assert "gripper" in result.message and "/no_gripper_here/" in result.message
    assert "not available after 2.0 s" in result.message
    assert client.set("robot.gripper_namespace", "/panda_gripper").successful
    # the arm controller rejects the trajectory
    robot.arm_mode = "reject"
    status, result = client.run(push_goal)
    assert status == ABORTED
    # (the robot stands at the plan's start since the first goal: no move to the start)
    assert "step 3/3 (arm trajectory 'approach+plan' of chunk 0)" in result.message
    assert "/panda_arm_controller/follow_joint_trajectory rejected the goal" in result.message
    # the controller aborts with an error code
    robot.arm_mode = "abort"
    status, result = client.run(push_goal)
    assert status == ABORTED
    assert "error -4 (PATH_TOLERANCE_VIOLATED): panda_joint4 left its path tolerance" in \
        result.message
    # the robot is far from the planned start (the controller reports success, nothing moved)
    robot.arm_mode = "stuck"
    robot.q = np.array(Q_READY)
    n_before = len(robot.arm_goals)
    status, result = client.run(push_goal)
    assert status == ABORTED
    assert "arm trajectory" in result.message and "the robot is" in result.message
    assert "rad from the start of trajectory" in result.message
    assert "robot.start_tolerance = 0.01 rad" in result.message
    assert len(robot.arm_goals) == n_before + 1  # only the move to the start was sent
    # after all that the node still executes
    robot.arm_mode = "ok"
    status, result = client.run(push_goal)
    assert status == SUCCEEDED, result.message
    assert node.poll() is None


def test_gripper_command_interface_for_simulated_hands(rig, push_goal):
    robot, client, node, _ = rig
    assert client.set("robot.gripper_interface", "gripper_command").successful
    status, result = client.run(push_goal)
    assert status == SUCCEEDED, result.message
    assert set(robot.gripper_goals) == {"gripper_command"}


def test_parameters_refused_with_a_reason_and_object_pose_settable(rig):
    from array import array

    _, client, node, tmp_path = rig
    res = client.set("backend", "bogus")
    assert not res.successful
    assert "'moveit', 'ros2_control', 'sim'" in res.reason and "bogus" in res.reason
    assert client.get("backend") == "ros2_control"
    res = client.set("object_pose", [0.45, 0.1, 0.5])   # rclpy hands this over as array('d')
    assert res.successful, res.reason
    value = client.get("object_pose")
    assert isinstance(value, array) and list(value) == [0.45, 0.1, 0.5]
    res = client.set("out_dir", "/proc/cannot_write_here")
    assert not res.successful and "out_dir '/proc/cannot_write_here'" in res.reason
    assert "writable" in res.reason
    a_file = tmp_path / "a_file"   # (tests may run as root: permissions would not stop it)
    a_file.write_text("not a folder")
    res = client.set("out_dir", str(a_file / "sub"))
    assert not res.successful and "cannot be created (Not a directory)" in res.reason
    assert node.poll() is None


def test_unwritable_out_dir_at_goal_time_is_a_clear_error(rig, push_goal):
    _, client, node, tmp_path = rig
    out = tmp_path / "goes_away"
    assert client.set("out_dir", str(out)).successful
    out.rmdir()
    out.write_text("the folder was replaced by a file")
    status, result = client.run(push_goal, timeout=30.0)
    assert status == ABORTED
    assert result.message.startswith(f"output: out_dir '{out}' cannot be created")
    assert "give a writable folder" in result.message
    assert node.poll() is None


@pytest.mark.parametrize("param, expected", [
    ("backend:=bogus", "ExecutorConfig.backend = 'bogus' is not allowed; choose one of "
                       "'moveit', 'ros2_control', 'sim'"),
    ("out_dir:=/proc/no/such", "out_dir '/proc/no/such' cannot be created"),
    ("ik.damping:=abc", "Trying to set parameter 'ik.damping' to 'abc'"),
])
def test_bad_start_up_parameter_prints_one_line_and_exits_non_zero(tmp_path, param, expected):
    proc = subprocess.run(
        [sys.executable, "-m", "panda_executor.executor_node", "--ros-args", "-p", param],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert ": refused to start: " in lines[0] and expected in lines[0]
    assert "Traceback" not in proc.stderr


def test_static_tf_of_the_aligned_frame_follows_the_object_pose(interfaces, tmp_path):
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from tf2_msgs.msg import TFMessage

    node = start_node(interfaces, tmp_path, "object_pose:=[0.6, -0.1, 0.5]",
                      "workspace.table_height:=0.02")
    got = []
    qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                     reliability=ReliabilityPolicy.RELIABLE)
    client = Client([(TFMessage, "/tf_static", got.append, qos)])
    client.log = tmp_path / "executor.log"
    try:
        client.ready()

        def latest(timeout=10.0):
            t_end = time.monotonic() + timeout
            while time.monotonic() < t_end:
                for msg in reversed(got):
                    for t in msg.transforms:
                        if t.child_frame_id == "real2sim_aligned":
                            return t
                time.sleep(0.05)
            raise AssertionError("no panda_link0 -> real2sim_aligned on /tf_static")

        t = latest()
        assert t.header.frame_id == "panda_link0"
        tr, r = t.transform.translation, t.transform.rotation
        np.testing.assert_allclose([tr.x, tr.y, tr.z], [0.6, -0.1, 0.02])
        np.testing.assert_allclose([r.x, r.y, r.z, r.w], [0, 0, np.sin(0.25), np.cos(0.25)],
                                   atol=1e-12)
        # the transform maps aligned-frame points as the executor does
        from panda_executor.transform import aligned_frame_pose

        from real2sim_core import frames

        m = aligned_frame_pose((0.6, -0.1, 0.5), 0.02).matrix()
        p_local = np.array([0.1, 0.05, 0.03])
        expect = frames.compose_planar(frames.Pose2D(0.6, -0.1, 0.5), p_local[None])[0][0]
        np.testing.assert_allclose((m @ np.r_[p_local, 1])[:3] - [0, 0, 0.02], expect,
                                   atol=1e-12)
        # a new object pose at run time moves the frame
        got.clear()
        assert client.set("object_pose", [0.5, 0.2, 0.0]).successful
        t = latest()
        tr = t.transform.translation
        np.testing.assert_allclose([tr.x, tr.y, tr.z], [0.5, 0.2, 0.02])
    finally:
        client.close()
        stop(node)


def test_sim_backend_publishes_stamped_joint_states(tmp_path, push_goal):
    from sensor_msgs.msg import JointState

    node = start_node(None, tmp_path, "backend:=sim", "sim.video:=false")
    got = []
    client = Client([(JointState, "/joint_states", got.append, 50)])
    client.log = tmp_path / "executor.log"
    try:
        client.ready()
        status, result = client.run(push_goal, timeout=120.0)
        assert status == SUCCEEDED, result.message
        assert client.publishers("/joint_states") == ["panda_executor"]
        # one message per progress report; how many arrive depends on discovery and load, so
        # the test asks for a moving arm, not a count
        assert len(got) >= 3
        assert all(m.header.stamp.sec > 0 for m in got)
        stamps = [m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for m in got]
        assert stamps == sorted(stamps)
        positions = np.array([m.position for m in got])
        assert positions.shape[1] == 7 and np.ptp(positions, axis=0).max() > 0.01
        assert list(got[-1].name) == [f"panda_joint{i}" for i in range(1, 8)]
    finally:
        client.close()
        stop(node)


def test_no_joint_states_is_a_clear_error(rig, push_goal):
    _, client, node, _ = rig
    status, result = client.run(push_goal)   # the backend exists, subscribed to /joint_states
    assert status == SUCCEEDED, result.message
    assert client.set("robot.joint_states_topic", "/nobody_publishes_here").successful
    status, result = client.run(push_goal)
    assert status == ABORTED
    assert result.message == ("backend ros2_control: step 1/3 (move to the start configuration): "
                              "no joint state of the arm on /nobody_publishes_here within 2.0 s")
    # back on the robot's topic (the backend subscribes again), it executes
    assert client.set("robot.joint_states_topic", "/joint_states").successful
    status, result = client.run(push_goal)
    assert status == SUCCEEDED, result.message
    assert node.poll() is None
