"""``moveit`` backend: moveit_py (ROS 2 Jazzy) for the arm, franka_gripper actions for the hand.

Execution of an :class:`~panda_executor.executor.ExecutionPlan`:

1. move to the start: plan with MoveIt to the first joint configuration (collision-aware;
   ``moveit.plan_to_start``) or send the executor's own joint move;
2. for each chunk: send the gripper goal to ``<gripper_namespace>/move`` or ``/grasp``
   (``franka_msgs/action/Move``, ``Grasp``) and wait for its result, then execute the chunk's
   ``trajectory_msgs/JointTrajectory`` through ``MoveItPy.execute`` (MoveIt's trajectory
   execution manager sends it to ``panda_arm_controller``'s FollowJointTrajectory action).

MoveIt, rclpy, moveit_msgs and franka_msgs are imported lazily inside :meth:`execute`; the
requests this backend sends are built by :func:`build_requests` as plain dicts with the
messages' field names (tested without ROS), and converted by :func:`to_joint_trajectory_msg` /
:func:`to_gripper_goal_msg` at the API boundary.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import panda
from ..config import ExecutorConfig, MoveItConfig
from ..gripper import GraspGoal, MoveGoal
from ..timing import JointTrajectory
from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = [
    "MoveItBackend",
    "build_requests",
    "joint_trajectory_dict",
    "gripper_goal_dict",
    "to_joint_trajectory_msg",
    "to_gripper_goal_msg",
]


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


def gripper_goal_dict(goal, namespace: str) -> dict:
    """The franka_gripper action request: action name, type and goal fields."""
    ns = namespace.rstrip("/")
    if isinstance(goal, GraspGoal):
        return {"action_name": f"{ns}/grasp", "action_type": "franka_msgs/action/Grasp",
                "goal": goal.to_dict()}
    if isinstance(goal, MoveGoal):
        return {"action_name": f"{ns}/move", "action_type": "franka_msgs/action/Move",
                "goal": goal.to_dict()}
    raise TypeError(f"unknown gripper goal {goal!r}")


def build_requests(plan, config: MoveItConfig) -> list[dict]:
    """Everything the backend will send, in order, as plain data.

    Returns:
        A list of steps, each ``{"kind": "plan_to_joints" | "trajectory" | "gripper", ...}``:
        ``plan_to_joints`` has ``group`` and ``joint_positions`` (name -> rad);
        ``trajectory`` has ``chunk``, ``name`` and ``joint_trajectory`` (see
        :func:`joint_trajectory_dict`); ``gripper`` has ``action_name``, ``action_type``
        and ``goal``.
    """
    steps = []
    chunks = plan.chunks(include_move_to_start=not config.plan_to_start)
    if config.plan_to_start:
        q0 = plan.main.positions[0]
        steps.append({"kind": "plan_to_joints", "group": config.arm_group,
                      "joint_positions": dict(zip(panda.ARM_JOINT_NAMES, map(float, q0)))})
    for i, ch in enumerate(chunks):
        if ch.gripper is not None:
            steps.append({"kind": "gripper", "chunk": i,
                          **gripper_goal_dict(ch.gripper.goal, config.gripper_namespace)})
        if len(ch.trajectory) >= 2:
            steps.append({"kind": "trajectory", "chunk": i, "name": ch.name,
                          "joint_trajectory": joint_trajectory_dict(ch.trajectory)})
    return steps


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
    """A ``gripper`` step -> ``(action type class, goal message)`` (needs franka_msgs)."""
    from franka_msgs.action import Grasp, Move

    g = req["goal"]
    if req["action_type"].endswith("/Grasp"):
        goal = Grasp.Goal()
        goal.width = g["width"]
        goal.epsilon.inner = g["epsilon"]["inner"]
        goal.epsilon.outer = g["epsilon"]["outer"]
        goal.speed = g["speed"]
        goal.force = g["force"]
        return Grasp, goal
    goal = Move.Goal()
    goal.width = g["width"]
    goal.speed = g["speed"]
    return Move, goal


class MoveItBackend(Backend):
    """Executes plans on a Panda through moveit_py and franka_gripper (ROS 2 Jazzy).

    Args:
        config: executor configuration (``moveit`` section used here).
        moveit: an existing ``moveit.planning.MoveItPy`` instance (default: one is created).
        node: an existing rclpy node for the gripper action clients (default: one is created).
    """

    name = "moveit"

    def __init__(self, config: ExecutorConfig | None = None, moveit=None, node=None, **_):
        self.config = config or ExecutorConfig()
        self._moveit = moveit
        self._node = node
        self._own_node = False

    def requests(self, plan) -> list[dict]:
        """What :meth:`execute` would send (see :func:`build_requests`)."""
        return build_requests(plan, self.config.moveit)

    # -- ROS side (lazy imports) ---------------------------------------------------------------

    def _connect(self):
        import rclpy
        from moveit.planning import MoveItPy

        if not rclpy.ok():
            rclpy.init()
        if self._moveit is None:
            self._moveit = MoveItPy(node_name=self.config.moveit.node_name)
        if self._node is None:
            self._node = rclpy.create_node(self.config.moveit.node_name + "_gripper")
            self._own_node = True
        self._clients = {}

    def _send_gripper(self, req) -> tuple[bool, str]:
        import rclpy
        from rclpy.action import ActionClient

        mc = self.config.moveit
        action_type, goal = to_gripper_goal_msg(req)
        name = req["action_name"]
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = ActionClient(self._node, action_type, name)
        if not client.wait_for_server(timeout_sec=mc.server_timeout):
            return False, f"gripper action server {name} not available after {mc.server_timeout} s"
        fut = client.send_goal_async(goal)
        rclpy.spin_until_future_complete(self._node, fut, timeout_sec=mc.server_timeout)
        handle = fut.result()
        if handle is None or not handle.accepted:
            return False, f"gripper goal to {name} was rejected"
        res_fut = handle.get_result_async()
        rclpy.spin_until_future_complete(self._node, res_fut, timeout_sec=mc.result_timeout)
        res = res_fut.result()
        if res is None:
            handle.cancel_goal_async()
            return False, f"no result from {name} within {mc.result_timeout} s"
        success = bool(getattr(res.result, "success", True))
        if not success:
            err = getattr(res.result, "error", "")
            # a grasp that closes on nothing is expected for pushes: report, do not abort
            if req["action_type"].endswith("/Grasp"):
                return True, f"{name}: grasp reported no object ({err})"
            return False, f"{name} failed: {err}"
        return True, ""

    def _execute_trajectory(self, step) -> tuple[bool, str]:
        from moveit.core.robot_state import RobotState
        from moveit.core.robot_trajectory import RobotTrajectory
        from moveit_msgs.msg import RobotTrajectory as RobotTrajectoryMsg

        mc = self.config.moveit
        model = self._moveit.get_robot_model()
        msg = RobotTrajectoryMsg()
        msg.joint_trajectory = to_joint_trajectory_msg(step["joint_trajectory"])
        start = RobotState(model)
        start.set_joint_group_positions(
            mc.arm_group, np.array(step["joint_trajectory"]["points"][0]["positions"]))
        start.update()
        traj = RobotTrajectory(model)
        traj.set_robot_trajectory_msg(start, msg)
        traj.joint_model_group_name = mc.arm_group
        status = self._moveit.execute(traj, controllers=list(mc.controllers))
        return _status_ok(status)

    def _plan_to_joints(self, step) -> tuple[bool, str]:
        from moveit.core.robot_state import RobotState

        mc = self.config.moveit
        arm = self._moveit.get_planning_component(mc.arm_group)
        arm.set_start_state_to_current_state()
        goal = RobotState(self._moveit.get_robot_model())
        goal.set_joint_group_positions(
            mc.arm_group, np.array([step["joint_positions"][n] for n in panda.ARM_JOINT_NAMES]))
        goal.update()
        arm.set_goal_state(robot_state=goal)
        result = arm.plan()
        if not result:
            return False, "MoveIt found no plan to the start configuration"
        return _status_ok(self._moveit.execute(result.trajectory,
                                               controllers=list(mc.controllers)))

    def _stop(self):
        getter = getattr(self._moveit, "get_trajectory_execution_manager", None) or \
            getattr(self._moveit, "get_trajactory_execution_manager", None)
        if getter is not None:
            getter().stop_execution()

    def execute(self, plan, *, progress=None, cancel=None) -> ExecutionResult:
        """Send the plan to MoveIt and franka_gripper; see :meth:`Backend.execute`.

        ROS-side failures (no MoveIt, server missing, controller abort) are returned as a
        FAILED result with the reason; nothing is raised for them.
        """
        steps = self.requests(plan)
        try:
            self._connect()
        except ImportError as e:
            return ExecutionResult(ExecutionStatus.FAILED,
                                   f"moveit backend unavailable here ({e}); it needs ROS 2 "
                                   "Jazzy with moveit_py and franka_msgs (the Docker image)",
                                   details={"requests": len(steps)})
        except Exception as e:  # noqa: BLE001 - a ROS-side failure is a result, not a crash
            return ExecutionResult(ExecutionStatus.FAILED, f"cannot start MoveItPy: {e}")
        stop_watch = threading.Event()
        if cancel is not None:
            def watch():
                while not stop_watch.wait(0.05):
                    if cancel():
                        self._stop()
                        return

            threading.Thread(target=watch, daemon=True).start()
        notes = []
        try:
            for i, step in enumerate(steps):
                if cancel is not None and cancel():
                    return ExecutionResult(ExecutionStatus.CANCELED, f"canceled before step {i}")
                if progress is not None:
                    progress(Progress(i / len(steps), int(step.get("chunk", -1)),
                                      step.get("name", step["kind"]), 0.0))
                if step["kind"] == "gripper":
                    ok, why = self._send_gripper(step)
                elif step["kind"] == "plan_to_joints":
                    ok, why = self._plan_to_joints(step)
                else:
                    ok, why = self._execute_trajectory(step)
                if why:
                    notes.append(why)
                if not ok:
                    status = ExecutionStatus.CANCELED if (cancel and cancel()) else \
                        ExecutionStatus.FAILED
                    return ExecutionResult(status, f"step {i} ({step['kind']}): {why}",
                                           details={"notes": notes})
        finally:
            stop_watch.set()
        return ExecutionResult(ExecutionStatus.SUCCEEDED, "executed on the robot",
                               plan.duration, None, {"notes": notes, "steps": len(steps)})

    def close(self) -> None:
        if self._own_node and self._node is not None:
            self._node.destroy_node()
            self._node = None


def _status_ok(status) -> tuple[bool, str]:
    """MoveItPy.execute returns a bool (Humble-era bindings), None, or an ExecutionStatus."""
    if status is None or status is True:
        return True, ""
    if status is False:
        return False, "trajectory execution failed"
    text = str(getattr(status, "status", status))
    ok = "SUCCEEDED" in text.upper() or bool(status) is True and "FAIL" not in text.upper()
    return ok, "" if ok else f"trajectory execution: {text}"
