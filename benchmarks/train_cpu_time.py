#!/usr/bin/env python
"""CPU time of each part of training, per env step (time.process_time: what a part costs on
one core, much less sensitive to other jobs on a shared machine than wall-clock rates).

    .venv/bin/python benchmarks/train_cpu_time.py [--action push_left_to_right] [--steps 1500]

Parts: pure pybullet stepping (10 substeps), the per-env training path (``TrainingEnv``), one
``EnvBatch`` of 7, the SB3 learner's collection loop per vectorised step (policy forward, buffer,
monitor; a no-cost VecEnv of 14 / 28 envs) and one PPO update (METHOD: 25 epochs x 4 minibatches
of 2,100, 1 torch thread). From these it models the idle-machine end-to-end rate of 2 worker
processes x M envs: per vectorised step the learner's time plus M env steps of one worker (the
other runs in parallel), then the update. Sampler at scale 1.0 / std 0.1 m, actions N(0, 0.2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
STEPS_PER_UPDATE = 70 * 120


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--action", default="push_left_to_right")
    p.add_argument("--steps", type=int, default=1500)
    args = p.parse_args(argv)

    import gymnasium as gym
    import pybullet as pb
    import torch
    from real2sim_policy.demos import load_demos
    from real2sim_policy.env import EnvConfig, GripperEnv, SamplerConfig
    from real2sim_policy.env_batch import EnvBatch
    from real2sim_policy.network import AsymmetricActorCriticPolicy
    from real2sim_policy.quiet import quiet_stdout
    from real2sim_policy.reward import RewardConfig
    from real2sim_policy.training_env import TrainingEnv
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv, VecMonitor

    torch.set_num_threads(1)
    demos = load_demos([REPO / "models" / "demos" / args.action], args.action)
    samp = SamplerConfig(scale=1.0, std=0.1)
    rng = np.random.default_rng(0)
    n = args.steps
    with quiet_stdout():
        env = GripperEnv(args.action, EnvConfig(), samp)
        te = TrainingEnv(args.action, demos, EnvConfig(), samp, RewardConfig())
        batch = EnvBatch(args.action, demos, EnvConfig(), samp, RewardConfig(), True,
                         list(range(7)))
    env.reset(seed=0)
    g = 9.81 / 120.0
    cpu = 0.0
    for k in range(n):
        if k % 120 == 0:
            env.reset()
        t = time.process_time()
        for _ in range(10):
            pb.resetBaseVelocity(env._hand, [0.01, 0.0, g], [0.1, 0.0, 0.0],
                                 physicsClientId=env._cid)
            pb.stepSimulation(physicsClientId=env._cid)
        cpu += time.process_time() - t
    pure = cpu / n
    te.reset(seed=0)
    t = time.process_time()
    for a in rng.normal(0, 0.2, (n, 7)).astype(np.float32):
        _, _, d1, d2, _ = te.step(a)
        if d1 or d2:
            te.reset()
    per_env = (time.process_time() - t) / n
    acts = rng.normal(0, 0.2, (n // 7, 7, 7)).astype(np.float32)
    t = time.process_time()
    for a in acts:
        batch.step(a)
    per_batch = (time.process_time() - t) / (len(acts) * 7)
    print(f"{args.action}: CPU per env step: pure pybullet {pure * 1e6:.0f} us "
          f"({1 / pure:.0f} steps/s), per-env path {per_env * 1e6:.0f} us, batch of 7 "
          f"{per_batch * 1e6:.0f} us")

    class _Free(VecEnv):
        """A VecEnv that costs nothing: the learner's own time per vectorised step."""

        def __init__(self, num):
            super().__init__(num, gym.spaces.Box(-10, 10, (24,), np.float32),
                             gym.spaces.Box(-5, 5, (7,), np.float32))
            self.t = 0

        def reset(self):
            return np.zeros((self.num_envs, 24), np.float32)

        def step_async(self, actions):
            pass

        def step_wait(self):
            self.t += 1
            done = np.zeros(self.num_envs, bool)
            infos = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
            for i in range(self.num_envs):  # an episode end every ~70 steps, as measured
                if (self.t + 17 * i) % 70 == 0:
                    done[i] = True
                    infos[i]["terminal_observation"] = np.zeros(24, np.float32)
            return (rng.normal(size=(self.num_envs, 24)).astype(np.float32),
                    np.ones(self.num_envs, np.float32), done, infos)

        def close(self):
            pass

        def get_attr(self, attr_name, indices=None):
            return [None] * self.num_envs

        def set_attr(self, attr_name, value, indices=None):
            pass

        def env_method(self, method_name, *a, indices=None, **k):
            return []

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * self.num_envs

    class _Nop(BaseCallback):
        def _on_step(self):
            return True

    torch.distributions.Distribution.set_default_validate_args(False)  # as train_policy does
    upd = None
    for num in (14, 28):
        vec = VecMonitor(_Free(num))
        ns = STEPS_PER_UPDATE // num
        model = PPO(AsymmetricActorCriticPolicy(), vec, n_steps=ns, batch_size=2100,
                    n_epochs=25, device="cpu", verbose=0,
                    policy_kwargs={"net_arch": {"pi": [128] * 3, "vf": [128] * 3},
                                   "activation_fn": torch.nn.Tanh, "actor_dim": 8})
        model._setup_learn(STEPS_PER_UPDATE, None)
        cb = _Nop()
        cb.init_callback(model)
        t = time.process_time()
        model.collect_rollouts(vec, cb, model.rollout_buffer, ns)
        learner = (time.process_time() - t) / ns
        if upd is None:
            t = time.process_time()
            model.train()
            upd = time.process_time() - t
            print(f"PPO update (25 epochs x 4 minibatches of 2,100, 1 thread): {upd:.2f} s CPU")
        coll = ns * (learner + num // 2 * per_batch)
        e2e = STEPS_PER_UPDATE / (coll + upd)
        print(f"{num} envs: learner {learner * 1e3:.2f} ms CPU per vectorised step; model of 2 "
              f"x {num // 2}: collection {coll:.2f} s + update {upd:.2f} s per "
              f"{STEPS_PER_UPDATE} steps -> {e2e:.0f} steps/s end to end ({e2e * pure:.2f}x "
              "of pure stepping)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
