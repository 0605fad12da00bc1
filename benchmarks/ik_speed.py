"""IK time per waypoint: our DLS tracker vs pybullet's calculateInverseKinematics, same run.

Both solve the same TCP paths waypoint by waypoint, warm-started from the previous solution
(pybullet: the robot's joint state is set to the previous solution before each call; that reset
is not timed). Paths: the hand-made push/pull plans at the default object pose (approach +
resampled plan, as the executor tracks them) plus random straight lines in the workspace.
pybullet gets the datasheet limits (9 entries: fingers included, as its null-space IK needs) and
the hand link's target (TCP minus 0.1034 m along the hand z), once with and once without its
null-space arguments. Errors are measured on the same URDF model for both.

Usage: .venv/bin/python benchmarks/ik_speed.py [--repeats 3] [--lines 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pybullet as pb
from panda_executor.handmade import push_pull_plan
from panda_executor.ik import IKSolver, rotation_angle

from panda_executor import Executor, panda
from real2sim_core import frames


def paths(ex: Executor, n_lines: int, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for a in ("push_left_to_right", "push_right_to_left", "pull_left_to_right",
              "pull_right_to_left"):
        xp = ex.plan_joint_trajectory(push_pull_plan(a), (0.5, 0.0, 0.0))
        out.append((xp.tcp.positions, xp.tcp.quats))
    for _ in range(n_lines):
        n = 80
        p0 = np.array([rng.uniform(0.35, 0.6), rng.uniform(-0.25, 0.25), rng.uniform(0.05, 0.3)])
        p1 = p0 + rng.uniform(-0.1, 0.1, 3)
        P = p0 + np.linspace(0, 1, n)[:, None] * (p1 - p0)
        az = rng.uniform(-np.pi, np.pi)
        el = np.linspace(rng.uniform(0.6, 1.3), rng.uniform(0.6, 1.3), n)
        Q = frames.gripper_quat_from_hand_angles(np.full(n, az), el)
        out.append((P, Q))
    return out


def ours(solver: IKSolver, P, Q, q0):
    Rs = frames.quat_to_matrix(Q)
    q = q0.copy()
    t = 0.0
    pe, oe = [], []
    for k in range(len(P)):
        t0 = time.perf_counter()
        sol = solver.solve(P[k], Rs[k], q)
        t += time.perf_counter() - t0
        q = sol.q
        pe.append(sol.position_error)
        oe.append(sol.orientation_error)
    return t, np.array(pe), np.array(oe)


def bullet(cid, rid, kin, P, Q, q0, iters, nullspace=True):
    lo = list(panda.Q_MIN) + [0.0, 0.0]
    hi = list(panda.Q_MAX) + [0.04, 0.04]
    rng_ = [h - low for h, low in zip(hi, lo)]
    rest = list(panda.Q_READY) + [0.02, 0.02]
    Rs = frames.quat_to_matrix(Q)
    q = np.asarray(q0, dtype=float)
    t = 0.0
    pe, oe, out = [], [], 0
    for k in range(len(P)):
        for i, v in enumerate(q):
            pb.resetJointState(rid, i, v, physicsClientId=cid)
        hand = P[k] - Rs[k][:, 2] * panda.TCP_OFFSET_FROM_HAND
        t0 = time.perf_counter()
        extra = dict(lowerLimits=lo, upperLimits=hi, jointRanges=rng_, restPoses=rest) \
            if nullspace else {}
        sol = pb.calculateInverseKinematics(
            rid, panda.PYBULLET_HAND_LINK_INDEX, hand.tolist(), Q[k].tolist(),
            maxNumIterations=iters, residualThreshold=1e-5, physicsClientId=cid, **extra)
        t += time.perf_counter() - t0
        q = np.array(sol[:7])
        out += int(((q < panda.Q_MIN) | (q > panda.Q_MAX)).any())
        _, _, R, p = kin.joint_frames(q)
        pe.append(np.linalg.norm(p - P[k]))
        oe.append(float(rotation_angle(R, Rs[k])))
    return t, np.array(pe), np.array(oe), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lines", type=int, default=10)
    args = ap.parse_args(argv)
    ex = Executor()
    rng = np.random.default_rng(0)
    all_paths = paths(ex, args.lines, rng)
    solver = ex.solver
    cid = pb.connect(pb.DIRECT)
    rid = pb.loadURDF(panda.urdf_path(), useFixedBase=True, physicsClientId=cid)
    # start every path from our own first solution (same start for both)
    starts = [solver.solve_with_restarts(P[0], frames.quat_to_matrix(Q[0]), [panda.Q_READY],
                                         np.random.default_rng(1)).q for P, Q in all_paths]
    n_wp = sum(len(P) for P, _ in all_paths)
    rows = {}
    for name in ("ours (DLS, to 0.05 mm / 0.05 deg)", "pybullet (20 it, limits/null space)",
                 "pybullet (100 it, limits/null space)", "pybullet (20 it, plain)",
                 "pybullet (100 it, plain)"):
        best = np.inf
        for _ in range(args.repeats):
            tt, pes, oes, outs = 0.0, [], [], 0
            for (P, Q), q0 in zip(all_paths, starts):
                if name.startswith("ours"):
                    t, pe, oe = ours(solver, P, Q, q0)
                else:
                    iters = 20 if "(20" in name else 100
                    t, pe, oe, o = bullet(cid, rid, ex.kin, P, Q, q0, iters,
                                          nullspace="null" in name)
                    outs += o
                tt += t
                pes.append(pe)
                oes.append(oe)
            best = min(best, tt)
        pe, oe = np.concatenate(pes), np.concatenate(oes)
        rows[name] = (best / n_wp * 1e3, pe, oe, outs)
    pb.disconnect(cid)
    print(f"{len(all_paths)} paths, {n_wp} waypoints, best of {args.repeats} repeats")
    print(f"{'solver':<37} {'ms/waypoint':>11} {'max err mm':>10} {'p99 mm':>8} "
          f"{'max deg':>8} {'<1mm&1deg':>10} {'out of limits':>13}")
    for name, (ms, pe, oe, outs) in rows.items():
        ok = np.mean((pe < 1e-3) & (np.degrees(oe) < 1.0)) * 100
        print(f"{name:<37} {ms:>11.3f} {pe.max() * 1e3:>10.3f} "
              f"{np.percentile(pe, 99) * 1e3:>8.3f} {np.degrees(oe.max()):>8.3f} "
              f"{ok:>9.1f}% {outs:>13d}")
    ours_ms = rows["ours (DLS, to 0.05 mm / 0.05 deg)"][0]
    for name in list(rows)[1:]:
        print(f"ratio ours / {name}: {ours_ms / rows[name][0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
