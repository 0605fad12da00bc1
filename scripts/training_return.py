#!/usr/bin/env python
"""The video reward that policies earn on the training distribution: is PPO improving its
own objective?

    .venv/bin/python scripts/training_return.py --action push_left_to_right \
        models/push_left_to_right/warm/policy.zip models/push_left_to_right/policy.zip

Runs each policy (deterministic) for ``--episodes`` episodes of the trainer's environment
(:class:`~real2sim_policy.training_env.TrainingEnv`: training mode, where an episode ends early
when the hand touches the table or presses an object down) drawn by the ADR sampler at full
orientation randomisation and each hand-position spread of ``--std`` (METHOD section 7; 0.005 m
is the spread of updates 0-500, 0.25 m the end of the curriculum), with the reward of
``models/demos/<action>/`` (mean over demonstrations, METHOD section 6), and prints the mean
return (0..1), the share of episodes ended early, the mean length and what the policy's critic
predicts at the first and at the last observation (mean; a value far from the returns, which
are below 1, is a critic that has diverged). Episode ``i`` of every
policy starts from the same state (seed ``--seed + i``), so the policies are compared on
identical starts. A checkpoint zip needs ``<name>.json`` = ``{"action": ...}`` beside it.
Each policy runs in the world it was trained in (its recorded ``env.max_finger_opening``);
``--retreat`` is the sampler's ``retreat`` (give its training row's value: 0.2 for a policy
trained with the Panda's finger opening, whose fingers cannot straddle the object).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def episode_returns(action: str, policy_path: Path, demos_dir: Path, std: float,
                    episodes: int, seed: int, retreat: float = 0.0,
                    ) -> tuple[float, float, float, float, float]:
    """(mean return, share ended early, mean length, mean critic value at the first and at
    the last observation) of one policy at one spread."""
    import torch
    from real2sim_policy.demos import load_demos
    from real2sim_policy.env import EnvConfig, SamplerConfig
    from real2sim_policy.policies import env_config_for_policy, load_sb3_policy
    from real2sim_policy.reward import RewardConfig
    from real2sim_policy.spaces import OBS_DIM
    from real2sim_policy.training_env import TrainingEnv

    demos = load_demos([demos_dir], action)
    model = load_sb3_policy(policy_path, action).model
    # the trainer's env: training mode, the demonstrations' reward and anchors, and the
    # critic's privileged inputs when the policy has them
    env = TrainingEnv(action, demos, env_config_for_policy(policy_path, EnvConfig()),
                      SamplerConfig(scale=1.0, std=std, retreat=retreat), RewardConfig(),
                      privileged=model.observation_space.shape[0] > OBS_DIM)
    horizon = env.unwrapped.config.horizon

    def value(obs) -> float:
        with torch.no_grad():
            return float(model.policy.predict_values(model.policy.obs_to_tensor(obs)[0]).item())

    returns, ended, lengths, v_first, v_last = [], [], [], [], []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            v_first.append(value(obs))
            total, done = 0.0, False
            while not done:
                action_, _ = model.predict(obs, deterministic=True)
                obs, r, terminated, truncated, _ = env.step(action_)
                total += float(r)
                done = terminated or truncated
            steps = env.unwrapped.step_count
            returns.append(total)
            ended.append(steps < horizon)
            lengths.append(steps)
            v_last.append(value(obs))
    finally:
        env.close()
    return tuple(float(np.mean(x)) for x in (returns, ended, lengths, v_first, v_last))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("policies", nargs="+", type=Path, help="policy .zip files")
    p.add_argument("--action", required=True)
    p.add_argument("--demos", type=Path, default=None,
                   help="demonstration folder (default: models/demos/<action>)")
    p.add_argument("--std", type=float, nargs="+", default=[0.005, 0.25],
                   help="hand-position spreads of the sampler, m (default: 0.005 0.25)")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--retreat", type=float, default=0.0,
                   help="sampler.retreat, m (default 0: METHOD)")
    args = p.parse_args(argv)
    from real2sim_core.errors import Real2SimError

    demos = args.demos or REPO / "models" / "demos" / args.action
    if args.episodes < 1:
        p.error("--episodes must be at least 1")
    print("| policy | hand spread (m) | mean return | ended early | mean length | "
          "critic at start | critic at end |")
    print("|---|---|---|---|---|---|---|")
    try:
        for std in args.std:
            for path in args.policies:
                ret, early, length, v0, v1 = episode_returns(args.action, path, demos, std,
                                                             args.episodes, args.seed,
                                                             args.retreat)
                print(f"| {path} | {std:g} | {ret:.3f} | {100 * early:.0f} % | {length:.0f} | "
                      f"{v0:.3f} | {v1:.3f} |", flush=True)
    except Real2SimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
