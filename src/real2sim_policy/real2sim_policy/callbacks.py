"""The training run's hooks as stable-baselines3 callbacks, composed with ``CallbackList``.

:func:`training_callbacks` builds, for one :class:`TrainingRun`, in the order they act at the
end of every rollout (= one PPO update):

1. :class:`CurriculumCallback`: counts the update, sets the ADR scale/std of the following
   resets (``curriculum/*`` TensorBoard scalars) and starts the update's history record;
2. :class:`ValidationCallback`: every ``validation_every`` updates and at the end, the success
   rate of the deterministic policy on a fixed validation set (``validation/success``);
3. :class:`HistoryCallback`: appends the record to the history and calls the caller's
   ``on_update(record)``; ``False`` from it stops training after this update;
4. :class:`CheckpointCallback`: every ``checkpoint_every`` updates, a resumable checkpoint;
5. :class:`ProgressCallback` (optional): a tqdm bar with the curriculum and the validation.

They run inside :class:`TimedCallbackList`, which splits the wall time into rollout collection
(``TrainingRun.t_sim``) and PPO update (``t_train``) and gives the update ``update_threads``
torch threads.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from .env_config import EnvConfig, SamplerConfig, StartState
from .policies import SB3Policy
from .quiet import quiet_env
from .rollout import run_rollout
from .train_config import TrainConfig, curriculum_at

__all__ = ["CheckpointCallback", "CurriculumCallback", "HistoryCallback", "ProgressCallback",
           "TimedCallbackList", "TrainingRun", "ValidationCallback", "training_callbacks",
           "validation_starts", "validation_success"]


class TrainingRun:
    """State of one training run shared by its callbacks.

    Attributes:
        update: PPO updates done. history: one record per update (``update``, ``timesteps``,
            ``scale``, ``std``, ``ep_reward``, ``elapsed_s`` and, when validated,
            ``val_success``). record: the current update's record. stopped: the caller asked
            to stop. t_sim / t_train: seconds spent collecting rollouts / in PPO updates.
    """

    def __init__(self, action: str, cfg: TrainConfig, signature: dict):
        self.action = action
        self.cfg = cfg
        self.signature = signature
        self.update = 0
        self.history: list[dict] = []
        self.record: dict = {}
        self.stopped = False
        self.t_start = time.perf_counter()
        self.t_sim = 0.0
        self.t_train = 0.0
        self._t_mark: tuple[str, float] | None = None

    @property
    def last(self) -> bool:
        """Whether the current update is the run's last."""
        return self.update >= self.cfg.updates

    def curriculum(self, update: int) -> tuple[float, float]:
        """ADR (orientation scale, hand-position std in m) after ``update``."""
        return curriculum_at(update, self.cfg.updates, self.cfg.curriculum)

    def final_validation(self) -> float | None:
        """The last validation success rate, None when the run never validated."""
        return next((h["val_success"] for h in reversed(self.history) if "val_success" in h),
                    None)

    def timing_mark(self, phase: str | None) -> None:
        """Start ``phase`` (``collect``, ``callback``, ``update`` or None = stop): the time
        since the previous mark is added to collection (``t_sim``) or update (``t_train``);
        the update phase runs with ``update_threads`` torch threads."""
        import torch

        now = time.perf_counter()
        if self._t_mark is not None:
            prev, t0 = self._t_mark
            if prev == "collect":
                self.t_sim += now - t0
            elif prev == "update":
                self.t_train += now - t0
        self._t_mark = None if phase is None else (phase, now)
        threads = self.cfg.torch_threads
        if phase == "update" and self.cfg.update_threads:
            threads = self.cfg.update_threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


# -- validation -----------------------------------------------------------------------------


def validation_starts(action: str, n: int, seed: int, env_config: EnvConfig,
                      sampler: SamplerConfig, anchors) -> list[StartState]:
    """A fixed validation set drawn at full randomisation (not the benchmark rows)."""
    cfg = SamplerConfig(**{**sampler.__dict__, "scale": 1.0, "std": 0.1})
    env = quiet_env(action, env_config)
    env.sampler = cfg
    if anchors is not None:
        env.set_anchors(anchors)
    starts = []
    for i in range(n):  # reset() resamples until the start is collision-free
        env.reset(seed=seed if i == 0 else None)
        starts.append(env.start_state)
    env.close()
    return starts


def validation_success(model, env, starts: list[StartState], action: str, seed: int) -> float:
    """Success rate of ``model`` (deterministic) from ``starts`` in ``env`` (start ``i`` reset
    with ``seed + i``); NaN without starts."""
    if not starts:
        return float("nan")
    policy = SB3Policy(model, action=action)
    wins = 0
    for i, s in enumerate(starts):
        ro = run_rollout(env, policy, s, seed=seed + i)
        wins += int(ro.evaluate().success)
    return wins / len(starts)


# -- callbacks ------------------------------------------------------------------------------


class TimedCallbackList(CallbackList):
    """``CallbackList`` that times rollout collection and PPO updates (see the module
    docstring)."""

    def __init__(self, callbacks: list[BaseCallback], run: TrainingRun):
        super().__init__(callbacks)
        self.run = run

    def _on_rollout_start(self) -> None:
        self.run.timing_mark("collect")
        super()._on_rollout_start()

    def _on_rollout_end(self) -> None:
        self.run.timing_mark("callback")
        super()._on_rollout_end()
        self.run.timing_mark("update")

    def _on_training_end(self) -> None:
        super()._on_training_end()
        self.run.timing_mark(None)


class _RunCallback(BaseCallback):
    """A callback acting once per update (rollout end) on a :class:`TrainingRun`."""

    def __init__(self, run: TrainingRun):
        super().__init__()
        self.run = run

    def _on_step(self) -> bool:
        return True


class CurriculumCallback(_RunCallback):
    """Counts the update, applies the ADR curriculum, starts the update's record."""

    def _on_rollout_end(self) -> None:
        run, model = self.run, self.model
        run.update += 1
        scale, std = run.curriculum(run.update)
        self.training_env.env_method("set_curriculum", scale, std)
        self.logger.record("curriculum/scale", scale)
        self.logger.record("curriculum/std", std)
        ep = [e["r"] for e in model.ep_info_buffer] if model.ep_info_buffer else []
        run.record = {"update": run.update, "timesteps": int(model.num_timesteps),
                      "scale": scale, "std": std,
                      "ep_reward": float(np.mean(ep)) if ep else float("nan"),
                      "elapsed_s": time.perf_counter() - run.t_start}


class ValidationCallback(_RunCallback):
    """Validation success every ``validation_every`` updates and after the last one."""

    def __init__(self, run: TrainingRun, env, starts: list[StartState]):
        super().__init__(run)
        self.env = env
        self.starts = starts

    def _on_rollout_end(self) -> None:
        cfg = self.run.cfg
        if cfg.validation_starts and (self.run.last or (
                cfg.validation_every and self.run.update % cfg.validation_every == 0)):
            val = validation_success(self.model, self.env, self.starts, self.run.action,
                                     cfg.seed)
            self.run.record["val_success"] = val
            self.logger.record("validation/success", val)


class HistoryCallback(_RunCallback):
    """Keeps the record and calls ``on_update(record)``; ``False`` from it ends training
    after this update (the policy so far is still saved)."""

    def __init__(self, run: TrainingRun, on_update=None):
        super().__init__(run)
        self.on_update = on_update

    def _on_step(self) -> bool:
        return not self.run.stopped  # False ends model.learn() (SB3 BaseCallback)

    def _on_rollout_end(self) -> None:
        run = self.run
        run.history.append(run.record)
        if self.on_update is not None and self.on_update(dict(run.record)) is False \
                and not run.last:
            run.stopped = True  # _on_step ends learn() at the next step


class CheckpointCallback(_RunCallback):
    """``out_dir/checkpoints/update_<n>.zip`` + ``state.json`` every ``checkpoint_every``
    updates (the final policy is saved by the trainer)."""

    def __init__(self, run: TrainingRun, out_dir: Path):
        super().__init__(run)
        self.out = Path(out_dir)

    def _on_rollout_end(self) -> None:
        every = self.run.cfg.checkpoint_every
        if every and self.run.update % every == 0 and not self.run.last:
            self.save(self.model)

    def save(self, model) -> None:
        """Write the checkpoint of the current update."""
        run = self.run
        ck = self.out / "checkpoints"
        ck.mkdir(parents=True, exist_ok=True)
        path = ck / f"update_{run.update:05d}.zip"
        model.save(str(path))
        state = {"update": run.update, "checkpoint": path.name, "history": run.history,
                 "elapsed_s": time.perf_counter() - run.t_start, "run": run.signature}
        tmp = ck / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, ck / "state.json")


class ProgressCallback(_RunCallback):
    """A tqdm bar over the run's updates (on stderr)."""

    def __init__(self, run: TrainingRun):
        super().__init__(run)
        self.bar = None

    def _on_training_start(self) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.run.cfg.updates, initial=self.run.update, unit="update",
                        desc=f"train {self.run.action}", dynamic_ncols=True, file=sys.stderr)

    def _on_rollout_end(self) -> None:
        rec = self.run.record
        scale, std = rec["scale"], rec["std"]
        vals = [h["val_success"] for h in self.run.history if "val_success" in h]
        self.bar.set_postfix_str(
            f"scale {scale:.2f} std {100 * std:.1f}cm reward {rec['ep_reward']:.3f} "
            f"val {100 * vals[-1]:.0f}%" if vals else
            f"scale {scale:.2f} std {100 * std:.1f}cm reward {rec['ep_reward']:.3f}")
        self.bar.update(1)

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def training_callbacks(run: TrainingRun, out_dir: Path, val_env, val_starts, *,
                       on_update=None, progress: bool = True) -> TimedCallbackList:
    """The run's callbacks in their order (see the module docstring)."""
    callbacks = [CurriculumCallback(run), ValidationCallback(run, val_env, val_starts),
                 HistoryCallback(run, on_update), CheckpointCallback(run, out_dir)]
    if progress:
        callbacks.append(ProgressCallback(run))
    return TimedCallbackList(callbacks, run)
