"""A Python API over the Real2Sim nodes' services and action (in the manner of
nav2_simple_commander): each call waits for its server with a timeout, sends the request, and
returns a plain result dict with ``success`` and ``message``; nothing raises on a ROS-side failure.

The client also records every topic of :data:`real2sim_core.topics.RECORDED_TOPICS` into a
rosbag2 MCAP (raw CDR bytes as received, through :class:`~real2sim_bringup.bag.BagWriter`).
"""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.action import ActionClient
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from real2sim_core.node_utils import LATCHED_QOS, STREAM_QOS, BackgroundSpin, destroy_actions

from real2sim_core import topics as T
from real2sim_interfaces.action import ExecutePlan
from real2sim_interfaces.srv import EstimateTrajectory, RolloutPolicy

from .bag import BagWriter

__all__ = ["PipelineClient"]

_VOLATILE_TOPICS = {"/" + T.JOINT_STATES_TOPIC}


class PipelineClient:
    """Drive the perception, policy and executor nodes; record their topics.

    Args:
        bag_path: directory of the rosbag2 to write (must not exist), or None for no bag.
        procs: optional ``name -> subprocess.Popen`` of the nodes, to report early exits.
    """

    def __init__(self, bag_path=None, procs=None, node_name: str = "real2sim_client"):
        self._procs = procs or {}
        self._ctx = rclpy.Context()
        rclpy.init(context=self._ctx)
        self.node = rclpy.create_node(node_name, context=self._ctx)
        self._group = ReentrantCallbackGroup()
        self._bag = BagWriter(bag_path) if bag_path is not None else None
        self._bag_lock = threading.Lock()
        self._subs = []
        if self._bag is not None:
            for topic, cls in T.topic_types().items():
                qos = STREAM_QOS if topic in _VOLATILE_TOPICS else LATCHED_QOS
                self._subs.append(self.node.create_subscription(
                    cls, topic, self._recorder(topic, cls), qos, raw=True,
                    callback_group=self._group))
        self._estimate = self.node.create_client(EstimateTrajectory, T.ESTIMATE_SERVICE,
                                                 callback_group=self._group)
        self._rollout = self.node.create_client(RolloutPolicy, T.ROLLOUT_SERVICE,
                                                callback_group=self._group)
        self._execute = ActionClient(self.node, ExecutePlan, T.EXECUTE_ACTION,
                                     callback_group=self._group)
        executor = MultiThreadedExecutor(num_threads=3, context=self._ctx)
        executor.add_node(self.node)
        self._spin = BackgroundSpin(executor)
        self.last_plan = None
        self.feedback: list = []

    # -- recording -----------------------------------------------------------------------------

    def _recorder(self, topic, cls):
        def callback(data: bytes):
            stamp = self.node.get_clock().now().nanoseconds
            with self._bag_lock:
                if self._bag is not None:
                    self._bag.write(topic, cls, data, stamp)

        return callback

    def bag_counts(self) -> dict[str, int]:
        with self._bag_lock:
            return dict(self._bag.counts) if self._bag is not None else {}

    # -- helpers -------------------------------------------------------------------------------

    def _check_procs(self) -> str:
        dead = [f"{n} (exit {p.returncode})" for n, p in self._procs.items()
                if p.poll() is not None]
        return f"node process(es) exited: {', '.join(dead)}" if dead else ""

    def _wait(self, future, timeout: float):
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                return None, f"no answer within {timeout:.0f} s"
            dead = self._check_procs()
            if dead:
                return None, dead
            time.sleep(0.02)
        return future.result(), ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the three servers are discovered.

        Raises:
            TimeoutError: naming the servers that did not appear (and dead node processes).
        """
        deadline = time.monotonic() + timeout
        pending = {"perception (" + T.ESTIMATE_SERVICE + ")": self._estimate.service_is_ready,
                   "policy (" + T.ROLLOUT_SERVICE + ")": self._rollout.service_is_ready,
                   "executor (" + T.EXECUTE_ACTION + ")": self._execute.server_is_ready}
        while pending and time.monotonic() < deadline:
            pending = {k: f for k, f in pending.items() if not f()}
            dead = self._check_procs()
            if dead:
                raise TimeoutError(f"{dead}; see the node logs")
            time.sleep(0.05)
        if pending:
            raise TimeoutError(f"servers not available after {timeout:.0f} s: "
                               f"{', '.join(pending)}")

    # -- calls ---------------------------------------------------------------------------------

    def estimate(self, action: str, annotations_file: str = "", video_id: str = "",
                 out_dir: str = "", masks_dir: str = "", video_file: str = "",
                 timeout: float = 600.0) -> dict:
        req = EstimateTrajectory.Request(action=action, annotations_file=annotations_file,
                                         video_id=video_id, masks_dir=masks_dir,
                                         video_file=video_file, out_dir=out_dir)
        res, err = self._wait(self._estimate.call_async(req), timeout)
        if res is None:
            return {"success": False, "message": f"estimate {video_id}: {err}",
                    "video_id": video_id}
        return {"success": res.success, "message": res.message, "video_id": video_id,
                "frames": len(res.aligned_trajectory.frames), "out_dir": out_dir}

    def rollout(self, action: str, spec: str = "easy", row: int = 0, seed: int = 0,
                timeout: float = 120.0) -> dict:
        req = RolloutPolicy.Request(action=action, spec=spec, row=row, seed=seed)
        res, err = self._wait(self._rollout.call_async(req), timeout)
        if res is None:
            return {"success": False, "message": f"rollout: {err}", "check_passed": False}
        if res.success:
            self.last_plan = res.plan
        return {"success": res.success, "message": res.message,
                "check_passed": res.check_passed, "waypoints": len(res.plan.waypoints)}

    def execute(self, plan_msg, object_pose, backend: str = "", timeout: float = 600.0) -> dict:
        """Send an ExecutePlan goal; returns the result fields plus the feedback count."""
        if plan_msg is None:
            return {"success": False, "message": "no plan to execute"}
        if not self._execute.wait_for_server(timeout_sec=min(timeout, 30.0)):
            return {"success": False, "message": "executor action server not available"}
        goal = ExecutePlan.Goal(plan=plan_msg, object_x=float(object_pose[0]),
                                object_y=float(object_pose[1]),
                                object_yaw=float(object_pose[2]), backend=backend)
        self.feedback = []
        handle, err = self._wait(
            self._execute.send_goal_async(goal, feedback_callback=self._on_feedback), 30.0)
        if handle is None:
            return {"success": False, "message": f"execute: {err}"}
        if not handle.accepted:
            return {"success": False, "message": "executor rejected the goal"}
        res, err = self._wait(handle.get_result_async(), timeout)
        if res is None:
            handle.cancel_goal_async()
            return {"success": False, "message": f"execute: {err} (goal cancelled)"}
        r = res.result
        return {"success": r.success, "message": r.message, "check_passed": r.check_passed,
                "max_position_error": r.max_position_error,
                "max_orientation_error": r.max_orientation_error,
                "feedback_messages": len(self.feedback),
                "stages": sorted({f.stage for f in self.feedback})}

    def _on_feedback(self, msg) -> None:
        self.feedback.append(msg.feedback)

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        time.sleep(0.3)  # let in-flight latched messages reach the recorder
        self._spin.close()
        with self._bag_lock:
            if self._bag is not None:
                self._bag.close()
                self._bag = None
        destroy_actions(self.node)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self._ctx)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


