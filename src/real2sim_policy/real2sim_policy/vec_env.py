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

Besides the lockstep ``step`` of the VecEnv API, each batch can be stepped on its own
(:meth:`BatchVecEnv.step_batch_async`, :meth:`BatchVecEnv.ready`,
:meth:`BatchVecEnv.step_batch_wait`): the trainer's per-worker collection
(:func:`real2sim_policy.fast_ppo.collect_rollouts_per_worker`) sends a worker its next actions
as soon as that worker has answered, so neither worker waits for the other or for the learner's
forward pass of the other's environments.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
from collections.abc import Callable, Iterable, Sequence

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
        self._pending: dict[int, object] = {}  # batch -> its step answer (in-process batches)

    @property
    def num_batches(self) -> int:
        """Number of environment batches (worker processes when ``processes``)."""
        return len(self._sizes)

    def batch_slice(self, b: int) -> slice:
        """The VecEnv indices of batch ``b``'s environments."""
        return slice(int(self._offsets[b]), int(self._offsets[b + 1]))

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
        parts = [_vec_result(o) for o in outs]
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]), [i for p in parts for i in p[3]])

    # -- one batch at a time ------------------------------------------------------------------

    def step_batch_async(self, b: int, actions: np.ndarray) -> None:
        """Start a step of batch ``b`` only (``actions``: one row per env of the batch).

        At most one step per batch may be outstanding; collect it with
        :meth:`step_batch_wait` before the next. In-process batches step here.
        """
        if b in self._pending:
            raise RuntimeError(f"BatchVecEnv: batch {b} already has a step outstanding")
        if self.processes:
            self._remotes[b].send(("step", np.asarray(actions)))
            self._pending[b] = None
        else:
            self._pending[b] = self._batches[b].step(np.asarray(actions))

    def ready(self, batches: Iterable[int]) -> list[int]:
        """Of ``batches`` (each with a step outstanding), those whose answer has arrived,
        waiting until there is at least one; in ascending order."""
        batches = sorted(batches)
        if not self.processes:
            return batches
        by_conn = {id(self._remotes[b]): b for b in batches}
        got = mp.connection.wait([self._remotes[b] for b in batches])
        return sorted(by_conn[id(c)] for c in got)

    def step_batch_wait(self, b: int):
        """The answer to batch ``b``'s outstanding step, as :meth:`step_wait` returns it for
        that batch's environments: ``(obs, rewards, dones, infos)``."""
        if b not in self._pending:
            raise RuntimeError(f"BatchVecEnv: batch {b} has no step outstanding")
        out = self._pending.pop(b)
        if self.processes:
            out = self._answer(self._remotes[b])
        return _vec_result(out)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for b in list(self._pending):  # answers still in the pipes: read them first
            if self.processes and self._procs[b].is_alive():
                try:
                    if self._remotes[b].poll(10):
                        self._remotes[b].recv()
                except (EOFError, OSError):
                    pass
        self._pending.clear()
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


def _vec_result(out):
    """One batch's ``EnvBatch.step`` answer in SB3's VecEnv form: ``(obs, rewards, dones,
    infos)`` with ``TimeLimit.truncated`` and ``terminal_observation`` in the infos."""
    obs, rews, dones, trunc, terminal = out
    infos = [{"TimeLimit.truncated": bool(t)} for t in trunc]
    for i, term_obs in terminal.items():
        infos[i]["terminal_observation"] = term_obs
    return obs, rews, dones, infos
