"""``states_publisher``: publish a states CSV as a latched ``real2sim_interfaces/StateTrajectory``.

A thin adapter: parameters -> :func:`real2sim_core.read_states_csv` -> message. Useful to replay
an estimate (or the paper authors' published state files) into RViz or into the policy node.

Parameters:
    states_file (str): the CSV to publish ("" = wait until it is set).
    action (str): action name; "" = from the file's metadata.
    aligned (bool): publish the trajectory in the aligned frame (METHOD section 4).
    scale (float): alignment scale (default 1.5).
    topic (str): output topic, default ``real2sim/state_trajectory``.

Setting ``states_file`` at run time (``ros2 param set``) re-reads and re-publishes; a file that
cannot be read is rejected with the reason and the node keeps publishing the previous one.
"""

from __future__ import annotations

import sys

from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from real2sim_core.node_utils import LATCHED_QOS, run_node
from real2sim_core.ros_msgs import trajectory_to_msg
from real2sim_core.topics import STATE_TRAJECTORY_TOPIC

from real2sim_core import ALIGN_SCALE, Real2SimError, read_states_csv
from real2sim_interfaces.msg import StateTrajectory

__all__ = ["StatesPublisherNode", "main"]


class StatesPublisherNode(Node):
    def __init__(self, **kwargs):
        super().__init__("states_publisher", **kwargs)
        self.declare_parameter("states_file", "")
        self.declare_parameter("action", "")
        self.declare_parameter("aligned", False)
        self.declare_parameter("scale", ALIGN_SCALE)
        self.declare_parameter("topic", STATE_TRAJECTORY_TOPIC)
        topic = self.get_parameter("topic").value
        self._pub = self.create_publisher(StateTrajectory, topic, LATCHED_QOS)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        path = self.get_parameter("states_file").value
        if path:
            try:
                self._publish(self._load(path, self.get_parameter("action").value,
                                         self.get_parameter("aligned").value,
                                         self.get_parameter("scale").value))
            except Real2SimError as e:
                self.get_logger().error(f"cannot publish {path}: {e}")

    def _load(self, path, action, aligned, scale):
        traj = read_states_csv(path, action=action or None)
        if aligned and not traj.aligned:
            traj = traj.aligned_frame(scale=scale)
        return traj

    def _publish(self, traj) -> None:
        msg = trajectory_to_msg(traj, stamp=self.get_clock().now().to_msg())
        self._pub.publish(msg)
        self.get_logger().info(
            f"published {traj.num_frames} frames of {traj.action or 'unnamed action'} "
            f"({msg.header.frame_id}) on {self._pub.topic_name}"
        )

    def _on_set_parameters(self, params) -> SetParametersResult:
        values = {p.name: p.value for p in params}
        if "topic" in values:
            return SetParametersResult(successful=False, reason="topic is fixed at start-up")
        if "scale" in values and not (isinstance(values["scale"], float) and values["scale"] > 0):
            return SetParametersResult(successful=False,
                                       reason="scale must be a positive float, got "
                                              f"{values['scale']!r}")
        if "states_file" not in values or not values["states_file"]:
            return SetParametersResult(successful=True)
        try:
            traj = self._load(
                values["states_file"],
                values.get("action", self.get_parameter("action").value),
                values.get("aligned", self.get_parameter("aligned").value),
                values.get("scale", self.get_parameter("scale").value),
            )
        except Real2SimError as e:
            return SetParametersResult(successful=False, reason=str(e))
        self._publish(traj)
        return SetParametersResult(successful=True)


def main(args=None) -> None:
    run_node(StatesPublisherNode, args=args, threads=1)


if __name__ == "__main__":
    sys.exit(main())
