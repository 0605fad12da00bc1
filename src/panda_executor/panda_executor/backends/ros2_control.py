"""``ros2_control`` backend: the Panda's controllers directly, from inside the executor node.

Execution of an :class:`~panda_executor.executor.ExecutionPlan`, step by step
(:func:`build_requests` lists them as plain data):

1. ``move_to_start``: a synchronised joint move from the robot's *measured* configuration
   (``robot.joint_states_topic``, read only) to the first configuration of the plan;
2. for each chunk: the gripper command -- ``franka_msgs/action/Move`` / ``Grasp`` on
   ``<robot.gripper_namespace>/move|grasp`` (franka_gripper, the real hand) or
   ``control_msgs/action/GripperCommand`` on ``robot.gripper_command_action`` (a ros2_control
   GripperActionController: mock hardware, Gazebo) -- then the chunk's joint trajectory as a
   ``control_msgs/action/FollowJointTrajectory`` goal to ``robot.arm_action``.

Before each trajectory the measured state must be within ``robot.start_tolerance`` of its first
point. Every failure ends the execution with ``step i/n (what): why``: a server that never
appears, a goal the controller rejects, a result with an error code, a result that is late
(the goal is then cancelled, which makes a JointTrajectoryController hold its position), a robot
far from the trajectory start. Cancelling stops the arm the same way.

Threading: the backend lives as long as its node and runs inside the node's action callback on
a :class:`rclpy.executors.MultiThreadedExecutor`. It never spins: it sends goals with the
``*_async`` calls and waits on the futures with :class:`threading.Event` (their callbacks run on
the executor's other threads, in this backend's :class:`ReentrantCallbackGroup`), so the node
keeps serving goals, cancels and parameter calls meanwhile.

The ROS packages (rclpy, control_msgs, franka_msgs, sensor_msgs) are imported when the backend
is created, never at module import.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .. import panda
from ..config import ExecutorConfig
from ..gripper import GraspGoal, MoveGoal
from ..timing import JointTrajectory, trapezoid_move
from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = [
    "Ros2ControlBackend",
    "build_requests",
    "joint_trajectory_dict",
    "gripper_request",
    "to_joint_trajectory_msg",
    "step_label",
    "FJT_ERRORS",
    "StepFailed",
]

#: ``control_msgs/action/FollowJointTrajectory`` result codes (control_msgs 5.x, jazzy)
FJT_ERRORS = {0: "SUCCESSFUL", -1: "INVALID_GOAL", -2: "INVALID_JOINTS",
              -3: "OLD_HEADER_TIMESTAMP", -4: "PATH_TOLERANCE_VIOLATED",
              -5: "GOAL_TOLERANCE_VIOLATED"}

#: GoalStatus values (action_msgs/msg/GoalStatus)
_STATUS = {4: "succeeded", 5: "canceled", 6: "aborted"}

#: seconds between repeated result requests of a goal whose result is due
RESULT_RETRY = 2.0

#: a GripperCommand "move" counts as reached within this many metres of its target position
GRIPPER_POSITION_TOLERANCE = 0.005


def _duration(t: float) -> dict:
    sec = int(np.floor(t))
    nanosec = int(round((t - sec) * 1e9))
    if nanosec >= 1_000_000_000:
        sec, nanosec = sec + 1, nanosec - 1_000_000_000
    return {"sec": sec, "nanosec": nanosec}


def joint_trajectory_dict(traj: JointTrajectory, joint_names=panda.ARM_JOINT_NAMES) -> dict:
    """``trajectory_msgs/JointTrajectory`` contents as a dict (field names of the message).

    ``header.stamp`` is left zero ("start now"); times are ``time_from_start``.
    """
    return {
        "header": {"frame_id": panda.BASE_LINK, "stamp": {"sec": 0, "nanosec": 0}},
        "joint_names": list(joint_names),
        "points": [
            {
                "positions": [float(v) for v in traj.positions[k]],
                "velocities": [float(v) for v in traj.velocities[k]],
                "accelerations": [float(v) for v in traj.accelerations[k]],
                "effort": [],
                "time_from_start": _duration(float(traj.times[k])),
            }
            for k in range(len(traj))
        ],
    }


def gripper_request(goal, robot) -> dict:
    """The gripper action request of ``goal`` (:class:`MoveGoal` / :class:`GraspGoal`) for the
    ``robot`` config's interface: ``action_name``, ``action_type``, ``goal`` (message fields),
    ``grasp`` and the commanded ``width``."""
    if not isinstance(goal, (MoveGoal, GraspGoal)):
        raise TypeError(f"unknown gripper goal {goal!r}")
    grasp = isinstance(goal, GraspGoal)
    if robot.gripper_interface == "franka":
        ns = robot.gripper_namespace.rstrip("/")
        kind = "Grasp" if grasp else "Move"
        return {"action_name": f"{ns}/{kind.lower()}", "action_type": f"franka_msgs/action/{kind}",
                "goal": goal.to_dict(), "grasp": grasp, "width": goal.width}
    # GripperActionController: the position of one finger joint (half the width)
    effort = goal.force if grasp else panda.GRIPPER_MAX_CONTINUOUS_FORCE
    return {"action_name": robot.gripper_command_action,
            "action_type": "control_msgs/action/GripperCommand",
            "goal": {"command": {"position": goal.width / 2, "max_effort": float(effort)}},
            "grasp": grasp, "width": goal.width}


def build_requests(plan, config: ExecutorConfig) -> list[dict]:
    """Everything the backend will send, in order, as plain data.

    Returns:
        A list of steps, each ``{"kind": "move_to_start" | "gripper" | "trajectory" | "skip",
        ...}`` (``skip``: a gripper command without a hand, with its ``note``):
        ``move_to_start`` has ``joint_positions`` (the plan's first configuration, rad);
        ``gripper`` has the fields of :func:`gripper_request`; ``trajectory`` has ``chunk``,
        ``name``, ``duration`` and ``joint_trajectory`` (see :func:`joint_trajectory_dict`).
    """
    steps = [{"kind": "move_to_start", "name": "move_to_start",
              "joint_positions": [float(v) for v in plan.main.positions[0]],
              "duration": float(plan.move_to_start.duration)}]
    for i, ch in enumerate(plan.chunks(include_move_to_start=False)):
        if ch.gripper is not None and config.robot.gripper_interface == "none":
            steps.append({"kind": "skip", "chunk": i, "name": ch.name,
                          "note": f"gripper {ch.gripper.goal.action} skipped "
                                  "(robot.gripper_interface = none)"})
        elif ch.gripper is not None:
            steps.append({"kind": "gripper", "chunk": i, "name": ch.name,
                          **gripper_request(ch.gripper.goal, config.robot)})
        if len(ch.trajectory) >= 2:
            steps.append({"kind": "trajectory", "chunk": i, "name": ch.name,
                          "duration": float(ch.trajectory.duration),
                          "joint_trajectory": joint_trajectory_dict(ch.trajectory)})
    return steps


def step_label(i: int, n: int, step: dict) -> str:
    """``step 3/7 (gripper grasp via /panda_gripper/grasp)`` and the like."""
    if step["kind"] == "skip":
        what = step["note"]
    elif step["kind"] == "gripper":
        what = f"gripper {'grasp' if step['grasp'] else 'open'} via {step['action_name']}"
    elif step["kind"] == "trajectory":
        what = f"arm trajectory '{step['name']}' of chunk {step['chunk']}"
    else:
        what = "move to the start configuration"
    return f"step {i + 1}/{n} ({what})"


def to_joint_trajectory_msg(d: dict):
    """dict from :func:`joint_trajectory_dict` -> ``trajectory_msgs.msg.JointTrajectory``."""
    from builtin_interfaces.msg import Duration
    from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg
    from trajectory_msgs.msg import JointTrajectoryPoint

    msg = JointTrajectoryMsg()
    msg.header.frame_id = d["header"]["frame_id"]
    msg.joint_names = list(d["joint_names"])
    for p in d["points"]:
        pt = JointTrajectoryPoint()
        pt.positions = p["positions"]
        pt.velocities = p["velocities"]
        pt.accelerations = p["accelerations"]
        pt.time_from_start = Duration(sec=p["time_from_start"]["sec"],
                                      nanosec=p["time_from_start"]["nanosec"])
        msg.points.append(pt)
    return msg


def to_gripper_goal_msg(req: dict):
    """A ``gripper`` step -> ``(action type class, goal message)`` (franka_msgs or
    control_msgs, imported here)."""
    g = req["goal"]
    if req["action_type"] == "control_msgs/action/GripperCommand":
        from control_msgs.action import GripperCommand

        goal = GripperCommand.Goal()
        goal.command.position = float(g["command"]["position"])
        goal.command.max_effort = float(g["command"]["max_effort"])
        return GripperCommand, goal
    from franka_msgs.action import Grasp, Move

    if req["action_type"] == "franka_msgs/action/Grasp":
        goal = Grasp.Goal()
        goal.width = float(g["width"])
        goal.epsilon.inner = float(g["epsilon"]["inner"])
        goal.epsilon.outer = float(g["epsilon"]["outer"])
        goal.speed = float(g["speed"])
        goal.force = float(g["force"])
        return Grasp, goal
    goal = Move.Goal()
    goal.width = float(g["width"])
    goal.speed = float(g["speed"])
    return Move, goal


class StepFailed(Exception):
    """A step ended the execution: ``status`` (FAILED / CANCELED) and the reason."""

    def __init__(self, why: str, status=ExecutionStatus.FAILED):
        super().__init__(why)
        self.status = status


class Ros2ControlBackend(Backend):
    """Executes plans on the Panda's ROS 2 controllers (see the module docstring).

    Args:
        config: executor configuration (``robot``, ``timing`` and ``workspace`` used here).
        node: the rclpy node the action clients and the joint-state subscription live on
            (the executor node; it must be spun by a multi-threaded executor).
    """

    name = "ros2_control"

    def __init__(self, config: ExecutorConfig | None = None, node=None, **_):
        from rclpy.callback_groups import ReentrantCallbackGroup
        from real2sim_core.errors import InputError

        if node is None:
            raise InputError(f"the {self.name} backend runs inside a node (executor_node "
                             f"backend:={self.name})")
        self.config = config or ExecutorConfig()
        self._node = node
        self._group = ReentrantCallbackGroup()
        self._clients: dict[str, object] = {}
        self._state_lock = threading.Lock()
        self._state: dict[str, float] = {}
        self._state_time = 0.0
        self._active_goal = None
        self._last_done = 0.0
        self._state_sub = None
        self._state_topic = ""
        self._subscribe()
        self._kin = None

    # -- robot state (read only) ---------------------------------------------------------------

    def _subscribe(self) -> None:
        """Subscribe to ``robot.joint_states_topic`` (again, when the parameter changed)."""
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import JointState

        topic = self.config.robot.joint_states_topic
        if self._state_sub is not None and topic == self._state_topic:
            return
        if self._state_sub is not None:
            self._node.destroy_subscription(self._state_sub)
            with self._state_lock:
                self._state, self._state_time = {}, 0.0
        self._state_sub = self._node.create_subscription(
            JointState, topic, self._on_joint_state, qos_profile_sensor_data,
            callback_group=self._group)
        self._state_topic = topic

    def _on_joint_state(self, msg) -> None:
        with self._state_lock:
            for name, pos in zip(msg.name, msg.position):
                self._state[name] = float(pos)
            self._state_time = time.monotonic()

    def measured_arm_state(self, timeout: float, newer_than: float = 0.0) -> np.ndarray | None:
        """The last measured arm configuration received after ``newer_than`` (monotonic s), or
        None when none arrives within ``timeout`` s."""
        t_end = time.monotonic() + timeout
        while True:
            with self._state_lock:
                if self._state_time > newer_than and all(
                        n in self._state for n in panda.ARM_JOINT_NAMES):
                    return np.array([self._state[n] for n in panda.ARM_JOINT_NAMES])
            if time.monotonic() >= t_end:
                return None
            time.sleep(0.01)

    # -- waiting without spinning ----------------------------------------------------------------

    @staticmethod
    def _wait(future, timeout: float, cancel=None) -> str:
        """Wait for an rclpy future: ``"done"``, ``"timeout"`` or ``"canceled"``."""
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        t_end = time.monotonic() + timeout
        while not done.wait(0.02):
            if cancel is not None and cancel():
                return "canceled"
            if time.monotonic() >= t_end:
                return "timeout"
        return "done"

    def _client(self, action_type, name: str):
        from real2sim_core.node_utils import SpinSafeActionClient

        key = f"{name}:{action_type.__name__}"
        if key not in self._clients:  # created during a goal, while the node spins
            self._clients[key] = SpinSafeActionClient(self._node, action_type, name,
                                                      callback_group=self._group)
        return self._clients[key]

    def _send(self, action_type, name: str, goal, cancel):
        """Wait for the server, send ``goal``, wait for acceptance; returns the goal handle."""
        rc = self.config.robot
        client = self._client(action_type, name)
        t_end = time.monotonic() + rc.server_timeout
        while not client.server_is_ready():
            if cancel is not None and cancel():
                raise StepFailed("canceled while waiting for the server",
                                  ExecutionStatus.CANCELED)
            if time.monotonic() >= t_end:
                raise StepFailed(f"action server {name} not available after "
                                  f"{rc.server_timeout} s (is its controller/node running?)")
            time.sleep(0.02)
        fut = client.send_goal_async(goal)
        state = self._wait(fut, rc.server_timeout)
        if state != "done" or fut.result() is None:
            raise StepFailed(f"{name} did not answer the goal within {rc.server_timeout} s")
        handle = fut.result()
        if not handle.accepted:
            raise StepFailed(f"{name} rejected the goal")
        return handle

    def _result(self, handle, timeout: float, cancel):
        """Wait for ``handle``'s result: ``(future, "done" | "timeout" | "canceled")``. The
        request is repeated every :data:`RESULT_RETRY` s (a response can be lost while DDS
        still matches the endpoints; the server answers a repeated request the same)."""
        t_end = time.monotonic() + timeout
        while True:
            fut = handle.get_result_async()
            state = self._wait(fut, min(RESULT_RETRY, max(0.0, t_end - time.monotonic())),
                               cancel)
            if state != "timeout" or time.monotonic() >= t_end:
                return fut, state

    def _stop(self, handle, why: str) -> str:
        """Cancel ``handle`` (a JointTrajectoryController then holds its position)."""
        fut = handle.cancel_goal_async()
        state = self._wait(fut, self.config.robot.server_timeout)
        if state == "done":
            return f"{why}; the arm was stopped"
        return f"{why}; the stop request got no answer within {self.config.robot.server_timeout} s"

    # -- steps -----------------------------------------------------------------------------------

    def _gripper(self, step, cancel) -> str:
        rc = self.config.robot
        action_type, goal = to_gripper_goal_msg(step)
        handle = self._send(action_type, step["action_name"], goal, cancel)
        res_fut, state = self._result(handle, rc.gripper_timeout, cancel)
        if state == "canceled":
            handle.cancel_goal_async()
            raise StepFailed("canceled", ExecutionStatus.CANCELED)
        if state == "timeout":
            handle.cancel_goal_async()
            raise StepFailed(f"no result from {step['action_name']} within "
                              f"{rc.gripper_timeout} s (robot.gripper_timeout)")
        wrapped = res_fut.result()
        status, result = wrapped.status, wrapped.result
        if status != 4:
            raise StepFailed(f"{step['action_name']} {_STATUS.get(status, f'status {status}')}"
                              f" the goal" + (f": {result.error}" if getattr(result, "error", "")
                                              else ""))
        if step["action_type"].startswith("franka_msgs"):
            if result.success:
                return ""
            if step["grasp"]:  # pushes close on nothing: reported, not fatal
                return f"{step['action_name']}: grasp reported no object ({result.error})"
            raise StepFailed(f"{step['action_name']} failed: {result.error or 'no reason given'}")
        target = step["goal"]["command"]["position"]
        if step["grasp"] or result.reached_goal or \
                abs(result.position - target) <= GRIPPER_POSITION_TOLERANCE:
            return "" if (result.reached_goal or not step["grasp"]) else \
                f"{step['action_name']}: stalled at {result.position:.4f} m (holding)"
        raise StepFailed(f"{step['action_name']} stopped at {result.position:.4f} m, target "
                          f"{target:.4f} m")

    def _check_start(self, q_start, what: str) -> np.ndarray:
        rc = self.config.robot
        q = self.measured_arm_state(rc.state_timeout, newer_than=self._last_done)
        if q is None:
            raise StepFailed(f"no joint state of the arm on {rc.joint_states_topic} within "
                              f"{rc.state_timeout} s")
        d = np.abs(q - np.asarray(q_start))
        j = int(np.argmax(d))
        if d[j] > rc.start_tolerance:
            raise StepFailed(
                f"the robot is {d[j]:.3f} rad from the start of {what} at "
                f"{panda.ARM_JOINT_NAMES[j]} (measured {q[j]:.3f}, planned {q_start[j]:.3f}; "
                f"robot.start_tolerance = {rc.start_tolerance} rad)")
        return q

    def _trajectory(self, step, cancel, report) -> str:
        jt = step["joint_trajectory"]
        self._check_start(jt["points"][0]["positions"], f"trajectory '{step['name']}'")
        return self._send_trajectory(to_joint_trajectory_msg(jt), step["duration"], cancel,
                                     report)

    def _send_trajectory(self, msg, duration: float, cancel, report) -> str:
        """Send a ``trajectory_msgs/JointTrajectory`` to the arm controller and wait for it."""
        from control_msgs.action import FollowJointTrajectory

        rc = self.config.robot
        goal = FollowJointTrajectory.Goal()
        goal.trajectory = msg
        handle = self._send(FollowJointTrajectory, rc.arm_action, goal, cancel)
        self._active_goal = handle
        try:
            res_fut = handle.get_result_async()
            t0 = time.monotonic()
            limit = duration + rc.trajectory_margin
            asked = t0
            while True:
                state = self._wait(res_fut, 0.1, cancel)
                if state == "done":
                    break
                now = time.monotonic()
                if now - t0 > duration + RESULT_RETRY and now - asked > RESULT_RETRY:
                    res_fut, asked = handle.get_result_async(), now  # a lost response
                if state == "canceled":
                    raise StepFailed(self._stop(handle, "canceled"), ExecutionStatus.CANCELED)
                elapsed = time.monotonic() - t0
                report(min(elapsed, duration))
                if elapsed > limit:
                    raise StepFailed(self._stop(
                        handle, f"no result from {rc.arm_action} {limit:.1f} s after the start "
                        f"(duration {duration:.1f} s + robot.trajectory_margin)"))
        finally:
            self._active_goal = None
        wrapped = res_fut.result()
        code = int(getattr(wrapped.result, "error_code", 0))
        if wrapped.status != 4 or code != 0:
            text = wrapped.result.error_string or "no reason given"
            raise StepFailed(f"{rc.arm_action} {_STATUS.get(wrapped.status, 'ended')} the "
                              f"trajectory: error {code} ({FJT_ERRORS.get(code, '?')}): {text}")
        self._last_done = time.monotonic()
        return ""

    def _move_to_start_trajectory(self, step) -> JointTrajectory | None:
        """A joint move from the measured state to the plan's first configuration (None when
        the robot is already there)."""
        rc, tc, ws = self.config.robot, self.config.timing, self.config.workspace
        q0 = self.measured_arm_state(rc.state_timeout)
        if q0 is None:
            raise StepFailed(f"no joint state of the arm on {rc.joint_states_topic} within "
                              f"{rc.state_timeout} s")
        target = np.asarray(step["joint_positions"])
        if np.abs(target - q0).max() <= rc.start_tolerance:
            return None
        move = trapezoid_move(q0, target, tc.move_to_start_velocity_scaling * panda.DQ_MAX,
                              tc.acceleration_scaling * panda.DDQ_MAX)
        if self._kin is None:
            from ..kinematics import PandaKinematics

            self._kin = PandaKinematics()
        p, _ = self._kin.fk_batch(move.positions)
        if (p[:, 2] - ws.table_height < ws.min_tcp_height).any():
            raise StepFailed("the joint move from the robot's configuration to the start would "
                              f"take the TCP below {ws.min_tcp_height} m above the table; move "
                              "the robot up first")
        return move

    def _move_to_start(self, step, cancel, report) -> str:
        move = self._move_to_start_trajectory(step)
        if move is None:
            return ""
        return self._trajectory({**step, "kind": "trajectory", "chunk": -1,
                                 "duration": float(move.duration),
                                 "joint_trajectory": joint_trajectory_dict(move)}, cancel, report)

    # -- hooks of the moveit backend ------------------------------------------------------------

    def prepare(self, plan) -> None:
        """Called before the first step (the moveit backend updates its planning scene)."""

    # -- execution -------------------------------------------------------------------------------

    def execute(self, plan, *, progress=None, cancel=None) -> ExecutionResult:
        """Run ``plan`` on the controllers; see :meth:`Backend.execute`. ROS-side failures are
        returned as a FAILED result naming the step and the reason."""
        self._subscribe()
        steps = build_requests(plan, self.config)
        n = len(steps)
        total = sum(s.get("duration", 0.0) for s in steps) or 1.0
        done = 0.0
        notes: list[str] = []
        t_start = time.monotonic()
        try:
            self.prepare(plan)
        except StepFailed as e:
            return ExecutionResult(e.status, f"preparing the scene: {e}",
                                   details={"notes": notes, "steps": n})
        for i, step in enumerate(steps):
            label = step_label(i, n, step)
            if cancel is not None and cancel():
                return ExecutionResult(ExecutionStatus.CANCELED, f"canceled before {label}",
                                       time.monotonic() - t_start, details={"notes": notes})

            def report(t, _i=i, _step=step, _done=done):
                if progress is not None:
                    progress(Progress(min(1.0, (_done + t) / total), int(_step.get("chunk", -1)),
                                      _step["name"], _done + t))

            report(0.0)
            try:
                if step["kind"] == "skip":
                    note = step["note"]
                elif step["kind"] == "gripper":
                    note = self._gripper(step, cancel)
                elif step["kind"] == "move_to_start":
                    note = self._move_to_start(step, cancel, report)
                else:
                    note = self._trajectory(step, cancel, report)
            except StepFailed as e:
                return ExecutionResult(e.status, f"{label}: {e}", time.monotonic() - t_start,
                                       details={"notes": notes, "steps": n, "failed_step": i})
            if note:
                notes.append(note)
            done += step.get("duration", 0.0)
        return ExecutionResult(ExecutionStatus.SUCCEEDED, f"executed on {self.name}",
                               time.monotonic() - t_start, None, {"notes": notes, "steps": n})

    def close(self) -> None:
        """Release the action clients and the subscription (the node outlives the backend)."""
        handle = self._active_goal
        if handle is not None:
            handle.cancel_goal_async()
        for c in self._clients.values():
            c.destroy()
        self._clients.clear()
        if self._state_sub is not None:
            self._node.destroy_subscription(self._state_sub)
            self._state_sub = None
