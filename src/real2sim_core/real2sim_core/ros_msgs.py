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
