"""``real2sim benchmark`` and ``real2sim rollout``: the policy package's subcommands.

Registered through the ``real2sim.commands`` entry-point group (see ``real2sim_core.cli``).
Errors the stack raises on purpose (bad action, policy, spec, columns) are printed by the core
CLI as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from real2sim_core.actions import action_names, get_action
from real2sim_core.config import parse_overrides
from real2sim_core.errors import InputError
from real2sim_core.plan import write_plan_json
from real2sim_core.textio import check_writable_dir, check_writable_file

from .policies import DEFAULT_POLICY, env_config_for_policy, policy_choices, resolve_policy_spec
from .reward import REDUCTIONS
from .train_config import INIT_CHOICES

__all__ = ["register_benchmark", "register_rollout", "register_train"]

_SPEC_HELP = "start states: easy, hard (data/benchmark/) or a CSV with the benchmark columns"
_POLICY_HELP = (f"one of: {', '.join(policy_choices())} (idle: zero action, scripted: "
                "reference controller); default: the config's policy parameter, "
                f"{DEFAULT_POLICY!r} = the shipped models/ACTION/policy.zip, else scripted")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--action", required=True, help=f"one of: {', '.join(action_names())}")
    p.add_argument("--policy", default=None, help=_POLICY_HELP)
    p.add_argument("--spec", default="easy", help=_SPEC_HELP)
    p.add_argument("--config", default=None,
                   help="policy.yaml (ROS parameter file; default: config/policy.yaml)")


def register_benchmark(subparsers) -> None:
    """Add ``real2sim benchmark``."""
    p = subparsers.add_parser(
        "benchmark", help="roll a policy out from benchmark start states and judge it",
        description="Roll POLICY out from every start state of SPEC, judge each rollout with "
        "the METHOD section 8 checks, and write DIR/rollouts/<row>.csv, DIR/summary.json and "
        "DIR/marginals.png.",
    )
    _common(p)
    p.add_argument("--limit", type=int, default=None, help="only the first N start states")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: config)"
                   "; with --ray: the CPUs of the local Ray")
    p.add_argument("--ray", action="store_true",
                   help="split the start states across Ray workers (a local Ray for this run; "
                   "same per-rollout results)")
    p.add_argument("--address", default=None, metavar="auto|HOST:PORT",
                   help="with --ray: run on this Ray cluster instead of a local Ray")
    p.add_argument("--out", required=True, help="output directory DIR")
    p.add_argument("--no-plots", action="store_true", help="skip the histogram PNGs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_benchmark)


def register_rollout(subparsers) -> None:
    """Add ``real2sim rollout``."""
    p = subparsers.add_parser(
        "rollout", help="roll a policy out from one start state into a gripper plan (JSON)",
        description="Roll POLICY out from start state ROW of SPEC and write the gripper path as "
        "a GripperPlan JSON (aligned frame, one waypoint per control step, opening = finger "
        "opening). Optionally also the rollout CSV.",
    )
    _common(p)
    p.add_argument("--start", default="0", metavar="ROW_OR_POSE",
                   help="a row index (0-based) in SPEC, or a start pose as comma-separated "
                   "KEY=VALUE pairs over the benchmark columns (as in the CSV: angles in rad, "
                   "lengths in m), e.g. 'hposx=0.1,hposy=-0.05,hposz=0.15,hazi=0.5,hele=0.7'; "
                   "keys not "
                   "given keep the values of row 0")
    p.add_argument("--out", required=True, help="plan JSON file to write")
    p.add_argument("--csv", default=None, help="also write the rollout CSV here")
    p.add_argument("--seed", type=int, default=0, help="reset seed (table friction)")
    p.set_defaults(func=_run_rollout)


def _load(args, overrides=None):
    from .config import load_policy_config  # imports pybullet: only when a command runs

    return load_policy_config(args.config, overrides)


def _note_world(policy: str, env_config) -> None:
    """Say which settings of ``env_config`` the policy's recorded world replaces."""
    from .policies import policy_world

    for k, v in policy_world(policy).items():
        if getattr(env_config, k) != v:
            print(f"note: env.{k} = {v:g} (recorded with {Path(policy).name}; the config "
                  f"has {getattr(env_config, k):g})")


def _run_benchmark(args) -> int:
    from dataclasses import replace

    from .benchmark import run_benchmark

    action = get_action(args.action).name
    check_writable_dir(args.out)
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit {args.limit}: must be >= 1 (leave it out for all start "
                         "states)")
    cfg = _load(args, {"action": action})
    policy = resolve_policy_spec(args.policy if args.policy is not None else cfg.policy, action)
    _note_world(policy, cfg.env)
    bcfg = cfg.benchmark
    if args.workers is not None:
        if args.workers < 1:
            raise InputError(f"--workers must be >= 1, got {args.workers}")
        bcfg = replace(bcfg, workers=args.workers)
    if args.no_plots:
        bcfg = replace(bcfg, plots=False)
    if args.ray or args.address:
        from .ray_benchmark import run_benchmark_ray

        res = run_benchmark_ray(action, policy, args.spec, args.out, limit=args.limit,
                                config=bcfg, env_config=cfg.env, address=args.address,
                                num_cpus=args.workers if not args.address else None,
                                progress=not args.quiet)
    else:
        res = run_benchmark(action, policy, args.spec, args.out, limit=args.limit,
                            config=bcfg, env_config=cfg.env, progress=not args.quiet)
    s = res.summary
    lo, hi = s["success_ci95"]
    t = s["timing"]
    print(f"{action} [{policy}] on {Path(s['spec']).name}: success "
          f"{s['successes']}/{s['num_starts']} = {100 * s['success_rate']:.1f} % "
          f"(95 % CI {100 * lo:.1f}-{100 * hi:.1f}); hand ok {100 * s['hand_ok_rate']:.1f} %, "
          f"object ok {100 * s['object_ok_rate']:.1f} %; {t['wall_s']:.1f} s, "
          f"{t['control_steps_per_s']:.0f} control steps/s with {t['workers']} worker(s)")
    if s["failure_counts"]:
        print("failures: " + json.dumps(s["failure_counts"]))
    print(f"wrote {res.out_dir}/summary.json, rollouts/, marginals.png")
    return 0


def _run_rollout(args) -> int:
    from .jobs import rollout, start_from_spec
    from .quiet import quiet_env

    action = get_action(args.action).name
    cfg = _load(args, {"action": action})
    label, start = start_from_spec(args.spec, args.start)
    policy = resolve_policy_spec(args.policy if args.policy is not None else cfg.policy, action)
    check_writable_file(args.out)  # before the rollout, not after
    if args.csv:
        check_writable_file(args.csv, "--csv")
    _note_world(policy, cfg.env)
    env = quiet_env(action, env_config_for_policy(policy, cfg.env))
    try:
        ro, policy = rollout(env, policy, start, args.seed)
    finally:
        env.close()
    res = ro.evaluate()
    plan = ro.to_plan()
    write_plan_json(plan, args.out)
    if args.csv:
        ro.to_csv(args.csv)
    print(f"{action} [{policy}] start {label}: {'success' if res.success else 'failure'} "
          f"({res.reason})")
    print(f"wrote {args.out} ({plan.num_waypoints} waypoints, frame {plan.frame_id})")
    return 0


def register_train(subparsers) -> None:
    """Add ``real2sim train``."""
    p = subparsers.add_parser(
        "train", help="train a PPO policy on demonstrations (state trajectories)",
        description="Train a policy for ACTION with PPO and the ADR curriculum (METHOD section 7) "
        "on the imitation reward of the demonstrations (METHOD section 6) and write "
        "OUT/policy.zip, OUT/policy.json, OUT/training.png, OUT/checkpoints/ and OUT/tb/ "
        "(TensorBoard).",
    )
    p.add_argument("--action", required=True, help=f"one of: {', '.join(action_names())}")
    p.add_argument("--states", nargs="+", required=True, metavar="FILE_OR_DIR",
                   help="state CSVs written by `real2sim estimate` (or folders of them)")
    p.add_argument("--out", required=True, help="output folder OUT")
    p.add_argument("--updates", type=int, default=None, help="PPO updates (default: config, "
                   "METHOD 1000); the ADR schedule is stretched to this length")
    p.add_argument("--envs", type=int, default=None,
                   help="environment worker processes (1 = in the learner's process)")
    p.add_argument("--envs-per-process", type=int, default=None,
                   help="environments per worker process (default: config, 7)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--reward", choices=REDUCTIONS, default=None,
                   help="multi-video reward: mean (proposed), max (DeepMimic baseline), single")
    p.add_argument("--init", choices=INIT_CHOICES, default=None,
                   help="none: random network (METHOD); track: demonstration-tracking warm start")
    p.add_argument("--episodes-per-update", type=int, default=None,
                   help="rollout size per update in episodes (METHOD 70)")
    p.add_argument("--epochs", type=int, default=None, help="PPO epochs per update (METHOD 25)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any policy.yaml parameter, e.g. "
                   "train.warm_start.action_noise=0.1 (repeatable)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoints (same settings)")
    p.add_argument("--config", default=None,
                   help="policy.yaml (ROS parameter file; default: config/policy.yaml)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_train)


def _train_command(args) -> str:
    """The command line that reproduces this run (recorded in policy.json)."""
    import shlex

    parts = ["real2sim", "train", "--action", args.action, "--states", *args.states,
             "--out", args.out]
    for flag in ("updates", "envs", "envs_per_process", "seed", "reward", "init",
                 "episodes_per_update", "epochs", "config"):
        val = getattr(args, flag)
        if val is not None:
            parts += ["--" + flag.replace("_", "-"), str(val)]
    for item in args.set:
        parts += ["--set", item]
    if args.resume:
        parts.append("--resume")
    if args.quiet:
        parts.append("--quiet")
    return " ".join(shlex.quote(str(p)) for p in parts)


def _run_train(args) -> int:
    import sys

    from .demos import mirror_note
    from .train import load_demos, train_policy

    action = get_action(args.action).name
    overrides = {}
    for key, val in (("train.updates", args.updates), ("train.envs", args.envs),
                     ("train.envs_per_process", args.envs_per_process),
                     ("train.seed", args.seed), ("reward.reduction", args.reward),
                     ("train.init", args.init),
                     ("train.ppo.episodes_per_update", args.episodes_per_update),
                     ("train.ppo.epochs", args.epochs)):
        if val is not None:
            overrides[key] = val
    overrides.update(parse_overrides(args.set))
    cfg = _load(args, overrides)
    demos = load_demos(args.states, action)
    out = check_writable_dir(args.out)  # before minutes of training, not after
    if (out / "policy.zip").exists() and not args.resume:
        print(f"note: {out}/policy.zip exists and will be replaced", file=sys.stderr)
    command = _train_command(args)
    print(f"training {action} on {len(demos)} demonstration(s) "
          f"({', '.join(str(d.video_id) for d in demos)}){mirror_note(cfg.train.mirror_demos)}, "
          f"reward {cfg.reward.reduction}, "
          f"{cfg.train.updates} updates x {cfg.train.ppo.episodes_per_update} episodes, "
          f"{cfg.train.envs} env process(es) x {cfg.train.envs_per_process}, "
          f"init {cfg.train.init}")
    res = train_policy(action, demos, out, cfg.train, cfg.env, cfg.sampler, cfg.reward,
                       resume=args.resume, progress=not args.quiet, command=command)
    i = res.info
    val = i["final_validation_success"]
    print(f"wrote {res.policy_path} ({i['env_steps']} env steps in {i['wall_s']:.0f} s, "
          f"{i['env_steps_per_s'] or 0:.0f} env steps/s while learning"
          + (f"; validation success {100 * val:.0f} %" if val is not None else "") + ")")
    print(f"curves: {out}/training.png, TensorBoard: tensorboard --logdir {out}/tb")
    return 0
