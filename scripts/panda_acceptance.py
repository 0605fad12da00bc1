#!/usr/bin/env python
"""Would the Panda execute a policy's plans? The share of a policy's gripper plans that the
executor accepts before any motion.

    .venv/bin/python scripts/panda_acceptance.py --action push_left_to_right \
        --policy models/push_left_to_right/policy.zip --spec easy --rows 20

For each of the first ``--rows`` start states of ``--spec``, the policy is rolled out in the
gripper world (as ``real2sim rollout`` does) and its plan is converted by the executor
(``Executor.plan_joint_trajectory``: IK, joint limits, timing, and the pre-motion collision
check of the arm against the table and object 0) at the demo's object pose, with the start's
object sizes. Prints one row per start (success in the gripper world; accepted, or the
executor's reason) and ``accepted K of N``. A policy can succeed in the gripper world by moves
the arm cannot make (the simulated hand is kinematic); this measures that gap. Nothing moves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def acceptance(action: str, policy: str, spec: str, rows: int, seed: int = 0) -> list[dict]:
    """Per start: ``{"row", "success", "accepted", "reason"}`` (reason "" when accepted)."""
    from real2sim_bringup.launch_common import DEMO_OBJECT_POSE
    from real2sim_core.actions import get_action
    from real2sim_core.errors import Real2SimError
    from real2sim_policy.env_config import EnvConfig
    from real2sim_policy.jobs import rollout, start_from_spec
    from real2sim_policy.policies import env_config_for_policy
    from real2sim_policy.quiet import quiet_env

    from panda_executor import Executor, ExecutorConfig

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
            try:
                executor.plan_joint_trajectory(ro.to_plan(), DEMO_OBJECT_POSE, objects=objects)
                reason = ""
            except Real2SimError as e:
                reason = " ".join(str(e).split())
            out.append({"row": label, "success": bool(ro.evaluate().success),
                        "accepted": not reason, "reason": reason})
    finally:
        env.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--action", required=True)
    p.add_argument("--policy", required=True, help="a policy .zip (or scripted, idle)")
    p.add_argument("--spec", default="easy", help="easy, hard or a benchmark CSV")
    p.add_argument("--rows", type=int, default=20, help="the first ROWS start states")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from real2sim_core.errors import Real2SimError

    if args.rows < 1:
        print("error: --rows must be at least 1", file=sys.stderr)
        return 2
    try:
        results = acceptance(args.action, args.policy, args.spec, args.rows, args.seed)
    except Real2SimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("| row | gripper world | Panda executor |")
    print("|---|---|---|")
    for r in results:
        world = "success" if r["success"] else "failure"
        verdict = "accepted" if r["accepted"] else f"refused: {r['reason'][:160]}"
        print(f"| {r['row']} | {world} | {verdict} |")
    accepted = sum(r["accepted"] for r in results)
    both = sum(r["accepted"] and r["success"] for r in results)
    print(f"accepted {accepted} of {len(results)} ({both} of them succeed in the gripper world)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
