#!/usr/bin/env python
"""Where training time goes: simulation, reward, policy inference, IPC and the PPO update.

Prints rates (env steps/s) and the share of one PPO update spent in each part, for the
shipped training settings (scripts/train_models.sh) unless overridden:

    .venv/bin/python benchmarks/train_speed.py [--action push_left_to_right] [--steps 3000]

Parts measured, each on its own (run it on an otherwise idle machine):
1. raw pybullet env steps (no reward), one process;
2. the same with the demonstrations' reward (``DemoReward``);
3. ``SubprocVecEnv`` with 1 and 2 worker processes, zero-cost actions (simulation + IPC);
4. policy inference per step (SB3 forward of the 3 x 128 actor-critic, batch = envs);
5. one PPO ``train()`` call (epochs x minibatches over one rollout).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _rate(fn, steps: int) -> float:
    t = time.perf_counter()
    fn(steps)
    return steps / (time.perf_counter() - t)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--action", default="push_left_to_right")
    p.add_argument("--steps", type=int, default=3000, help="env steps per measurement")
    p.add_argument("--episodes-per-update", type=int, default=30)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--minibatches", type=int, default=4)
    args = p.parse_args(argv)

    import torch
    from real2sim_policy.benchmark import _quiet_stdout, _restore_stdout
    from real2sim_policy.env import EnvConfig, GripperEnv, SamplerConfig
    from real2sim_policy.reward import DemoReward, RewardConfig
    from real2sim_policy.train import (
        PPOConfig,
        TrainConfig,
        _make_env_fn,
        load_demos,
    )
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from real2sim_policy import train as train_mod

    torch.set_num_threads(1)
    demos = load_demos([REPO / "models" / "demos" / args.action], args.action)
    rng = np.random.default_rng(0)
    token = _quiet_stdout()
    try:
        env_plain = GripperEnv(args.action, EnvConfig(training=True))
        env_rew = GripperEnv(args.action, EnvConfig(training=True),
                             reward_fn=DemoReward(demos, args.action))
    finally:
        _restore_stdout(token)

    def run_env(env):
        def go(n):
            env.reset(seed=0)
            for _ in range(n):
                _, _, te, tr, _ = env.step(rng.normal(0, 0.1, 7))
                if te or tr:
                    env.reset()
        return go

    rows = []
    r_plain = _rate(run_env(env_plain), args.steps)
    rows.append(("1 process, simulation only", r_plain))
    r_rew = _rate(run_env(env_rew), args.steps)
    rows.append(("1 process, simulation + reward", r_rew))
    t = time.perf_counter()
    for _ in range(50):
        env_rew.reset()
    reset_ms = (time.perf_counter() - t) / 50 * 1000
    env_plain.close()
    env_rew.close()

    sampler = SamplerConfig(scale=0.5, std=0.05)
    for n_envs in (1, 2):
        fns = [_make_env_fn(args.action, demos, EnvConfig(), sampler, RewardConfig(), True, i)
               for i in range(n_envs)]
        vec = SubprocVecEnv(fns, start_method="spawn")
        vec.reset()

        def go(n, vec=vec, n_envs=n_envs):
            for _ in range(n // n_envs):
                vec.step(rng.normal(0, 0.1, (n_envs, 7)).astype(np.float32))

        rows.append((f"SubprocVecEnv x{n_envs} (simulation + reward + IPC)",
                     _rate(go, args.steps)))
        if n_envs == 2:
            cfg = TrainConfig(ppo=PPOConfig(episodes_per_update=args.episodes_per_update,
                                            epochs=args.epochs, minibatches=args.minibatches))
            n_steps = cfg.ppo.episodes_per_update * 120 // n_envs
            model = PPO(train_mod.AsymmetricActorCriticPolicy(), vec, n_steps=n_steps,
                        batch_size=n_steps * n_envs // cfg.ppo.minibatches,
                        n_epochs=cfg.ppo.epochs, device="cpu", verbose=0,
                        policy_kwargs={"net_arch": {"pi": [128] * 3, "vf": [128] * 3},
                                       "activation_fn": torch.nn.Tanh, "actor_dim": 8})
            obs = torch.zeros((n_envs, 24))
            t = time.perf_counter()
            with torch.no_grad():
                for _ in range(1000):
                    model.policy(obs)
            infer_s = (time.perf_counter() - t) / 1000
            rows.append(("policy inference (batch of 2), calls/s", 1.0 / infer_s))
            t = time.perf_counter()
            model.learn(total_timesteps=n_steps * n_envs)
            collect_train_s = time.perf_counter() - t
            t = time.perf_counter()
            model.train()
            train_s = time.perf_counter() - t
        vec.close()

    steps_update = args.episodes_per_update * 120
    print(f"{args.action}: env steps/s (each measured alone, {args.steps} steps)")
    for name, r in rows:
        print(f"  {name:55s} {r:8.0f}")
    print(f"  reset (rebuild + settle): {reset_ms:.1f} ms")
    print(f"ratios: reward cost {r_plain / r_rew:.2f}x sim; 2 processes vs 1: "
          f"{rows[3][1] / rows[2][1]:.2f}x")
    sim_s = steps_update / rows[3][1]
    print(f"one update ({steps_update} steps, {args.epochs} epochs x {args.minibatches} "
          f"minibatches): collect+train {collect_train_s:.1f} s; of which PPO train "
          f"{train_s:.2f} s ({100 * train_s / collect_train_s:.0f} %), simulation+IPC "
          f"~{sim_s:.1f} s ({100 * sim_s / collect_train_s:.0f} %), inference "
          f"~{steps_update / 2 * infer_s:.1f} s")
    print(f"=> {steps_update / collect_train_s:.0f} env steps/s end to end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
