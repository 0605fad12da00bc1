"""Franka Emika Panda (FER) constants: the one module that holds them.

Joint limits are the Franka datasheet values ("Robot and interface specifications" of the
Franka Control Interface documentation), which are a little tighter than the hard limits in
pybullet_data's ``franka_panda/panda.urdf`` (that file's ``safety_controller`` soft limits
equal the datasheet). All angles in rad, lengths in m, times in s.

Frames:

* ``panda_link0`` - the robot base; z up.
* ``panda_link8`` - the flange.
* ``panda_hand`` - the Franka hand: the flange turned by -45 deg about z; its +z points from
  the wrist to the fingertips, the fingers open along its +y (``panda_finger_joint1`` axis).
* TCP - the centre between the fingertip pads, :data:`TCP_OFFSET_FROM_HAND` along the hand's
  +z (0.1034 m from the flange). The plan's gripper frame maps onto the TCP frame 1:1.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "ARM_JOINT_NAMES",
    "FINGER_JOINT_NAMES",
    "NUM_ARM_JOINTS",
    "Q_MIN",
    "Q_MAX",
    "DQ_MAX",
    "DDQ_MAX",
    "DDDQ_MAX",
    "TAU_MAX",
    "CARTESIAN_VEL_MAX",
    "CARTESIAN_ROT_VEL_MAX",
    "Q_READY",
    "HAND_YAW_ON_FLANGE",
    "TCP_OFFSET_FROM_HAND",
    "FINGER_JOINT_OFFSET_FROM_HAND",
    "MAX_FINGER_WIDTH",
    "GRIPPER_DEFAULT_SPEED",
    "GRIPPER_MAX_SPEED",
    "GRIPPER_DEFAULT_FORCE",
    "GRIPPER_MAX_CONTINUOUS_FORCE",
    "MAX_REACH",
    "ARM_GROUP",
    "HAND_GROUP",
    "BASE_LINK",
    "FLANGE_LINK",
    "HAND_LINK",
    "PYBULLET_HAND_LINK_INDEX",
    "PYBULLET_ARM_JOINT_INDICES",
    "PYBULLET_FINGER_JOINT_INDICES",
    "urdf_path",
]

ARM_JOINT_NAMES: tuple[str, ...] = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINT_NAMES: tuple[str, ...] = ("panda_finger_joint1", "panda_finger_joint2")
NUM_ARM_JOINTS = 7

#: Joint position limits, rad (datasheet).
Q_MIN = np.array([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973])
Q_MAX = np.array([2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973])
#: Joint velocity limits, rad/s.
DQ_MAX = np.array([2.1750, 2.1750, 2.1750, 2.1750, 2.6100, 2.6100, 2.6100])
#: Joint acceleration limits, rad/s^2.
DDQ_MAX = np.array([15.0, 7.5, 10.0, 12.5, 15.0, 20.0, 20.0])
#: Joint jerk limits, rad/s^3.
DDDQ_MAX = np.array([7500.0, 3750.0, 5000.0, 6250.0, 7500.0, 10000.0, 10000.0])
#: Joint torque limits, N m.
TAU_MAX = np.array([87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0])
#: Cartesian limits of the flange: translation m/s, rotation rad/s.
CARTESIAN_VEL_MAX = 1.7
CARTESIAN_ROT_VEL_MAX = 2.5

#: MoveIt's "ready" configuration of the Panda (also the IK's neutral posture), rad.
Q_READY = np.array([0.0, -np.pi / 4, 0.0, -3 * np.pi / 4, 0.0, np.pi / 2, np.pi / 4])

#: Rotation of ``panda_hand`` about the flange's z, rad.
HAND_YAW_ON_FLANGE = -np.pi / 4
#: Fingertip centre (TCP) along the hand's +z, m (the Franka hand's documented TCP).
TCP_OFFSET_FROM_HAND = 0.1034
#: The finger joints' origin along the hand's +z, m.
FINGER_JOINT_OFFSET_FROM_HAND = 0.0584

#: Gripper (Franka hand): total width between the fingers, m; speeds m/s; forces N.
MAX_FINGER_WIDTH = 0.08
GRIPPER_DEFAULT_SPEED = 0.05
GRIPPER_MAX_SPEED = 0.1
GRIPPER_DEFAULT_FORCE = 20.0
GRIPPER_MAX_CONTINUOUS_FORCE = 70.0

#: Reach of the flange from the shoulder axis, m.
MAX_REACH = 0.855

#: MoveIt planning groups and link names (panda_moveit_config).
ARM_GROUP = "panda_arm"
HAND_GROUP = "hand"
BASE_LINK = "panda_link0"
FLANGE_LINK = "panda_link8"
HAND_LINK = "panda_hand"

#: pybullet indices in pybullet_data's ``franka_panda/panda.urdf``.
PYBULLET_HAND_LINK_INDEX = 8
PYBULLET_ARM_JOINT_INDICES = (0, 1, 2, 3, 4, 5, 6)
PYBULLET_FINGER_JOINT_INDICES = (9, 10)


def urdf_path() -> str:
    """Path of pybullet_data's ``franka_panda/panda.urdf``.

    Raises:
        FileNotFoundError: when pybullet_data is not installed or lacks the file.
    """
    import pybullet_data

    path = os.path.join(pybullet_data.getDataPath(), "franka_panda", "panda.urdf")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found (pybullet_data without franka_panda)")
    return path
