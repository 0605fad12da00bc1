"""Lossless conversion between the data model and ``real2sim_interfaces`` messages.

Imports message classes only (no rclpy), lazily, so the rest of ``real2sim_core`` works without
the interfaces built.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .plan import GripperPlan
from .trajectory import ALIGNED_FRAME_ID, RAW_FRAME_ID, Camera, StateTrajectory

__all__ = ["trajectory_to_msg", "trajectory_from_msg", "plan_to_msg", "plan_from_msg",
           "trajectory_markers", "plan_path_msg", "transform_msg", "seconds_to_time",
           "duration_to_seconds", "seconds_to_duration"]


def seconds_to_duration(t: float):
    from builtin_interfaces.msg import Duration

    ns = int(round(float(t) * 1e9))
    return Duration(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def duration_to_seconds(d) -> float:
    return d.sec + d.nanosec * 1e-9


def trajectory_to_msg(traj: StateTrajectory, stamp=None):
    """:class:`StateTrajectory` -> ``real2sim_interfaces/msg/StateTrajectory``."""
    from geometry_msgs.msg import Point, Vector3

    from real2sim_interfaces.msg import ObjectState, StateFrame
    from real2sim_interfaces.msg import StateTrajectory as Msg

    msg = Msg()
    msg.header.frame_id = traj.frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    msg.action = traj.action
    msg.video_id = traj.video_id
    msg.frame_rate = float(traj.fps)
    msg.camera_distance = float(traj.camera.distance)
    msg.camera_azimuth = float(traj.camera.azimuth)
    msg.camera_elevation = float(traj.camera.elevation)
    msg.aligned = bool(traj.aligned)
    out = []
    for k in range(traj.num_frames):
        f = StateFrame()
        f.time = float(traj.times[k])
        x, y, z = map(float, traj.hand_pos[k])
        f.hand_position = Point(x=x, y=y, z=z)
        f.hand_azimuth = float(traj.hand_azi[k])
        f.hand_elevation = float(traj.hand_ele[k])
        f.touch = float(traj.touch[k])
        objs = []
        for i in range(traj.num_objects):
            p, r, s = traj.obj_pos[k, i], traj.obj_rot[k, i], traj.obj_size[k, i]
            objs.append(ObjectState(
                position=Point(x=float(p[0]), y=float(p[1]), z=float(p[2])),
                rotation=Vector3(x=float(r[0]), y=float(r[1]), z=float(r[2])),
                size=Vector3(x=float(s[0]), y=float(s[1]), z=float(s[2])),
            ))
        f.objects = objs
        out.append(f)
    msg.frames = out
    return msg


def trajectory_from_msg(msg) -> StateTrajectory:
    """``real2sim_interfaces/msg/StateTrajectory`` -> :class:`StateTrajectory` (validated)."""
    if len(msg.frames) == 0:
        raise InputError("StateTrajectory message has no frames")
    counts = {len(f.objects) for f in msg.frames}
    if len(counts) != 1:
        raise InputError(f"StateTrajectory message: object count varies between frames {counts}")
    if msg.header.frame_id not in ("", RAW_FRAME_ID, ALIGNED_FRAME_ID):
        raise InputError(
            f"StateTrajectory message: frame_id {msg.header.frame_id!r} is neither "
            f"{RAW_FRAME_ID!r} nor {ALIGNED_FRAME_ID!r}"
        )

    def v3(v):
        return (v.x, v.y, v.z)

    return StateTrajectory(
        times=[f.time for f in msg.frames],
        hand_pos=[v3(f.hand_position) for f in msg.frames],
        hand_azi=[f.hand_azimuth for f in msg.frames],
        hand_ele=[f.hand_elevation for f in msg.frames],
        obj_pos=[[v3(o.position) for o in f.objects] for f in msg.frames],
        obj_rot=[[v3(o.rotation) for o in f.objects] for f in msg.frames],
        obj_size=[[v3(o.size) for o in f.objects] for f in msg.frames],
        touch=[f.touch for f in msg.frames],
        camera=Camera(msg.camera_distance, msg.camera_azimuth, msg.camera_elevation),
        fps=msg.frame_rate,
        action=msg.action,
        video_id=msg.video_id,
        aligned=bool(msg.aligned),
    )


def plan_to_msg(plan: GripperPlan, stamp=None):
    """:class:`GripperPlan` -> ``real2sim_interfaces/msg/GripperPlan``.

    ``time_from_start`` is a Duration (nanosecond resolution); plan times are rounded to ns.
    """
    from geometry_msgs.msg import Point, Pose, Quaternion

    from real2sim_interfaces.msg import GripperPlan as Msg
    from real2sim_interfaces.msg import GripperWaypoint

    msg = Msg()
    msg.header.frame_id = plan.frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    msg.action = plan.action
    wps = []
    for k in range(plan.num_waypoints):
        p, q = plan.positions[k], plan.quats[k]
        wps.append(GripperWaypoint(
            time_from_start=seconds_to_duration(plan.times[k]),
            pose=Pose(position=Point(x=float(p[0]), y=float(p[1]), z=float(p[2])),
                      orientation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]),
                                             w=float(q[3]))),
            opening=float(plan.openings[k]),
        ))
    msg.waypoints = wps
    return msg


def plan_from_msg(msg) -> GripperPlan:
    """``real2sim_interfaces/msg/GripperPlan`` -> :class:`GripperPlan` (validated)."""
    w = msg.waypoints
    return GripperPlan(
        times=[duration_to_seconds(x.time_from_start) for x in w],
        positions=np.array([[x.pose.position.x, x.pose.position.y, x.pose.position.z]
                            for x in w]).reshape(-1, 3),
        quats=np.array([[x.pose.orientation.x, x.pose.orientation.y, x.pose.orientation.z,
                         x.pose.orientation.w] for x in w]).reshape(-1, 4),
        openings=[x.opening for x in w],
        frame_id=msg.header.frame_id or ALIGNED_FRAME_ID,
        action=msg.action,
    )


# --- visualisation (RViz) ---------------------------------------------------------------------

_HAND_RADIUS = 0.04
_HAND_LENGTH = 0.40


def _pose_msg(position, quat_xyzw):
    from geometry_msgs.msg import Point, Pose, Quaternion

    p, q = [float(v) for v in position], [float(v) for v in quat_xyzw]
    return Pose(position=Point(x=p[0], y=p[1], z=p[2]),
                orientation=Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]))


def trajectory_markers(traj: StateTrajectory, frame_id: str | None = None, ns: str = "estimate",
                       every: int = 4, hand_length: float = _HAND_LENGTH, stamp=None):
    """``visualization_msgs/MarkerArray`` of a state trajectory for RViz.

    Every ``every``-th frame (and the last) is drawn: the hand as a cylinder of radius 0.04 m
    ending at the fingertip, objects as cuboids; older frames fade out. Also a line strip of
    the fingertip path. Markers are in ``frame_id`` (default: the trajectory's frame).
    """
    from geometry_msgs.msg import Point, Vector3
    from std_msgs.msg import ColorRGBA
    from visualization_msgs.msg import Marker, MarkerArray

    from . import frames

    frame_id = frame_id or traj.frame_id
    idx = sorted(set(range(0, traj.num_frames, max(1, every))) | {traj.num_frames - 1})
    out = MarkerArray()
    out.markers.append(Marker(action=Marker.DELETEALL, ns=ns))
    mid = 0

    def marker(kind, pose, scale, rgba, sub):
        nonlocal mid
        m = Marker(type=kind, action=Marker.ADD, ns=f"{ns}/{sub}", id=mid, pose=pose)
        m.header.frame_id = frame_id
        if stamp is not None:
            m.header.stamp = stamp
        m.scale = Vector3(x=float(scale[0]), y=float(scale[1]), z=float(scale[2]))
        m.color = ColorRGBA(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])
        mid += 1
        return m

    direction = traj.hand_direction()
    for n, k in enumerate(idx):
        alpha = 0.15 + 0.75 * (n + 1) / len(idx)
        d = direction[k]
        centre = traj.hand_pos[k] - 0.5 * hand_length * d
        # a cylinder marker's axis is its local z: rotate z onto the hand direction
        q = frames.gripper_quat_from_hand_angles(traj.hand_azi[k], traj.hand_ele[k])
        touch = traj.touch[k] > 0.5
        out.markers.append(marker(Marker.CYLINDER, _pose_msg(centre, q),
                                  (2 * _HAND_RADIUS, 2 * _HAND_RADIUS, hand_length),
                                  (0.95, 0.3 if touch else 0.6, 0.2, alpha), "hand"))
        for i in range(traj.num_objects):
            qo = frames.rotvec_to_quat(traj.obj_rot[k, i])
            out.markers.append(marker(Marker.CUBE, _pose_msg(traj.obj_pos[k, i], qo),
                                      traj.obj_size[k, i],
                                      (0.2, 0.5 + 0.3 * i, 0.95 - 0.4 * i, alpha), f"object{i}"))
    path = marker(Marker.LINE_STRIP, _pose_msg((0, 0, 0), (0, 0, 0, 1)), (0.005, 0, 0),
                  (1.0, 0.8, 0.1, 1.0), "fingertip_path")
    path.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in traj.hand_pos]
    out.markers.append(path)
    return out


def plan_path_msg(plan: GripperPlan, stamp=None):
    """``nav_msgs/Path`` of a gripper plan (poses of the fingertip centre)."""
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Path as PathMsg

    msg = PathMsg()
    msg.header.frame_id = plan.frame_id
    if stamp is not None:
        msg.header.stamp = stamp
    for k in range(plan.num_waypoints):
        ps = PoseStamped(pose=_pose_msg(plan.positions[k], plan.quats[k]))
        ps.header.frame_id = plan.frame_id
        ps.header.stamp = seconds_to_time(plan.times[k])
        msg.poses.append(ps)
    return msg


def seconds_to_time(t: float):
    """``builtin_interfaces/Time`` for ``t`` seconds (plan-relative times in a Path)."""
    from builtin_interfaces.msg import Time

    ns = int(round(float(t) * 1e9))
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def transform_msg(parent: str, child: str, position, quat_xyzw, stamp=None):
    """``geometry_msgs/TransformStamped`` of ``child`` in ``parent`` (for TF broadcasting)."""
    from geometry_msgs.msg import TransformStamped, Vector3

    t = TransformStamped()
    t.header.frame_id = parent
    t.child_frame_id = child
    if stamp is not None:
        t.header.stamp = stamp
    p, q = [float(v) for v in position], [float(v) for v in quat_xyzw]
    t.transform.translation = Vector3(x=p[0], y=p[1], z=p[2])
    t.transform.rotation.x, t.transform.rotation.y = q[0], q[1]
    t.transform.rotation.z, t.transform.rotation.w = q[2], q[3]
    return t
