"""Settings of a training run (METHOD 7), a light module (no pybullet, no torch): the CLI
builds its choices from it.

* :class:`TrainConfig`: updates, environments, seed, initialisation (:data:`INIT_CHOICES`),
  validation and checkpoint cadence, torch threads, plus
* :class:`PPOConfig` (PPO hyper-parameters and the network size),
* :class:`CurriculumConfig` and :func:`curriculum_at` (the ADR schedule, stretched to the run's
  number of updates),
* :class:`~real2sim_policy.warmstart.WarmStartConfig` (the ``track`` initialisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from real2sim_core.config import ConfigError, check_choice, check_range

from .warmstart import WarmStartConfig

__all__ = ["COLLECTION_CHOICES", "INIT_CHOICES", "CurriculumConfig", "PPOConfig", "TrainConfig",
           "curriculum_at"]

INIT_CHOICES = ("none", "track")
COLLECTION_CHOICES = ("per_worker", "lockstep")


@dataclass
class CurriculumConfig:
    """ADR schedule (METHOD section 7), in updates of a ``reference_updates``-update run."""

    scale_start: float = 0.01
    scale_step: float = 0.004
    scale_max: float = 1.0
    std_start: float = 0.005
    std_step: float = 0.0005
    std_delay: int = 500
    std_max: float = 0.25
    reference_updates: int = 1000

    def __post_init__(self):
        check_range(self, "scale_start", 0.0, 1.0)
        check_range(self, "scale_step", 0.0, 1.0)
        check_range(self, "scale_max", self.scale_start, 1.0)
        check_range(self, "std_start", 0.0, 1.0)
        check_range(self, "std_step", 0.0, 1.0)
        check_range(self, "std_delay", 0)
        check_range(self, "std_max", self.std_start, 1.0)
        check_range(self, "reference_updates", 1)


@dataclass
class PPOConfig:
    """PPO hyper-parameters (METHOD section 7 defaults).

    Attributes:
        episodes_per_update: rollout size in episodes of ``horizon`` steps (70 x 120).
        epochs: passes over each rollout. minibatches: minibatches per pass.
        learning_rate: initial step size (decays linearly to 0). clip_range: PPO clip.
        max_grad_norm: gradient-norm clip. gae_lambda / gamma: advantage estimation.
        hidden: hidden layer sizes of both networks. log_std_init: initial log-std.
        ent_coef / vf_coef: entropy bonus and value-loss weights.
        privileged_critic: the critic sees the objects' state (24 inputs) as in the paper.
        bootstrap_horizon: add gamma x V(last observation) to the reward of the 120th step, as
            SB3 does for a time-limit truncation. Off (default): the 10 s episode is the whole
            task and its time is observed (METHOD 5), so the horizon is a terminal state with
            nothing after it. With it on, the critic is fed its own estimate every update and,
            at gamma 1, diverges (push left to right, the paper's schedule: V = 9.7 at update
            225, 21.8 at 1000, against returns below 1; results/NOTES.md).
    """

    episodes_per_update: int = 70
    epochs: int = 25
    minibatches: int = 4
    learning_rate: float = 3e-4
    clip_range: float = 0.2
    max_grad_norm: float = 100.0
    gae_lambda: float = 0.95
    gamma: float = 1.0
    hidden: list[int] = field(default_factory=lambda: [128, 128, 128])
    log_std_init: float = math.log(0.2)
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    privileged_critic: bool = True
    bootstrap_horizon: bool = False

    def __post_init__(self):
        check_range(self, "episodes_per_update", 1, 100000)
        check_range(self, "epochs", 1, 1000)
        check_range(self, "minibatches", 1, 10000)
        check_range(self, "learning_rate", 0.0, 1.0, lo_open=True)
        check_range(self, "clip_range", 0.0, 10.0, lo_open=True)
        check_range(self, "max_grad_norm", 0.0, lo_open=True)
        check_range(self, "gae_lambda", 0.0, 1.0)
        check_range(self, "gamma", 0.0, 1.0)
        check_range(self, "log_std_init", -20.0, 5.0)
        check_range(self, "ent_coef", 0.0)
        check_range(self, "vf_coef", 0.0)
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"PPOConfig.hidden = {self.hidden!r} must be a non-empty list of "
                              "positive layer sizes")


@dataclass
class TrainConfig:
    """Everything ``real2sim train`` needs besides the demonstrations.

    Attributes:
        updates: PPO updates (METHOD: 1000); 0 with ``init: track`` saves the warm-started
            policy alone (the "warm start only" comparison). envs: environment worker processes
            (1 = the environments run in the learner's process).
        envs_per_process: environments per worker process (each its own pybullet world);
            ``envs * envs_per_process`` environments in all, environment ``i`` seeded with
            ``seed + 1000 i``. 2 x 7 = 14 splits the 70 episodes of an update into 5 each.
        seed: seed of the networks, samplers and friction draws.
        init: ``none`` (random network, METHOD) or ``track`` (demonstration-tracking warm start,
            :mod:`real2sim_policy.warmstart`).
        validation_starts: size of the fixed validation set (drawn at full randomisation).
        validation_every: run the validation every N updates (0 = only at the end).
        checkpoint_every: save a resumable checkpoint every N updates (0 = only at the end).
        torch_threads: torch threads of the learner process while it collects rollouts.
        update_threads: torch threads for the PPO update (0 = ``torch_threads``); the
            environment workers wait during the update, so their cores are free.
        collection: how rollouts are collected (:data:`COLLECTION_CHOICES`): ``per_worker``
            steps each worker process as soon as it has answered, with its own noise generator
            (:func:`real2sim_policy.fast_ppo.collect_rollouts_per_worker`); ``lockstep`` steps
            all workers together, SB3's loop with its numbers bit for bit. The same algorithm
            either way (other random draws), so a run may be resumed with the other one.
        mirror_demos: also learn from every demonstration reflected in x = 0 (a horizontally
            flipped video, :meth:`~real2sim_core.trajectory.StateTrajectory.mirrored_x`), for
            actions whose label says nothing of left or right (``ActionSpec.x_mirror``; a
            push or pull is refused). The two-object starts are drawn around the
            demonstrations' first object positions, so demonstrations that all begin on one
            side leave the other side's starts to the last updates of the curriculum (off:
            METHOD; results/NOTES.md).
    """

    updates: int = 1000
    envs: int = 2
    envs_per_process: int = 7
    seed: int = 0
    init: str = "none"
    validation_starts: int = 20
    validation_every: int = 10
    checkpoint_every: int = 25
    torch_threads: int = 1
    update_threads: int = 0
    collection: str = "per_worker"
    mirror_demos: bool = False
    ppo: PPOConfig = field(default_factory=PPOConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)

    def __post_init__(self):
        check_range(self, "updates", 0, 10**7)
        check_range(self, "envs", 1, 256)
        check_range(self, "envs_per_process", 1, 4096)
        check_choice(self, "init", INIT_CHOICES)
        if self.updates == 0 and self.init == "none":
            raise ConfigError("TrainConfig.updates = 0 trains nothing with init 'none'; 0 "
                              "updates is the warm start alone (init 'track')")
        check_range(self, "validation_starts", 0, 100000)
        check_range(self, "validation_every", 0)
        check_range(self, "checkpoint_every", 0)
        check_range(self, "torch_threads", 1, 256)
        check_range(self, "update_threads", 0, 256)
        check_choice(self, "collection", COLLECTION_CHOICES)

    @property
    def num_envs(self) -> int:
        """Environments in all (``envs * envs_per_process``)."""
        return self.envs * self.envs_per_process


def curriculum_at(update: int, total_updates: int, cfg: CurriculumConfig) -> tuple[float, float]:
    """ADR (orientation scale, hand-position std in m) after ``update`` of ``total_updates``."""
    u = update * cfg.reference_updates / max(total_updates, 1)
    scale = min(cfg.scale_max, cfg.scale_start + cfg.scale_step * u)
    std = min(cfg.std_max, cfg.std_start + cfg.std_step * max(0.0, u - cfg.std_delay))
    return float(scale), float(std)

