"""A stable-baselines3 ``VecEnv`` over batches of environments, in worker processes or not.

SB3's ``SubprocVecEnv`` gives every environment its own process: each control step of each
environment costs a pipe round trip, and the policy runs on a batch as small as the number of
processes. :class:`BatchVecEnv` gives each worker process an
:class:`~real2sim_policy.env_batch.EnvBatch` of several environments (one pybullet client each,
rewards vectorised across them): one round trip per worker and step, and the learner's policy
forward runs on all environments at once. With ``processes=False`` the batches are stepped in
the calling process (one core; tests, small machines).

Auto-reset, ``terminal_observation`` and ``TimeLimit.truncated`` follow SB3's VecEnv
convention; wrap it in ``VecMonitor`` for the episode statistics (``Monitor`` per env in the
per-process path).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from real2sim_core.errors import InputError
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from .env_batch import OBS_CLIP, EnvBatch, batch_worker

__all__ = ["BatchVecEnv"]


class BatchVecEnv(VecEnv):
    """Batches of training environments as one SB3 vectorised environment.

    Args:
        factories: one picklable zero-argument callable per batch, returning an
            :class:`EnvBatch` (``functools.partial(EnvBatch, ...)``); environment ``k`` of the
            VecEnv is environment ``k - offset`` of its batch, in factory order.
        processes: run each batch in its own worker process (``spawn``); else in this process.
    """

    def __init__(self, factories: Sequence[Callable[[], EnvBatch]], processes: bool = True):
        if not factories:
            raise InputError("BatchVecEnv: no environment batches given")
        self.processes = processes
        self.closed = False
        self._remotes: list = []
        self._procs: list = []
        self._batches: list[EnvBatch] = []
        sizes, dims = [], set()
        if processes:
            ctx = mp.get_context("spawn")
            for f in factories:
                remote, work_remote = ctx.Pipe()
                proc = ctx.Process(target=batch_worker, args=(work_remote, remote, f),
                                   daemon=True)
                proc.start()
                work_remote.close()
                self._remotes.append(remote)
                self._procs.append(proc)
            for remote in self._remotes:
                n, dim = self._answer(remote)
                sizes.append(n)
                dims.add(dim)
        else:
            for f in factories:
                b = f()
                self._batches.append(b)
                sizes.append(b.num_envs)
                dims.add(b.obs_dim)
        if len(dims) != 1:
            self.close()
            raise InputError(f"BatchVecEnv: the batches disagree on the observation size {dims}")
        self._sizes = sizes
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        obs_space = gym.spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(dims.pop(),), dtype=np.float32)
        act_space = gym.spaces.Box(-5.0, 5.0, shape=(7,), dtype=np.float32)
        super().__init__(int(sum(sizes)), obs_space, act_space)
        self._actions = None

    # -- plumbing -----------------------------------------------------------------------------

    def _answer(self, remote):
        try:
            ok, out = remote.recv()
        except EOFError:
            raise RuntimeError("an environment worker process died (see its error above)") \
                from None
        if not ok:
            raise out
        return out

    def _call(self, cmd: str, per_batch: list):
        """Send ``(cmd, per_batch[b])`` to every batch; return the answers in batch order."""
        if self.processes:
            for remote, data in zip(self._remotes, per_batch, strict=True):
                remote.send((cmd, data))
            return [self._answer(r) for r in self._remotes]
        out = []
        for b, data in zip(self._batches, per_batch, strict=True):
            if cmd == "step":
                out.append(b.step(data))
            elif cmd == "reset":
                out.append(b.reset(*data))
            else:
                out.append(getattr(b, cmd)(*data))
        return out

    def _split(self, values) -> list:
        return [values[a:b] for a, b in zip(self._offsets[:-1], self._offsets[1:])]

    def _by_batch(self, indices) -> list[list[int]]:
        """Global env indices -> per batch lists of local indices."""
        local: list[list[int]] = [[] for _ in self._sizes]
        for k in self._get_indices(indices):
            b = int(np.searchsorted(self._offsets, k, side="right") - 1)
            local[b].append(int(k - self._offsets[b]))
        return local

    # -- VecEnv API ---------------------------------------------------------------------------

    def reset(self):
        seeds = self._split(list(self._seeds))
        opts = self._split(list(self._options))
        obs = self._call("reset", [(s, o) for s, o in zip(seeds, opts, strict=True)])
        self._reset_seeds()
        self._reset_options()
        return np.concatenate(obs)

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        if self.processes:
            for remote, a in zip(self._remotes, self._split(actions), strict=True):
                remote.send(("step", a))
        else:
            self._actions = actions

    def step_wait(self):
        if self.processes:
            outs = [self._answer(r) for r in self._remotes]
        else:
            outs = [b.step(a) for b, a in zip(self._batches, self._split(self._actions),
                                             strict=True)]
        obs = np.concatenate([o[0] for o in outs])
        rews = np.concatenate([o[1] for o in outs])
        dones = np.concatenate([o[2] for o in outs])
        infos = [{"TimeLimit.truncated": bool(t)} for o in outs for t in o[3]]
        for off, o in zip(self._offsets, outs):
            for i, term_obs in o[4].items():
                infos[off + i]["terminal_observation"] = term_obs
        return obs, rews, dones, infos

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for remote in self._remotes:
            try:
                remote.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        for remote in self._remotes:
            remote.close()
        for b in self._batches:
            b.close()

    def get_attr(self, attr_name: str, indices=None) -> list:
        local = self._by_batch(indices)
        out = self._call("get_attr", [(attr_name, ix) for ix in local])
        return [x for part in out for x in part]

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        self._call("set_attr", [(attr_name, value, ix) for ix in self._by_batch(indices)])

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        local = self._by_batch(indices)
        out = self._call("env_method",
                         [(method_name, ix, method_args, method_kwargs) for ix in local])
        return [x for part in out for x in part]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def __del__(self):  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
