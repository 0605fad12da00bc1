"""The training environments: :class:`TrainingEnv` (one :class:`~real2sim_policy.env.GripperEnv`
in training mode, with the imitation reward and the critic's privileged inputs) and
:func:`make_training_vec_env` (the batched, multi-process vectorised env the trainer uses;
:mod:`real2sim_policy.env_batch`, :mod:`real2sim_policy.vec_env`).
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
from real2sim_core.trajectory import StateTrajectory

from .demos import demo_anchors
from .env import GripperEnv
from .env_config import EnvConfig, SamplerConfig
from .quiet import quiet_stdout
from .reward import DemoReward, RewardConfig
from .spaces import OBS_DIM, PRIVILEGED_DIM

__all__ = ["TrainingEnv", "make_env_fn", "make_training_vec_env"]


class TrainingEnv(gym.Wrapper):
    """A training-mode :class:`GripperEnv` for SB3.

    * observation: the 8 policy values, followed by the 16 privileged ones when
      ``privileged`` (the critic's inputs; the actor ignores them);
    * action space ``[-5, 5]^7``: SB3 clips sampled actions to the space, and the env applies
      tanh itself (METHOD 5), so the bounds must not cut the pre-tanh Gaussian;
    * :meth:`set_curriculum` changes the ADR scale/std for the following resets;
    * the end of the 120 steps is ``terminated`` (the task ends there and its time is
      observed), unless ``bootstrap_horizon`` makes it a time-limit ``truncated``
      (``PPOConfig.bootstrap_horizon``).
    """

    def __init__(self, action: str, demos: list[StateTrajectory], env_config: EnvConfig,
                 sampler: SamplerConfig, reward_config: RewardConfig, privileged: bool = True,
                 bootstrap_horizon: bool = False):
        reward = DemoReward(demos, action, reward_config, env_config.horizon,
                            env_config.control_hz)
        cfg = EnvConfig(**{**env_config.__dict__, "training": True})
        env = GripperEnv(action, cfg, sampler, reward_fn=reward)
        anchors = demo_anchors(reward)
        if anchors is not None:
            env.set_anchors(anchors)
        super().__init__(env)
        self.privileged = privileged
        self.bootstrap_horizon = bool(bootstrap_horizon)
        dim = OBS_DIM + (PRIVILEGED_DIM if privileged else 0)
        self.observation_space = gym.spaces.Box(-10.0, 10.0, shape=(dim,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-5.0, 5.0, shape=(7,), dtype=np.float32)
        self._pending: dict = {}

    def _obs(self, obs, info):
        if self.privileged:
            obs = np.concatenate([obs, info["privileged"]])
        return np.clip(obs, -10.0, 10.0).astype(np.float32)

    def set_curriculum(self, scale: float, std: float) -> None:
        self._pending = {"sampler_scale": float(scale), "sampler_std": float(std)}

    def reset(self, *, seed=None, options=None):
        opts = {**self._pending, **(options or {})}
        self._pending = {}
        obs, info = self.env.reset(seed=seed, options=opts or None)
        return self._obs(obs, info), info

    def step(self, action):
        obs, r, term, trunc, info = self.env.step(action)
        if trunc and not self.bootstrap_horizon:
            term, trunc = True, False
        return self._obs(obs, info), r, term, trunc, info


def make_env_fn(action, demos, env_config, sampler, reward_config, privileged, seed,
                bootstrap_horizon: bool = False):
    """A factory of one SB3-``Monitor``-wrapped :class:`TrainingEnv` reset with ``seed`` (the
    per-environment reference of :class:`~real2sim_policy.env_batch.EnvBatch`)."""

    def _init():
        from stable_baselines3.common.monitor import Monitor

        with quiet_stdout():  # pybullet prints its build time on import
            env = TrainingEnv(action, demos, env_config, sampler, reward_config, privileged,
                              bootstrap_horizon)
        env.reset(seed=seed)
        return Monitor(env)

    return _init


def make_training_vec_env(action, demos, env_config: EnvConfig, sampler: SamplerConfig,
                          reward_config: RewardConfig, privileged: bool, seed: int,
                          processes: int, envs_per_process: int,
                          bootstrap_horizon: bool = False):
    """The trainer's vectorised environment: ``processes`` batches of ``envs_per_process``
    training environments (:class:`~real2sim_policy.env_batch.EnvBatch`), in worker processes
    when ``processes > 1``, wrapped in SB3's ``VecMonitor`` (episode returns and lengths)."""
    from stable_baselines3.common.vec_env import VecMonitor

    from .env_batch import EnvBatch
    from .vec_env import BatchVecEnv

    factories = [
        functools.partial(EnvBatch, action, demos, env_config, sampler, reward_config,
                          privileged, [seed + 1000 * (b * envs_per_process + j)
                                       for j in range(envs_per_process)],
                          bootstrap_horizon)
        for b in range(processes)
    ]
    return VecMonitor(BatchVecEnv(factories, processes=processes > 1))
