"""``perception_node``: estimate coarse 3D state trajectories on request.

A thin adapter over :mod:`real2sim_perception` (inputs, estimator, CLI output writer):

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
``config/perception.yaml``), plus ``out_dir`` (default output root) and ``detector`` (front-end
backend for video requests). Bad requests get ``success = false`` with the reason; the node
keeps serving.
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

from real2sim_core import Real2SimError, get_action
from real2sim_core import topics as T
from real2sim_interfaces.msg import StateTrajectory as TrajMsg
from real2sim_interfaces.srv import EstimateTrajectory

from .config import PerceptionConfig
from .errors import PerceptionInputError

__all__ = ["PerceptionNode", "main", "load_inputs"]


def load_inputs(request, detector: str = ""):
    """The :class:`~real2sim_perception.inputs.MaskSequence` a request names.

    Raises:
        PerceptionInputError: zero or several sources, or a source that cannot be read.
    """
    from .inputs import from_mask_folder, from_something_else

    sources = [n for n, v in (("annotations_file", request.annotations_file),
                              ("masks_dir", request.masks_dir),
                              ("video_file", request.video_file)) if v]
    if len(sources) != 1:
        raise PerceptionInputError(
            "give exactly one input source (annotations_file + video_id, masks_dir or "
            f"video_file); got {', '.join(sources) or 'none'}")
    if request.annotations_file:
        if not request.video_id:
            raise PerceptionInputError("annotations_file needs video_id")
        return from_something_else(request.annotations_file, request.video_id, request.action)
    if request.masks_dir:
        return from_mask_folder(request.masks_dir, request.action,
                                video_id=request.video_id or "")
    from .frontend import run_frontend

    result = run_frontend(request.video_file, request.action, detector or None)
    return result.masks


class PerceptionNode(Node):
    def __init__(self, **kwargs):
        super().__init__("real2sim_perception", **kwargs)
        self.config: PerceptionConfig = declare_config(self, PerceptionConfig())
        self.add_on_set_parameters_callback(
            config_validator(self, PerceptionConfig, lambda: self.config, self._set_config))
        self.declare_parameter("out_dir", "")
        self.declare_parameter("detector", "")
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
        root = self.get_parameter("out_dir").value or tempfile.mkdtemp(prefix="real2sim_est_")
        return Path(root) / (request.video_id or "estimate")

    def _on_estimate(self, request, response):
        from .estimator import estimate
        from .outputs import write_outputs

        try:
            action = get_action(request.action).name
            seq = load_inputs(request, self.get_parameter("detector").value)
            self.get_logger().info(f"estimating {action} from {seq.source} "
                                   f"({seq.masks.shape[1]} frames)")
            out = check_writable_dir(self._out_dir(request), "out_dir")  # before the fit
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
        self._marker_pub.publish(trajectory_markers(res.aligned, hand_length=0.15 * 1.5,
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
