"""Several training environments stepped together, their rewards computed in one call.

A :class:`EnvBatch` holds M training-mode :class:`~real2sim_policy.env.GripperEnv` (one pybullet
client each) and the demonstrations' :class:`~real2sim_policy.reward.DemoReward`. One
:meth:`EnvBatch.step` advances all M worlds and then evaluates the reward of every environment
that did not terminate in a single vectorised :meth:`DemoReward.per_demo` call (rows = envs,
columns = demonstrations), instead of M calls of a few dozen small numpy operations each.

It is the per-process half of :class:`~real2sim_policy.vec_env.BatchVecEnv`: a worker process
holds one batch, so the inter-process traffic is one message per batch and step, not one per
environment. This module imports neither torch nor stable-baselines3 (the workers stay small).

Equivalence: each environment of a batch produces the same observations, rewards and episode
ends as :class:`~real2sim_policy.train.TrainingEnv` under SB3's auto-reset (``DummyVecEnv``)
with the same seed and actions (``tests/policy/test_vec_env.py``): the same env code steps the
physics, and the reward is the same function evaluated on rows of an array.
"""

from __future__ import annotations

import numpy as np

from real2sim_core import frames

from .env import OBS_DIM, PRIVILEGED_DIM, EnvConfig, GripperEnv, SamplerConfig
from .reward import DemoReward, RewardConfig

__all__ = ["EnvBatch", "OBS_CLIP", "batch_worker"]

OBS_CLIP = 10.0
"""Observations handed to the learner are clipped to +-OBS_CLIP (as ``TrainingEnv`` does)."""


class EnvBatch:
    """M training environments of one action with a shared demonstration reward.

    Args:
        action: the action name.
        demos: the demonstrations (:class:`~real2sim_core.trajectory.StateTrajectory`).
        env_config / sampler / reward_config: as for :class:`~real2sim_policy.train.TrainingEnv`
            (``env_config.training`` is forced on).
        privileged: observations are the 8 policy values followed by the 16 privileged ones.
        seeds: one seed per environment; each env is reset with its seed on construction
            (what ``train._make_env_fn`` does for a single env).
        bootstrap_horizon: report the end of the 120 steps as a time-limit truncation (the
            learner then bootstraps the value there); off: as a terminal state
            (``PPOConfig.bootstrap_horizon``).

    Per environment the behaviour is that of ``TrainingEnv``: curriculum changes
    (:meth:`set_curriculum`) apply from the next reset; the reward is 0 on a terminating step.
    """

    def __init__(self, action: str, demos, env_config: EnvConfig, sampler: SamplerConfig,
                 reward_config: RewardConfig, privileged: bool, seeds,
                 bootstrap_horizon: bool = False):
        from .demos import demo_anchors

        self.reward = DemoReward(demos, action, reward_config, env_config.horizon,
                                 env_config.control_hz)
        cfg = EnvConfig(**{**env_config.__dict__, "training": True})
        anchors = demo_anchors(self.reward)
        self.envs: list[GripperEnv] = []
        for _ in seeds:
            env = GripperEnv(action, cfg, sampler)
            if anchors is not None:
                env.set_anchors(anchors)
            self.envs.append(env)
        self.num_envs = len(self.envs)
        self.privileged = privileged
        self.obs_dim = OBS_DIM + (PRIVILEGED_DIM if privileged else 0)
        self.horizon = cfg.horizon
        self.bootstrap_horizon = bool(bootstrap_horizon)
        self._pending: list[dict] = [{} for _ in self.envs]
        self._obs = np.zeros((self.num_envs, self.obs_dim), dtype=np.float32)
        for i, s in enumerate(seeds):
            self._reset_one(i, seed=int(s))

    # -- per environment ----------------------------------------------------------------------

    def _write_obs(self, i: int, raw) -> None:
        env, row = self.envs[i], self._obs[i]
        row[:OBS_DIM] = env._observation(raw)
        if self.privileged:
            row[OBS_DIM:] = env._privileged(raw)

    def _reset_one(self, i: int, seed=None, options=None) -> None:
        opts = {**self._pending[i], **(options or {})}
        self._pending[i] = {}
        env = self.envs[i]
        env.reset(seed=seed, options=opts or None)
        self._write_obs(i, env.read_raw())
        np.clip(self._obs[i], -OBS_CLIP, OBS_CLIP, out=self._obs[i])

    def set_curriculum(self, scale: float, std: float, indices=None) -> None:
        """ADR scale/std for the following resets of the envs ``indices`` (default: all)."""
        for i in range(self.num_envs) if indices is None else indices:
            self._pending[i] = {"sampler_scale": float(scale), "sampler_std": float(std)}

    # -- the batch ----------------------------------------------------------------------------

    def reset(self, seeds=None, options=None) -> np.ndarray:
        """Reset every env (``seeds`` / ``options``: one per env or None); (M, dim) float32."""
        for i in range(self.num_envs):
            self._reset_one(i, None if seeds is None else seeds[i],
                            None if options is None else options[i])
        return self._obs.copy()

    def step(self, actions):
        """Step all envs with ``actions`` (M, 7); envs whose episode ended are reset.

        Returns ``(obs (M, dim) float32, rewards (M,) float32, dones (M,) bool,
        truncated (M,) bool, {env index: terminal observation})``: SB3's VecEnv convention
        (``obs`` of a finished env is the first of its next episode).
        """
        actions = np.asarray(actions)
        n = self.num_envs
        term = np.zeros(n, dtype=bool)
        raws = []
        for i, env in enumerate(self.envs):
            term[i] = env.advance(actions[i])
            raw = env.read_raw()
            raws.append(raw)
            self._write_obs(i, raw)
        np.clip(self._obs, -OBS_CLIP, OBS_CLIP, out=self._obs)
        rewards = np.zeros(n, dtype=np.float32)
        live = np.flatnonzero(~term)
        if len(live):
            rewards[live] = self._rewards(live, raws)
        steps = np.array([env.step_count for env in self.envs])
        at_horizon = (steps >= self.horizon) & ~term
        done = term | at_horizon
        trunc = at_horizon if self.bootstrap_horizon else np.zeros(n, dtype=bool)
        terminal = {}
        for i in np.flatnonzero(done):
            terminal[int(i)] = self._obs[i].copy()
            self._reset_one(int(i))
        return self._obs.copy(), rewards, done, trunc, terminal

    def _rewards(self, idx, raws) -> np.ndarray:
        """Mean/max-over-demonstrations reward of envs ``idx`` (what ``GripperEnv.step`` gets
        from ``DemoReward.__call__``, evaluated for all rows at once)."""
        envs = [self.envs[i] for i in idx]
        rs = [raws[i] for i in idx]
        az, el = frames.hand_angles_from_gripper_quat(np.array([r[1] for r in rs]))
        per = self.reward.per_demo(
            [e.step_count for e in envs], [r[0] for r in rs], az, el, [r[2] for r in rs],
            [[p for p, _ in r[3]] for r in rs], [[q for _, q in r[3]] for r in rs],
            np.array([e.heights for e in envs]), np.array([e.radii for e in envs]))
        return self.reward.reduce(per)

    # -- generic access (VecEnv get_attr / set_attr / env_method) ------------------------------

    def env_method(self, name: str, indices, args, kwargs) -> list:
        if name == "set_curriculum":
            self.set_curriculum(*args, indices=indices, **kwargs)
            return [None] * len(indices)
        return [getattr(self.envs[i], name)(*args, **kwargs) for i in indices]

    def get_attr(self, name: str, indices) -> list:
        return [getattr(self.envs[i], name) for i in indices]

    def set_attr(self, name: str, value, indices) -> None:
        for i in indices:
            setattr(self.envs[i], name, value)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def batch_worker(remote, parent_remote, factory) -> None:
    """Worker process loop: build ``factory()`` (an :class:`EnvBatch`) and serve commands.

    Every answer is ``(True, result)`` or ``(False, exception)``; the parent re-raises the
    exception, so a bad action or a pybullet error reaches the trainer with its message.
    """
    parent_remote.close()
    batch = None
    try:
        batch = factory()
        remote.send((True, (batch.num_envs, batch.obs_dim)))
    except Exception as e:  # noqa: BLE001 - reported to the parent
        remote.send((False, e))
        remote.close()
        return
    while True:
        try:
            cmd, data = remote.recv()
        except (EOFError, KeyboardInterrupt):
            break
        if cmd == "close":
            batch.close()
            remote.close()
            break
        try:
            if cmd == "step":
                out = batch.step(data)
            elif cmd == "reset":
                out = batch.reset(*data)
            elif cmd == "env_method":
                out = batch.env_method(*data)
            elif cmd == "get_attr":
                out = batch.get_attr(*data)
            elif cmd == "set_attr":
                out = batch.set_attr(*data)
            else:
                raise ValueError(f"unknown command {cmd!r}")
            remote.send((True, out))
        except Exception as e:  # noqa: BLE001 - reported to the parent
            remote.send((False, e))
