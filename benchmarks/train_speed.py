#!/usr/bin/env python
"""Training throughput, part by part, each as a ratio to pure pybullet stepping in the same run.

    .venv/bin/python benchmarks/train_speed.py [--action push_left_to_right] [--updates 3]

Rates are environment control steps per second (one control step = 10 physics substeps at
120 Hz). Measured one after the other in one run, so that each part can be compared with the
first under the same machine load (``uptime`` is printed; other jobs on the cores show up in
every row):

1. pure pybullet stepping, one process: the env's world, ``resetBaseVelocity`` +
   ``stepSimulation`` x 10 per control step with the velocities of random actions; no
   observation, reward or reset. This is the denominator of every ratio.
2. simulation + reward, one process: the per-env reference path (``TrainingEnv``: step,
   observation, termination, reward, resets) and the batched path (one ``EnvBatch`` of
   ``--envs-per-process`` envs, rewards vectorised), random actions.
3. worker processes: the trainer's ``BatchVecEnv`` (``--processes`` x ``--envs-per-process``
   envs, spawn), random actions: simulation + reward + resets + inter-process traffic.
4. the PPO update (``--epochs`` x ``--minibatches`` over ``--episodes-per-update`` x 120
   steps; METHOD 7: 25 x 4 over 70 x 120) and
5. end to end: ``train_policy`` for ``--updates`` updates from a random network (METHOD
   schedule per update, no validation or checkpoints): collection with the policy's forward
   pass, the PPO updates amortised. Its rate is env steps / learning time; the update time of
   row 4 is the mean over these updates. The trainer runs SB3's collection loop and update
   through :mod:`real2sim_policy.fast_ppo` (same numbers); ``--compare-sb3`` first runs rows
   4-5 with SB3's own methods, so that before and after share one run's conditions, and
   ``--compare-lockstep`` with the lockstep collection (``--collection``, default
   ``per_worker``: each worker stepped as soon as it answers).

Random actions are N(0, 0.2) before the tanh (the initial policy's spread, METHOD 7); the reset
sampler is fixed at ``--scale`` / ``--std`` (default 1.0 / 0.1 m: most of a 1000-update run is at
full orientation randomisation) in every row, including the training run.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ACTION_STD = 0.2
TARGET = 2000.0  # env steps/s end to end (issue 13)


def _pure_pybullet(action: str, steps: int, sampler, seed: int) -> float:
    """Control steps/s of bare pybullet stepping in the env's world (resets not timed)."""
    import pybullet as pb
    from real2sim_policy.env import EnvConfig, GripperEnv

    cfg = EnvConfig()
    env = GripperEnv(action, cfg, sampler)
    rng = np.random.default_rng(seed)
    th = np.tanh(rng.normal(0.0, ACTION_STD, (steps, 6)))
    lin = (cfg.max_linear_speed * th[:, :3]).tolist()
    ang = (cfg.max_angular_speed * th[:, 3:]).tolist()
    g = 9.81 / (cfg.control_hz * cfg.substeps)
    for v in lin:
        v[2] += g  # gravity pre-compensation, as the env does
    env.reset(seed=seed)
    hand, cid = env._hand, env._cid
    reset_vel, step_sim = pb.resetBaseVelocity, pb.stepSimulation
    elapsed = 0.0
    for k in range(steps):
        if k and k % cfg.horizon == 0:
            env.reset()
            hand = env._hand
        t = time.perf_counter()
        for _ in range(cfg.substeps):
            reset_vel(hand, lin[k], ang[k], physicsClientId=cid)
            step_sim(physicsClientId=cid)
        elapsed += time.perf_counter() - t
    env.close()
    return steps / elapsed


def _per_env(action, demos, steps, sampler, seed) -> float:
    from real2sim_policy.env import EnvConfig
    from real2sim_policy.reward import RewardConfig
    from real2sim_policy.training_env import TrainingEnv

    env = TrainingEnv(action, demos, EnvConfig(), sampler, RewardConfig())
    rng = np.random.default_rng(seed)
    acts = rng.normal(0.0, ACTION_STD, (steps, 7)).astype(np.float32)
    env.reset(seed=seed)
    t = time.perf_counter()
    for a in acts:
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()
    rate = steps / (time.perf_counter() - t)
    env.close()
    return rate


def _batched(action, demos, steps, sampler, seed, processes, per_process) -> float:
    from real2sim_policy.env import EnvConfig
    from real2sim_policy.env_batch import EnvBatch
    from real2sim_policy.reward import RewardConfig
    from real2sim_policy.vec_env import BatchVecEnv

    factories = [functools.partial(EnvBatch, action, demos, EnvConfig(), sampler, RewardConfig(),
                                   True, [seed + 1000 * (b * per_process + j)
                                          for j in range(per_process)])
                 for b in range(max(processes, 1))]
    vec = BatchVecEnv(factories, processes=processes > 0)
    n = vec.num_envs
    rng = np.random.default_rng(seed)
    acts = rng.normal(0.0, ACTION_STD, (steps // n, n, 7)).astype(np.float32)
    vec.reset()
    t = time.perf_counter()
    for a in acts:
        vec.step(a)
    rate = len(acts) * n / (time.perf_counter() - t)
    vec.close()
    return rate


def _end_to_end(action, demos, args, sampler, fast: bool = True, collection=None):
    from real2sim_policy.env import EnvConfig
    from real2sim_policy.reward import RewardConfig
    from real2sim_policy.train import train_policy
    from real2sim_policy.train_config import CurriculumConfig, PPOConfig, TrainConfig

    from real2sim_policy import fast_ppo

    fixed = CurriculumConfig(scale_start=sampler.scale, scale_step=0.0, scale_max=sampler.scale,
                             std_start=sampler.std, std_step=0.0, std_max=sampler.std)
    cfg = TrainConfig(updates=args.updates, envs=args.processes,
                      envs_per_process=args.envs_per_process, seed=args.seed,
                      validation_starts=0, checkpoint_every=0,
                      torch_threads=args.torch_threads, update_threads=args.update_threads,
                      collection=collection or args.collection,
                      ppo=PPOConfig(episodes_per_update=args.episodes_per_update,
                                    epochs=args.epochs, minibatches=args.minibatches),
                      curriculum=fixed)
    install = fast_ppo.install
    if not fast:  # SB3's own collection loop and update (what the trainer ran before)
        fast_ppo.install = lambda model, collection="lockstep": False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            res = train_policy(action, demos, Path(tmp) / "run", cfg, EnvConfig(), sampler,
                               RewardConfig(), progress=False)
    finally:
        fast_ppo.install = install
    return res.info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--action", default="push_left_to_right")
    p.add_argument("--steps", type=int, default=3000,
                   help="control steps per single-process measurement (rows 1-2)")
    p.add_argument("--processes", type=int, default=2, help="environment worker processes")
    p.add_argument("--envs-per-process", type=int, default=7)
    p.add_argument("--updates", type=int, default=3, help="PPO updates of the end-to-end run")
    p.add_argument("--episodes-per-update", type=int, default=70)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--minibatches", type=int, default=4)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--update-threads", type=int, default=0,
                   help="torch threads of the PPO update (0 = --torch-threads)")
    p.add_argument("--scale", type=float, default=1.0, help="ADR orientation scale of resets")
    p.add_argument("--std", type=float, default=0.1, help="ADR hand-position std of resets, m")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", default="", help="comma-separated rows to skip: "
                   "per_env,batch,workers,e2e")
    p.add_argument("--compare-sb3", action="store_true",
                   help="also run the end-to-end rows with SB3's own collection loop and "
                   "update (no fast_ppo), before the fast run")
    p.add_argument("--collection", default="per_worker", choices=("per_worker", "lockstep"),
                   help="the trainer's rollout collection (TrainConfig.collection)")
    p.add_argument("--compare-lockstep", action="store_true",
                   help="also run the end-to-end rows with lockstep collection (all workers "
                   "stepped together), before the --collection run")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    from real2sim_policy.demos import load_demos
    from real2sim_policy.env import SamplerConfig
    from real2sim_policy.quiet import quiet_stdout

    demos = load_demos([REPO / "models" / "demos" / args.action], args.action)
    sampler = SamplerConfig(scale=args.scale, std=args.std)
    load0 = os.getloadavg()[0]
    rows: list[tuple[str, float]] = []
    with quiet_stdout():  # pybullet prints its build time
        pure = _pure_pybullet(args.action, args.steps, sampler, args.seed)
        if "per_env" not in skip:
            rows.append(("1 process, simulation + reward, per env (TrainingEnv)",
                         _per_env(args.action, demos, args.steps, sampler, args.seed)))
        if "batch" not in skip:
            rows.append((f"1 process, simulation + reward, batch of {args.envs_per_process}",
                         _batched(args.action, demos, args.steps, sampler, args.seed, 0,
                                  args.envs_per_process)))
        if "workers" not in skip:
            n = args.processes * args.envs_per_process
            rows.append((f"{args.processes} worker processes x {args.envs_per_process} envs "
                         "(+ IPC)", _batched(args.action, demos, max(args.steps, 20 * n) * 2,
                                             sampler, args.seed, args.processes,
                                             args.envs_per_process)))
        runs = []
        if "e2e" not in skip:
            if args.compare_sb3:
                runs.append(("SB3 loop", _end_to_end(args.action, demos, args, sampler, False,
                                                     "lockstep")))
            if args.compare_lockstep and args.collection != "lockstep":
                runs.append(("lockstep", _end_to_end(args.action, demos, args, sampler, True,
                                                     "lockstep")))
            runs.append((args.collection, _end_to_end(args.action, demos, args, sampler)))

    print(f"{args.action}: control steps/s (10 substeps each); sampler scale {args.scale}, "
          f"std {args.std} m; load average {load0:.2f} -> {os.getloadavg()[0]:.2f} "
          f"({os.cpu_count()} cores)")
    print(f"  {'pure pybullet stepping, 1 process':58s} {pure:8.0f}   1.00x")
    for name, r in rows:
        print(f"  {name:58s} {r:8.0f}   {r / pure:4.2f}x")
    for tag, info in runs:
        steps_update = args.episodes_per_update * 120
        upd = info["update_s"] / max(args.updates, 1)
        col = info["collect_s"] / max(args.updates, 1)
        rate = info["env_steps_per_s"] or 0.0
        label = (f"[{tag}] PPO update ({args.epochs} x {args.minibatches} minibatches, "
                 f"{steps_update} steps)")
        print(f"  {label:58s} {upd:7.2f} s   = {steps_update / upd:.0f} steps/s, "
              f"{steps_update / upd / pure:.2f}x")
        label = f"[{tag}] rollout collection (policy forward + envs)"
        print(f"  {label:58s} {steps_update / col:8.0f}   {steps_update / col / pure:4.2f}x")
        label = f"[{tag}] END TO END ({args.updates} updates, {info['envs']} envs)"
        print(f"  {label:58s} {rate:8.0f}   {rate / pure:4.2f}x   "
              f"(target {TARGET:.0f}: {'met' if rate >= TARGET else 'NOT met'})")
        print(f"  per update: collection {col:.2f} s + update {upd:.2f} s; "
              f"{info['env_steps']} env steps in {info['learn_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
