"""``perception_node``: estimate coarse 3D state trajectories on request.

A thin adapter over :mod:`real2sim_perception` (the input sources, the estimator and the
output writer that ``real2sim estimate`` uses too):

* service ``real2sim/estimate`` (``real2sim_interfaces/srv/EstimateTrajectory``): one input
  source per request (Something-Else annotations + video id, a mask folder, or a video file
  through the front end); writes the same files as ``real2sim estimate`` into ``out_dir``;
  answers with the raw and aligned trajectories;
* publishes the aligned trajectory on ``real2sim/state_trajectory`` and RViz markers on
  ``real2sim/estimate_markers`` (both latched);
* broadcasts the hand and object frames at the **last frame** of the aligned trajectory as
  static TF transforms (``real2sim_aligned -> <tf.prefix>hand, <tf.prefix>object0, ...``; each
  estimate replaces the previous set) through :class:`real2sim_core.tf_broadcast.TfPublisher`:
  tf2_ros where installed, else a no-op with one info line. ``tf.enabled: false`` turns it off.

Parameters: every field of :class:`~real2sim_perception.config.PerceptionConfig` (dotted names,
``config/perception.yaml``), among them ``out_dir`` (default output root) and
``frontend.detector`` (front-end backend for video requests). Bad requests get
``success = false`` with the reason; the node keeps serving.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from real2sim_core.node_utils import LATCHED_QOS, config_validator, declare_config, run_node
from real2sim_core.ros_msgs import trajectory_markers, trajectory_to_msg
from real2sim_core.textio import check_writable_dir
from real2sim_core.tf_broadcast import TfPublisher, trajectory_transforms
from visualization_msgs.msg import MarkerArray

from real2sim_core import ALIGN_SCALE, Real2SimError, get_action
from real2sim_core import topics as T
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import EstimateTrajectory

from .config import PerceptionConfig
from .sources import InputSource, load_masks

__all__ = ["PerceptionNode", "main", "request_source"]


def request_source(request) -> InputSource:
    """The :class:`~real2sim_perception.sources.InputSource` an ``EstimateTrajectory`` request
    names."""
    return InputSource(annotations=request.annotations_file, masks=request.masks_dir,
                       video=request.video_file, video_id=request.video_id)


class PerceptionNode(Node):
    def __init__(self, **kwargs):
        super().__init__("real2sim_perception", **kwargs)
        self.config: PerceptionConfig = declare_config(self, PerceptionConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PerceptionConfig, lambda: self.config, self._set_config))
        self._traj_pub = self.create_publisher(TrajMsg, T.STATE_TRAJECTORY_TOPIC, LATCHED_QOS)
        self._marker_pub = self.create_publisher(MarkerArray, T.ESTIMATE_MARKERS_TOPIC,
                                                 LATCHED_QOS)
        self.tf = TfPublisher(self) if self.config.tf.enabled else None
        self.create_service(EstimateTrajectory, T.ESTIMATE_SERVICE, self._on_estimate,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(f"ready: {T.ESTIMATE_SERVICE}")

    def _set_config(self, cfg: PerceptionConfig) -> None:
        self.config = cfg

    def broadcast_frames(self, traj, stamp=None) -> int:
        """Static TF of the hand and objects at the last frame of ``traj`` (replacing the
        previous estimate's); returns the number of transforms sent (0 when off/unavailable)."""
        cfg = self.config.tf
        if not cfg.enabled:
            return 0
        if self.tf is None:  # enabled at runtime
            self.tf = TfPublisher(self)
        return self.tf.send_static(trajectory_transforms(traj, -1, prefix=cfg.prefix,
                                                         stamp=stamp), replace=True)

    def _out_dir(self, request) -> Path:
        if request.out_dir:
            return Path(request.out_dir)
        root = self.config.out_dir or tempfile.mkdtemp(prefix="real2sim_est_")
        return Path(root) / (request.video_id or "estimate")

    def _on_estimate(self, request, response):
        from .estimator import estimate
        from .outputs import write_outputs

        try:
            action = get_action(request.action).name
            source = request_source(request)  # refuses a missing/ambiguous source
            out = check_writable_dir(self._out_dir(request), "out_dir")  # before the fit
            seq = load_masks(source, action, self.config, frontend_dir=out / "frontend").masks
            self.get_logger().info(f"estimating {action} from {seq.source} "
                                   f"({seq.num_frames} frames)")
            res = estimate(seq, action, self.config, progress=False)
            write_outputs(res, out, seq)
        except Real2SimError as e:
            response.success = False
            response.message = str(e)
            self.get_logger().error(f"estimate refused: {e}")
            return response
        except Exception as e:  # noqa: BLE001 - report, keep serving
            response.success = False
            response.message = f"estimation failed: {type(e).__name__}: {e}"
            self.get_logger().error(response.message)
            return response
        stamp = self.get_clock().now().to_msg()
        response.trajectory = trajectory_to_msg(res.trajectory, stamp=stamp)
        response.aligned_trajectory = trajectory_to_msg(res.aligned, stamp=stamp)
        self._traj_pub.publish(response.aligned_trajectory)
        hand_length = self.config.model.hand_length_wrist * ALIGN_SCALE
        self._marker_pub.publish(trajectory_markers(res.aligned, hand_length=hand_length,
                                                    stamp=stamp))
        self.broadcast_frames(res.aligned, stamp=stamp)
        response.success = True
        fit = "ok" if res.fit_ok else "FLAGGED as failed (see summary.json)"
        response.message = (f"{res.trajectory.num_frames} frames in "
                            f"{res.timing.get('total', 0.0):.1f} s, fit {fit}; wrote {out}")
        for text in res.flags.get("warnings", []):
            response.message += f"; warning: {text}"
            self.get_logger().warning(text)
        self.get_logger().info(response.message)
        return response


def main(args=None) -> None:
    run_node(PerceptionNode, args=args)


if __name__ == "__main__":
    main()
