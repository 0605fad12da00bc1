"""FK and Jacobian of the URDF model against pybullet (same URDF)."""

from __future__ import annotations

import numpy as np
import pytest
from panda_executor.kinematics import PandaKinematics, parse_chain

from panda_executor import panda
from real2sim_core import frames

pb = pytest.importorskip("pybullet")


@pytest.fixture(scope="module")
def bullet():
    cid = pb.connect(pb.DIRECT)
    rid = pb.loadURDF(panda.urdf_path(), useFixedBase=True, physicsClientId=cid)
    yield cid, rid
    pb.disconnect(cid)


def _set(bullet, q):
    cid, rid = bullet
    for i, v in zip(panda.PYBULLET_ARM_JOINT_INDICES, q):
        pb.resetJointState(rid, i, v, physicsClientId=cid)


def test_chain_parsed_from_urdf():
    chain = parse_chain(panda.urdf_path())
    names = [j.name for j in chain if j.type != "fixed"]
    assert names == list(panda.ARM_JOINT_NAMES)
    assert chain[-1].child == panda.HAND_LINK


def test_fk_matches_pybullet_hand_link(bullet):
    kin_hand = PandaKinematics(tool_offset=np.eye(4))
    rng = np.random.default_rng(0)
    cid, rid = bullet
    for _ in range(20):
        q = rng.uniform(panda.Q_MIN, panda.Q_MAX)
        _set(bullet, q)
        ls = pb.getLinkState(rid, panda.PYBULLET_HAND_LINK_INDEX, computeForwardKinematics=True,
                             physicsClientId=cid)
        T = kin_hand.fk(q)
        assert np.allclose(T[:3, 3], ls[4], atol=1e-6)
        assert frames.quat_angle(frames.matrix_to_quat(T[:3, :3]), ls[5]) < 1e-5


def test_tcp_is_0p1034_along_hand_z(kin, bullet):
    q = panda.Q_READY
    _set(bullet, q)
    cid, rid = bullet
    ls = pb.getLinkState(rid, panda.PYBULLET_HAND_LINK_INDEX, computeForwardKinematics=True,
                         physicsClientId=cid)
    R = frames.quat_to_matrix(np.array(ls[5]))
    T = kin.fk(q)
    assert np.allclose(T[:3, 3], np.array(ls[4]) + R[:, 2] * panda.TCP_OFFSET_FROM_HAND,
                       atol=1e-6)
    # ready pose: the gripper points down, fingers open along the hand's y
    assert T[2, 2] < -0.99


def test_jacobian_matches_pybullet_and_finite_differences(kin, bullet):
    kin_hand = PandaKinematics(tool_offset=np.eye(4))
    rng = np.random.default_rng(1)
    cid, rid = bullet
    for _ in range(5):
        q = rng.uniform(panda.Q_MIN, panda.Q_MAX)
        _set(bullet, q)
        lin, ang = pb.calculateJacobian(rid, panda.PYBULLET_HAND_LINK_INDEX, [0, 0, 0],
                                        list(q) + [0.0, 0.0], [0.0] * 9, [0.0] * 9,
                                        physicsClientId=cid)
        J, _, _ = kin_hand.jacobian(q)
        assert np.allclose(J[:3], np.array(lin)[:, :7], atol=1e-6)
        assert np.allclose(J[3:], np.array(ang)[:, :7], atol=1e-6)
        # TCP Jacobian by central differences (linear part)
        Jt, _, p = kin.jacobian(q)
        eps = 1e-6
        for j in range(7):
            dq = np.zeros(7)
            dq[j] = eps
            num = (kin.fk(q + dq)[:3, 3] - kin.fk(q - dq)[:3, 3]) / (2 * eps)
            assert np.allclose(Jt[:3, j], num, atol=1e-6)


def test_fk_batch_equals_fk(kin):
    rng = np.random.default_rng(2)
    qs = rng.uniform(panda.Q_MIN, panda.Q_MAX, size=(6, 7))
    p, R = kin.fk_batch(qs)
    for k in range(6):
        T = kin.fk(qs[k])
        assert np.allclose(p[k], T[:3, 3]) and np.allclose(R[k], T[:3, :3])
