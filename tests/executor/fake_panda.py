"""A test double of the Panda's ROS 2 side that speaks the real interfaces (rclpy, over DDS):

* ``control_msgs/action/FollowJointTrajectory`` at
  ``/panda_arm_controller/follow_joint_trajectory``
  that plays the trajectory (``speed`` times faster than its timing) and publishes the arm's
  ``sensor_msgs/JointState`` on ``/joint_states`` at 50 Hz, like joint_state_broadcaster;
* franka_gripper's ``franka_msgs/action/Move``, ``Grasp`` and ``Homing`` under
  ``/panda_gripper``; a ``control_msgs/action/GripperCommand`` at
  ``/panda_hand_controller/gripper_cmd``.

``arm_mode`` selects the controller's behaviour: ``"ok"``, ``"reject"`` (goal rejected),
``"abort"`` (PATH_TOLERANCE_VIOLATED), ``"stuck"`` (reports success without moving);
``hold_chunks`` makes trajectories with more than that many points wait for :meth:`release`
(or a cancel), so a test can act while the arm is "moving".
The fixture interface packages (``tests/ros_fixtures.py``) must be importable.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from real2sim_core.node_utils import BackgroundSpin, destroy_actions
from sensor_msgs.msg import JointState

ARM = [f"panda_joint{i}" for i in range(1, 8)]
FJT_ACTION = "/panda_arm_controller/follow_joint_trajectory"
GRIPPER_NS = "/panda_gripper"
GRIPPER_COMMAND_ACTION = "/panda_hand_controller/gripper_cmd"


class FakePanda:
    def __init__(self, q0, speed: float = 20.0, arm_mode: str = "ok"):
        from control_msgs.action import FollowJointTrajectory, GripperCommand
        from franka_msgs.action import Grasp, Homing, Move

        self.q = np.array(q0, dtype=float)
        self.speed = speed
        self.arm_mode = arm_mode
        self.hold_longer_than: int | None = None
        self._release = threading.Event()
        self.arm_goals: list[int] = []      # number of points of each accepted trajectory
        self.arm_cancels = 0
        self.gripper_goals: list[str] = []  # "move" / "grasp" / "homing" / "gripper_command"
        self.holding = threading.Event()
        self._closing = threading.Event()
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node("fake_panda", context=self.ctx)
        g = ReentrantCallbackGroup()
        self._js = self.node.create_publisher(JointState, "/joint_states", 10)
        self._timer = self.node.create_timer(0.02, self._publish, callback_group=g)
        self._servers = [
            ActionServer(self.node, FollowJointTrajectory, FJT_ACTION, self._fjt,
                         goal_callback=self._fjt_goal, cancel_callback=self._fjt_cancel,
                         callback_group=g),
            ActionServer(self.node, Move, f"{GRIPPER_NS}/move", self._gripper("move"),
                         callback_group=g),
            ActionServer(self.node, Grasp, f"{GRIPPER_NS}/grasp", self._gripper("grasp"),
                         callback_group=g),
            ActionServer(self.node, Homing, f"{GRIPPER_NS}/homing", self._gripper("homing"),
                         callback_group=g),
            ActionServer(self.node, GripperCommand, GRIPPER_COMMAND_ACTION,
                         self._gripper("gripper_command"), callback_group=g),
        ]
        self._fjt_type = FollowJointTrajectory
        self._types = {"move": Move, "grasp": Grasp, "homing": Homing,
                       "gripper_command": GripperCommand}
        self._exec = MultiThreadedExecutor(num_threads=4, context=self.ctx)
        self._exec.add_node(self.node)
        self._spin = BackgroundSpin(self._exec)

    def _publish(self):
        msg = JointState(name=list(ARM), position=[float(v) for v in self.q])
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.header.frame_id = "fake_panda"
        self._js.publish(msg)

    def release(self):
        self._release.set()

    def _fjt_goal(self, _goal):
        if self.arm_mode == "reject":
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _fjt_cancel(self, _goal):
        self.arm_cancels += 1
        return CancelResponse.ACCEPT

    def _fjt(self, handle):
        traj = handle.request.trajectory
        self.arm_goals.append(len(traj.points))
        result = self._fjt_type.Result()
        if self.arm_mode == "abort":
            handle.abort()
            result.error_code = self._fjt_type.Result.PATH_TOLERANCE_VIOLATED
            result.error_string = "panda_joint4 left its path tolerance"
            return result
        index = [traj.joint_names.index(n) for n in ARM]
        t_end = traj.points[-1].time_from_start
        duration = (t_end.sec + 1e-9 * t_end.nanosec) / self.speed
        hold = self.hold_longer_than is not None and len(traj.points) > self.hold_longer_than
        if hold:
            self.holding.set()
        t0 = time.monotonic()
        k = 0
        while True:
            if self._closing.is_set():
                break
            if handle.is_cancel_requested:
                handle.canceled()
                return result
            elapsed = time.monotonic() - t0
            if self.arm_mode != "stuck":
                while k + 1 < len(traj.points):
                    tk = traj.points[k + 1].time_from_start
                    if (tk.sec + 1e-9 * tk.nanosec) / self.speed > elapsed:
                        break
                    k += 1
                self.q = np.array([traj.points[k].positions[i] for i in index])
            done = elapsed >= duration
            if done and (not hold or self._release.is_set()):
                break
            time.sleep(0.01)
        if self.arm_mode != "stuck":
            self.q = np.array([traj.points[-1].positions[i] for i in index])
        handle.succeed()
        result.error_code = 0
        return result

    def _gripper(self, kind):
        def run(handle):
            self.gripper_goals.append(kind)
            handle.succeed()
            res = self._types[kind].Result()
            if kind == "gripper_command":
                res.position = handle.request.command.position
                res.reached_goal = True
            else:
                res.success = True
            return res

        return run

    def close(self):
        # end running goals first: their threads must not touch a destroyed server
        self._closing.set()
        self._release.set()
        time.sleep(0.1)
        self._spin.close()
        destroy_actions(self.node)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)
