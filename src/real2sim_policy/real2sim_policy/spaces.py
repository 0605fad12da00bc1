"""Sizes of the gripper world's observation vectors, shared by the env, the policies and the
network (a light module: no pybullet, no torch).

* :data:`OBS_DIM`: the (8,) policy observation ``[t / 10, hand position (3), hand rotation
  vector (3), opening]`` of :class:`~real2sim_policy.env.GripperEnv`;
* :data:`PRIVILEGED_DIM`: the (16,) privileged state, per object slot ``[position (3),
  rotation vector (3), height, radius]``, which only the critic sees.
"""

from __future__ import annotations

__all__ = ["OBS_DIM", "PRIVILEGED_DIM"]

OBS_DIM = 8
PRIVILEGED_DIM = 16
