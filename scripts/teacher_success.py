#!/usr/bin/env python
"""How well the warm-start teacher itself does on a benchmark: the demonstrations' per-step
mean (:class:`~real2sim_policy.warmstart.DemoTracker`, no network) run as the policy.

    .venv/bin/python scripts/teacher_success.py --action pull_left_to_right --spec hard \
        --rows 100

Rolls the teacher of ``models/demos/<action>/`` out from the first ``--rows`` start states of
``--spec`` in the evaluation world (as ``real2sim benchmark`` does) once per
``--grip-outside-window`` setting, judges each rollout by METHOD section 8 and prints the
success rate and the failed checks. This is what the warm start's behaviour cloning imitates,
so it separates what the teacher does from what the cloned network makes of it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class _TeacherPolicy:
    """The benchmark's policy interface over a teacher (it sees the 8 observation values)."""

    def __init__(self, teacher):
        self.teacher = teacher

    def reset(self, env) -> None:
        pass

    def act(self, obs, env):
        return self.teacher.act(obs)


def teacher_success(action: str, spec: str, rows: int, grip: str, demos_dir: Path,
                    max_finger_opening: float | None = None, hand_at_object: bool = False):
    """(success rate, Counter of failed checks) of the teacher on the first ``rows`` starts."""
    from real2sim_policy.benchmark import benchmark_starts
    from real2sim_policy.demos import load_demos
    from real2sim_policy.env import EnvConfig, GripperEnv
    from real2sim_policy.reward import DemoReward, RewardConfig
    from real2sim_policy.rollout import run_rollout
    from real2sim_policy.warmstart import DemoTracker

    reward = DemoReward(load_demos([demos_dir], action), action,
                        RewardConfig(hand_at_object=hand_at_object))
    cfg = EnvConfig(training=False)
    if max_finger_opening is not None:
        cfg = EnvConfig(training=False, max_finger_opening=max_finger_opening)
    env = GripperEnv(action, cfg)
    try:
        teacher = DemoTracker(reward, env.config.control_hz, env.config.max_linear_speed,
                              env.config.max_angular_speed, grip, env.max_opening)
        policy = _TeacherPolicy(teacher)
        ok, failed = 0, Counter()
        _path, starts = benchmark_starts(spec, rows)
        for _label, start in starts:
            res = run_rollout(env, policy, start, seed=0).evaluate()
            ok += bool(res.success)
            if not res.success:
                failed[res.failed_reason.split(":")[0]] += 1
        return ok / len(starts), failed
    finally:
        env.close()


def main(argv=None) -> int:
    from real2sim_core.actions import action_names
    from real2sim_core.errors import Real2SimError
    from real2sim_policy.warmstart import GRIP_OUTSIDE_WINDOW

    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("--action", required=True, choices=action_names())
    p.add_argument("--spec", default="hard", help="easy | hard | a start-state CSV")
    p.add_argument("--rows", type=int, default=100, help="the first ROWS start states")
    p.add_argument("--grip-outside-window", nargs="+", default=list(GRIP_OUTSIDE_WINDOW),
                   choices=GRIP_OUTSIDE_WINDOW)
    p.add_argument("--demos", default="", help="default: models/demos/<action>")
    p.add_argument("--max-finger-opening", type=float, default=None,
                   help="env.max_finger_opening, m a side (default: the env's)")
    p.add_argument("--hand-at-object", action="store_true",
                   help="reward.hand_at_object: the teacher's fingertip at the object's centre "
                        "in the demonstrations' touching frames")
    a = p.parse_args(argv)
    if a.rows < 1:
        p.error("--rows must be at least 1")
    demos = Path(a.demos) if a.demos else REPO / "models" / "demos" / a.action
    for grip in a.grip_outside_window:
        try:
            rate, failed = teacher_success(a.action, a.spec, a.rows, grip, demos,
                                           a.max_finger_opening, a.hand_at_object)
        except Real2SimError as e:  # a bad --spec or --demos: say what, no traceback
            print(f"error: {e}", file=sys.stderr)
            return 2
        tie = " hand_at_object" if a.hand_at_object else ""
        print(f"{a.action} {a.spec} (first {a.rows}) grip_outside_window={grip}{tie}: "
              f"success {100 * rate:.1f} %; failed: {dict(failed) or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
