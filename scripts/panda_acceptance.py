#!/usr/bin/env python
"""Would the Panda execute a policy's plans? The share of a policy's gripper plans that the
executor accepts before any motion.

    .venv/bin/python scripts/panda_acceptance.py --action push_left_to_right \
        --policy models/push_left_to_right/policy.zip --spec easy --rows 20 [--explain]

For each of the first ``--rows`` start states of ``--spec``, the policy is rolled out in the
gripper world (as ``real2sim rollout`` does) and its plan is converted by the executor
(``Executor.plan_joint_trajectory``: IK, joint limits, timing, and the pre-motion collision
check of the arm against the table and object 0) at the demo's object pose, with the start's
object sizes. Prints one row per start (success in the gripper world; accepted, or the
executor's reason) and ``accepted K of N``. A policy can succeed in the gripper world by moves
the arm cannot make (the simulated hand is kinematic); this measures that gap. Nothing moves.

``--explain`` adds, for each plan refused as unreachable, the waypoint the arm misses most:
where the TCP is in ``panda_link0``, where the fingers point (and how far that is from pointing
straight away from the robot's base), and the smallest IK error that random start
configurations reach there. Above the IK tolerance the pose is out of the arm's reach; within
it, the pose is reachable and only the tracked path (warm-started waypoint to waypoint) misses
it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def explain_unreachable(executor, plan, object_pose, restarts: int = 200, seed: int = 0) -> str:
    """Why the arm cannot follow ``plan``: its worst-tracked plan waypoint, in words.

    Each finger orientation the executor may use (``ik.finger_flip``) is tracked over the plan's
    own waypoints from the home configuration; at the waypoint with the largest position error
    of the better one, ``restarts`` random configurations (and the tracked one) are tried with
    either finger orientation. Returns "" when every plan waypoint is tracked within tolerance.
    """
    import numpy as np
    from panda_executor.transform import plan_to_tcp_path

    from panda_executor import track_path
    from real2sim_core import frames

    cfg = executor.config
    paths = [plan_to_tcp_path(plan, object_pose, cfg.workspace, flip=f) for f in cfg.ik.flips]
    tracked = [track_path(executor.solver, p.positions, p.quats,
                          q_start=np.asarray(cfg.home, dtype=float)) for p in paths]
    best_flip = min(range(len(paths)), key=lambda i: tracked[i].position_errors.max())
    path, ik = paths[best_flip], tracked[best_flip]
    if ik.converged.all():
        return ""
    k = int(np.argmax(ik.position_errors))
    rng = np.random.default_rng(seed)
    sols = [executor.solver.solve_with_restarts(p.positions[k],
                                                frames.quat_to_matrix(p.quats[k:k + 1])[0],
                                                [ik.q[k]], rng, restarts=restarts)
            for p in paths]
    best = min(sols, key=lambda s: (not s.converged, s.position_error))
    pos = path.positions[k]
    axis = frames.quat_to_matrix(path.quats[k:k + 1])[0][:, 2]
    out_h, ax_h = pos[:2] / max(np.linalg.norm(pos[:2]), 1e-9), axis[:2]
    if np.linalg.norm(ax_h) > 1e-6:
        off = np.degrees(np.arccos(np.clip(out_h @ ax_h / np.linalg.norm(ax_h), -1.0, 1.0)))
        facing = f", {off:.0f} deg from pointing straight away from the base"
    else:
        facing = ", vertical"
    verdict = ("reachable: only the tracked path misses it" if best.converged
               else "out of the arm's reach")
    return (f"worst at plan waypoint {k} (t = {path.times[k]:.2f} s, IK error "
            f"{ik.position_errors[k] * 1e3:.1f} mm): TCP at ({pos[0]:.3f}, {pos[1]:.3f}, "
            f"{pos[2]:.3f}) m in panda_link0, fingers pointing ({axis[0]:.2f}, {axis[1]:.2f}, "
            f"{axis[2]:.2f}){facing}; best of {restarts} random IK starts "
            f"{best.position_error * 1e3:.1f} mm / {np.degrees(best.orientation_error):.1f} deg: "
            f"{verdict}")


def acceptance(action: str, policy: str, spec: str, rows: int, seed: int = 0,
               explain: bool = False) -> list[dict]:
    """Per start: ``{"row", "success", "accepted", "reason", "explanation"}`` (reason ""
    when accepted; explanation "" unless ``explain`` and the plan is unreachable)."""
    from real2sim_bringup.launch_common import DEMO_OBJECT_POSE
    from real2sim_core.actions import get_action
    from real2sim_core.errors import Real2SimError
    from real2sim_policy.env_config import EnvConfig
    from real2sim_policy.jobs import rollout, start_from_spec
    from real2sim_policy.policies import env_config_for_policy
    from real2sim_policy.quiet import quiet_env

    from panda_executor import Executor, ExecutorConfig, UnreachableError

    spec_action = get_action(action)
    action, two = spec_action.name, spec_action.num_objects == 2
    executor = Executor(ExecutorConfig())
    env = quiet_env(action, env_config_for_policy(policy, EnvConfig()))
    out = []
    try:
        for i in range(rows):
            label, start = start_from_spec(spec, i)
            ro, _ = rollout(env, policy, start, seed)
            objects = [(start.obj0_height, start.obj0_radius)]
            if two:
                objects.append((start.obj1_height, start.obj1_radius))
            plan = ro.to_plan()
            explanation = ""
            try:
                executor.plan_joint_trajectory(plan, DEMO_OBJECT_POSE, objects=objects)
                reason = ""
            except UnreachableError as e:
                reason = " ".join(str(e).split())
                if explain:
                    explanation = explain_unreachable(executor, plan, DEMO_OBJECT_POSE,
                                                      seed=seed)
            except Real2SimError as e:
                reason = " ".join(str(e).split())
            out.append({"row": label, "success": bool(ro.evaluate().success),
                        "accepted": not reason, "reason": reason, "explanation": explanation})
    finally:
        env.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("--action", required=True)
    p.add_argument("--policy", required=True, help="a policy .zip (or scripted, idle)")
    p.add_argument("--spec", default="easy", help="easy, hard or a benchmark CSV")
    p.add_argument("--rows", type=int, default=20, help="the first ROWS start states")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--explain", action="store_true",
                   help="for unreachable plans: the worst waypoint, where the fingers point, "
                        "and whether any arm configuration reaches it")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from real2sim_core.errors import Real2SimError

    if args.rows < 1:
        print("error: --rows must be at least 1", file=sys.stderr)
        return 2
    try:
        results = acceptance(args.action, args.policy, args.spec, args.rows, args.seed,
                             explain=args.explain)
    except Real2SimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("| row | gripper world | Panda executor |")
    print("|---|---|---|")
    for r in results:
        world = "success" if r["success"] else "failure"
        verdict = "accepted" if r["accepted"] else f"refused: {r['reason'][:160]}"
        print(f"| {r['row']} | {world} | {verdict} |")
        if r["explanation"]:
            print(f"|   | | {r['explanation']} |")
    accepted = sum(r["accepted"] for r in results)
    both = sum(r["accepted"] and r["success"] for r in results)
    print(f"accepted {accepted} of {len(results)} ({both} of them succeed in the gripper world)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
