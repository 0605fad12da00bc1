"""TF frames of estimates and plans, and a broadcaster that degrades gracefully.

Two halves:

* **Pure functions** (numpy only): :func:`trajectory_frame_poses` turns one frame of a
  :class:`~real2sim_core.trajectory.StateTrajectory` into :class:`FramePose` records (the hand
  and each object as child frames of the trajectory's frame), :func:`plan_target_pose` does the
  same for a waypoint of a :class:`~real2sim_core.plan.GripperPlan`. All rotation math goes
  through :mod:`real2sim_core.frames`. :func:`to_transform_msgs` (and the ``*_transforms``
  shortcuts) turn the records into ``geometry_msgs/TransformStamped`` (message classes only,
  imported lazily; no rclpy).
* :class:`TfPublisher`: broadcasts those messages from a node. It uses ``tf2_ros``
  (``StaticTransformBroadcaster`` / ``TransformBroadcaster``) where that is importable (the
  Docker image), otherwise publishes ``tf2_msgs/msg/TFMessage`` itself on ``/tf_static``
  (transient local, depth 1) and ``/tf`` when only ``tf2_msgs`` is importable, otherwise logs
  one info line and does nothing (the RViz markers and paths carry the same data).
  :attr:`TfPublisher.backend` says which: ``"tf2_ros"``, ``"tf2_msgs"`` or ``"none"``.

Frame names (``prefix`` defaults to ``"real2sim/"``):

* ``<prefix>hand``: origin at the fingertip, +z from the wrist to the fingertip, +y the
  horizontal finger-opening axis (the gripper convention of
  :func:`real2sim_core.frames.gripper_quat_from_hand_angles`);
* ``<prefix>object<i>``: origin at object ``i``'s centre, rotated by its rotation vector;
* ``<prefix>plan_target``: the plan's gripper pose (fingertip centre) at a waypoint.

Static transforms: the ROS 2 Python ``StaticTransformBroadcaster`` publishes only the list it is
given (the latched ``/tf_static`` message is replaced), so :class:`TfPublisher` keeps the set of
static transforms it has sent (one per child frame) and always sends the whole set.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import frames
from .config import ConfigError

__all__ = [
    "TfConfig",
    "FramePose",
    "DEFAULT_PREFIX",
    "hand_frame_name",
    "object_frame_name",
    "plan_target_frame_name",
    "frame_index",
    "trajectory_frame_poses",
    "plan_target_pose",
    "to_transform_msgs",
    "trajectory_transforms",
    "plan_target_transforms",
    "TfPublisher",
    "BACKENDS",
]

DEFAULT_PREFIX = "real2sim/"
BACKENDS = ("tf2_ros", "tf2_msgs", "none")
_PREFIX_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*/)*([A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass
class TfConfig:
    """TF broadcasting of a node (``tf`` block of ``config/perception.yaml`` / ``policy.yaml``).

    Attributes:
        enabled: broadcast the frames (when a TF backend is importable; see :class:`TfPublisher`).
        prefix: prepended to the child frame names (``<prefix>hand``, ``<prefix>object0``,
            ``<prefix>plan_target``); ``""`` or names joined by ``/``, no leading ``/``.
    """

    enabled: bool = True
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self):
        if not _PREFIX_RE.match(self.prefix):
            raise ConfigError(
                f"TfConfig.prefix = {self.prefix!r} is not allowed; use names of letters, digits "
                "and '_' joined by '/', without a leading '/' (e.g. 'real2sim/')"
            )


class FramePose(NamedTuple):
    """Pose of frame ``child`` in frame ``parent``: position (m) and quaternion (x, y, z, w)."""

    parent: str
    child: str
    position: np.ndarray
    quat_xyzw: np.ndarray

    def matrix(self) -> np.ndarray:
        """Homogeneous transform ``(4, 4)`` mapping ``child`` coordinates to ``parent``."""
        t = np.eye(4)
        t[:3, :3] = frames.quat_to_matrix(self.quat_xyzw)
        t[:3, 3] = self.position
        return t


def hand_frame_name(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}hand"


def object_frame_name(i: int, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}object{int(i)}"


def plan_target_frame_name(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}plan_target"


def frame_index(times, index: int | None = -1, time: float | None = None) -> int:
    """Non-negative index into ``times``: ``index`` (Python style, -1 = last), or when ``time``
    is given the last sample at or before ``time`` seconds (clamped to the first/last).

    Raises:
        IndexError: ``index`` is outside ``times``.
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    n = len(times)
    if n == 0:
        raise IndexError("frame_index: no samples")
    if time is not None:
        k = int(np.searchsorted(times, float(time), side="right")) - 1
        return min(max(k, 0), n - 1)
    k = int(-1 if index is None else index)
    if not -n <= k < n:
        raise IndexError(f"frame_index: index {k} is outside the {n} samples")
    return k % n


def trajectory_frame_poses(traj, index: int | None = -1, *, time: float | None = None,
                           prefix: str = DEFAULT_PREFIX) -> list[FramePose]:
    """The hand and object frames of one frame of a state trajectory.

    Args:
        traj: a :class:`~real2sim_core.trajectory.StateTrajectory`; the parent frame is its
            ``frame_id`` (``real2sim_aligned`` or ``real2sim_world``).
        index: frame index (-1 = last); ignored when ``time`` is given.
        time: seconds (trajectory time): the last frame at or before it.
        prefix: child frame name prefix.

    Returns:
        ``[hand, object0(, object1)]`` as :class:`FramePose`.
    """
    k = frame_index(traj.times, index, time)
    parent = traj.frame_id
    hand_q = frames.gripper_quat_from_hand_angles(traj.hand_azi[k], traj.hand_ele[k])
    out = [FramePose(parent, hand_frame_name(prefix), np.array(traj.hand_pos[k], dtype=float),
                     np.asarray(hand_q, dtype=float).reshape(4))]
    obj_q = frames.rotvec_to_quat(traj.obj_rot[k])  # (N, 4)
    for i in range(traj.num_objects):
        out.append(FramePose(parent, object_frame_name(i, prefix),
                             np.array(traj.obj_pos[k, i], dtype=float), obj_q[i]))
    return out


def plan_target_pose(plan, index: int | None = -1, *, time: float | None = None,
                     prefix: str = DEFAULT_PREFIX) -> FramePose:
    """The gripper pose of a plan's waypoint (default the final one) in the plan's frame.

    Args:
        plan: a :class:`~real2sim_core.plan.GripperPlan`.
        index: waypoint index (-1 = the final waypoint); ignored when ``time`` is given.
        time: seconds from the plan start: the current waypoint (last one at or before it).
        prefix: child frame name prefix.
    """
    k = frame_index(plan.times, index, time)
    q = np.asarray(plan.quats[k], dtype=float)
    return FramePose(plan.frame_id, plan_target_frame_name(prefix),
                     np.array(plan.positions[k], dtype=float), q / np.linalg.norm(q))


def to_transform_msgs(poses, stamp=None) -> list:
    """:class:`FramePose` records -> ``geometry_msgs/TransformStamped`` messages."""
    from .ros_msgs import transform_msg

    return [transform_msg(p.parent, p.child, p.position, p.quat_xyzw, stamp=stamp) for p in poses]


def trajectory_transforms(traj, index: int | None = -1, *, time: float | None = None,
                          prefix: str = DEFAULT_PREFIX, stamp=None) -> list:
    """``TransformStamped`` of the hand and objects at one frame (see
    :func:`trajectory_frame_poses`)."""
    return to_transform_msgs(trajectory_frame_poses(traj, index, time=time, prefix=prefix),
                             stamp=stamp)


def plan_target_transforms(plan, index: int | None = -1, *, time: float | None = None,
                           prefix: str = DEFAULT_PREFIX, stamp=None) -> list:
    """``[TransformStamped]`` of the plan target (see :func:`plan_target_pose`)."""
    return to_transform_msgs([plan_target_pose(plan, index, time=time, prefix=prefix)],
                             stamp=stamp)


# --- broadcasting -----------------------------------------------------------------------------


def _import_tf2_ros():
    """``(StaticTransformBroadcaster, TransformBroadcaster)`` or None when unusable."""
    try:
        from tf2_ros import StaticTransformBroadcaster, TransformBroadcaster
    except (ImportError, OSError):  # absent, or present with a broken compiled part
        return None
    return StaticTransformBroadcaster, TransformBroadcaster


def _import_tfmessage():
    try:
        from tf2_msgs.msg import TFMessage
    except (ImportError, OSError):
        return None
    return TFMessage


class TfPublisher:
    """Broadcast TF transforms from ``node`` with the best backend available.

    ``backend`` is ``"tf2_ros"`` (tf2_ros broadcasters), ``"tf2_msgs"`` (this class publishes
    ``tf2_msgs/msg/TFMessage`` on ``/tf_static``, transient local depth 1, and ``/tf``,
    reliable depth 100, as tf2_ros does) or ``"none"`` (one info line at construction, then
    every send is a no-op). ``reason`` says why, in words.

    Static transforms are kept per child frame and always sent as one complete set (late
    joiners get all frames from the latched message); ``replace=True`` drops the previous set
    first. TF cannot retract a frame: listeners that already hold a dropped static frame keep it.
    """

    STATIC_TOPIC = "/tf_static"
    DYNAMIC_TOPIC = "/tf"

    def __init__(self, node):
        self._node = node
        self._lock = threading.Lock()
        self._static: dict[str, object] = {}  # child frame -> TransformStamped
        self._static_pub = None  # object with sendTransform(list) or publish(TFMessage)
        self._dynamic_pub = None
        self._dynamic_factory = None
        self._tfmessage = None
        tf2 = _import_tf2_ros()
        if tf2 is not None:
            static_cls, dynamic_cls = tf2
            self.backend = "tf2_ros"
            self.reason = "tf2_ros is importable"
            self._static_pub = static_cls(node)
            self._dynamic_factory = lambda: dynamic_cls(node)
            return
        tfmessage = _import_tfmessage()
        if tfmessage is not None:
            from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

            self.backend = "tf2_msgs"
            self.reason = "tf2_ros is not importable; publishing tf2_msgs/TFMessage directly"
            self._tfmessage = tfmessage
            static_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                    reliability=ReliabilityPolicy.RELIABLE,
                                    durability=DurabilityPolicy.TRANSIENT_LOCAL)
            dynamic_qos = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST,
                                     reliability=ReliabilityPolicy.RELIABLE,
                                     durability=DurabilityPolicy.VOLATILE)
            self._static_pub = node.create_publisher(tfmessage, self.STATIC_TOPIC, static_qos)
            self._dynamic_factory = lambda: node.create_publisher(tfmessage, self.DYNAMIC_TOPIC,
                                                                  dynamic_qos)
            return
        self.backend = "none"
        self.reason = "neither tf2_ros nor tf2_msgs is importable"
        node.get_logger().info(
            "TF broadcasting is unavailable here (neither tf2_ros nor tf2_msgs is importable); "
            "the RViz markers and paths carry the same frames"
        )

    @property
    def active(self) -> bool:
        return self.backend != "none"

    @property
    def static_frames(self) -> list[str]:
        """Child frames of the static set last sent (sorted)."""
        with self._lock:
            return sorted(self._static)

    def _emit(self, pub, transforms: list) -> None:
        if self.backend == "tf2_ros":
            pub.sendTransform(transforms)
        else:
            pub.publish(self._tfmessage(transforms=transforms))

    def send_static(self, transforms, replace: bool = False) -> int:
        """Add ``transforms`` to the static set (same child frame: the new one wins) and publish
        the set on ``/tf_static``; ``replace`` drops the previous set first.

        Returns:
            The number of transforms in the published set (0 when the backend is ``"none"``).
        """
        transforms = list(transforms)
        if not self.active:
            return 0
        with self._lock:
            if replace:
                self._static.clear()
            for t in transforms:
                self._static[t.child_frame_id] = t
            net = list(self._static.values())
            self._emit(self._static_pub, net)
        return len(net)

    def send(self, transforms) -> int:
        """Publish ``transforms`` on ``/tf`` (dynamic frames: stamp them with the current time
        and send them again while they are valid). Returns how many were sent (0 for
        ``"none"``)."""
        transforms = list(transforms)
        if not self.active or not transforms:
            return 0
        with self._lock:
            if self._dynamic_pub is None:  # created on first use: no idle /tf publisher
                self._dynamic_pub = self._dynamic_factory()
            self._emit(self._dynamic_pub, transforms)
        return len(transforms)
