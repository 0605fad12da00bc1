"""Policy learning from demonstrations: stable-baselines3 PPO + the ADR curriculum (METHOD 7).

``train_policy(action, demos, out_dir, config)`` trains one policy on the imitation reward of
one or many demonstrations (:class:`~real2sim_policy.reward.DemoReward`, mean = proposed,
max = DeepMimic baseline, single) and writes into ``out_dir``:

* ``policy.zip``: the SB3 PPO model (``real2sim benchmark --policy out_dir/policy.zip``), and
  ``policy.json``: action, command line, git commit of the code, demonstrations, settings,
  curriculum state, timing;
* ``checkpoints/update_<n>.zip`` + ``checkpoints/state.json`` (resume with ``resume=True``; the
  state records the run's settings and demonstrations, and a resume with other ones is refused
  with the differences, see :func:`run_signature`);
* ``tb/``: TensorBoard logs (SB3's losses plus ``curriculum/*`` and ``validation/*``);
* ``training.png``: validation success, episode reward and the curriculum over updates.

Network (METHOD 7): Gaussian policy, 3 x 128 tanh hidden layers, state-independent log-std
initialised to log(0.2). The **actor sees only the 8 observation values** (time, hand
position, hand rotation vector, opening); the **critic also sees the objects** (16 privileged
values): :class:`AsymmetricActorCriticPolicy` splits one 24-value observation.

Curriculum (ADR, METHOD 7): orientation scale 0.01 + 0.004 / update up to 1; hand-position std
0.005 m + 0.0005 m / update after update 500, up to 0.25 m. The schedule is defined for
``reference_updates`` (1000, the paper's run) and stretched to the configured number of updates,
so that a shorter run still ends at the full randomisation.

Environments run in batches (:class:`~real2sim_policy.vec_env.BatchVecEnv`): ``envs`` worker
processes (``spawn``; in the learner's process when ``envs == 1``) of ``envs_per_process``
environments each, their rewards evaluated together; one pipe round trip per worker and control
step, and the policy forward on all environments at once. Per environment the episodes are
those of :class:`TrainingEnv` (tested). Speed: ``benchmarks/train_speed.py``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import ConfigError, check_choice, check_range
from real2sim_core.errors import InputError
from real2sim_core.provenance import git_revision
from real2sim_core.textio import read_text
from real2sim_core.trajectory import StateTrajectory

from . import fast_ppo
from .env import OBS_DIM, PRIVILEGED_DIM, EnvConfig, GripperEnv, SamplerConfig, StartState
from .policies import stamp_policy_zip
from .reward import DemoReward, RewardConfig
from .warmstart import WarmStartConfig

__all__ = [
    "CurriculumConfig",
    "PPOConfig",
    "TrainConfig",
    "TrainResult",
    "TrainingEnv",
    "AsymmetricActorCriticPolicy",
    "load_demos",
    "curriculum_at",
    "train_policy",
    "INIT_CHOICES",
]

INIT_CHOICES = ("none", "track")


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
            from real2sim_core.config import ConfigError

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

    @property
    def num_envs(self) -> int:
        """Environments in all (``envs * envs_per_process``)."""
        return self.envs * self.envs_per_process


@dataclass
class TrainResult:
    """What :func:`train_policy` produced."""

    policy_path: Path
    info: dict


def curriculum_at(update: int, total_updates: int, cfg: CurriculumConfig) -> tuple[float, float]:
    """ADR (orientation scale, hand-position std in m) after ``update`` of ``total_updates``."""
    u = update * cfg.reference_updates / max(total_updates, 1)
    scale = min(cfg.scale_max, cfg.scale_start + cfg.scale_step * u)
    std = min(cfg.std_max, cfg.std_start + cfg.std_step * max(0.0, u - cfg.std_delay))
    return float(scale), float(std)


# -- demonstrations -------------------------------------------------------------------------------


def _demo_files(paths) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(x for x in p.rglob("*.csv") if x.is_file())
            if not found:
                raise InputError(f"{p}: no *.csv state trajectories in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder (pass state CSVs written by "
                             "`real2sim estimate`, or folders of them)")
    return files


def load_demos(paths, action) -> list[StateTrajectory]:
    """Read the action-phase demonstrations of ``action`` (CSV files or folders of them).

    A demonstration is an estimated trajectory cut to its predicted action phase, in the aligned
    frame (METHOD section 4): the ``states_aligned.csv`` of ``real2sim estimate``, whose
    ``# phase: START:STOP`` line says which video frames it holds (``make demos`` copies them
    into ``models/demos/<action>/``). Everything is checked before training starts.

    Raises:
        InputError: naming the file, for no files, an unreadable file, a trajectory of another
            action or with the wrong number of objects, a trajectory without a detectable action
            phase (a whole video: no ``# phase:`` line), one not in the aligned frame, or fewer
            than 2 action-phase frames.
    """
    spec = get_action(action)
    files = _demo_files(paths)
    if not files:
        raise InputError("no demonstrations given: pass --states FILE_OR_DIR ...")
    demos = []
    for f in files:
        d = StateTrajectory.from_csv(f)
        if d.num_objects != spec.num_objects:
            raise InputError(
                f"{f}: has {d.num_objects} object(s) but {spec.name} is a "
                f"{spec.num_objects}-object action; pass trajectories of {spec.name}")
        if d.action and get_action(d.action).name != spec.name:
            raise InputError(f"{f}: is a demonstration of {get_action(d.action).name!r}, "
                             f"not of {spec.name!r}; pass demonstrations of {spec.name} only")
        if d.phase is None:
            raise InputError(
                f"{f}: no detectable action phase: the file has no '# phase: START:STOP' line "
                "(a whole-video states.csv, or the estimator found no frame where the hand "
                "touches or the object moves); pass the states_aligned.csv that `real2sim "
                "estimate` writes (`make demos`), or leave this video out")
        if not d.aligned:
            raise InputError(f"{f}: is not in the aligned frame ('# aligned: false'); pass "
                             "the states_aligned.csv that `real2sim estimate` writes")
        if d.num_frames < 2:
            raise InputError(f"{f}: has {d.num_frames} action-phase frame(s) (phase "
                             f"{d.phase[0]}:{d.phase[1]}); a demonstration needs at least 2")
        demos.append(d)
    return demos


def demo_anchors(reward: DemoReward) -> np.ndarray | None:
    """Fingertip offsets for two-object resets: the demos' first object-1 positions (m)."""
    if reward.obj_pos.shape[2] < 2:
        return None
    first = reward.obj_pos[0, :, 1].copy()  # (D, 3), z at the object's bottom
    first[:, 2] = np.maximum(first[:, 2], 0.0) + 0.01
    return first


# -- environment --------------------------------------------------------------------------------


class TrainingEnv(gym.Wrapper):
    """A training-mode :class:`GripperEnv` for SB3.

    * observation: the 8 policy values, followed by the 16 privileged ones when
      ``privileged`` (the critic's inputs; the actor ignores them);
    * action space ``[-5, 5]^7``: SB3 clips sampled actions to the space, and the env applies
      tanh itself (METHOD 5), so the bounds must not cut the pre-tanh Gaussian;
    * :meth:`set_curriculum` changes the ADR scale/std for the following resets.
    """

    def __init__(self, action: str, demos: list[StateTrajectory], env_config: EnvConfig,
                 sampler: SamplerConfig, reward_config: RewardConfig, privileged: bool = True):
        reward = DemoReward(demos, action, reward_config, env_config.horizon,
                            env_config.control_hz)
        cfg = EnvConfig(**{**env_config.__dict__, "training": True})
        env = GripperEnv(action, cfg, sampler, reward_fn=reward)
        anchors = demo_anchors(reward)
        if anchors is not None:
            env.set_anchors(anchors)
        super().__init__(env)
        self.privileged = privileged
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
        return self._obs(obs, info), r, term, trunc, info


def _make_env_fn(action, demos, env_config, sampler, reward_config, privileged, seed):
    def _init():
        from stable_baselines3.common.monitor import Monitor

        from .benchmark import _quiet_stdout, _restore_stdout

        token = _quiet_stdout()  # pybullet prints its build time on import
        try:
            env = TrainingEnv(action, demos, env_config, sampler, reward_config, privileged)
        finally:
            _restore_stdout(token)
        env.reset(seed=seed)
        return Monitor(env)

    return _init


def make_training_vec_env(action, demos, env_config: EnvConfig, sampler: SamplerConfig,
                          reward_config: RewardConfig, privileged: bool, seed: int,
                          processes: int, envs_per_process: int):
    """The trainer's vectorised environment: ``processes`` batches of ``envs_per_process``
    training environments (:class:`~real2sim_policy.env_batch.EnvBatch`), in worker processes
    when ``processes > 1``, wrapped in SB3's ``VecMonitor`` (episode returns and lengths)."""
    from stable_baselines3.common.vec_env import VecMonitor

    from .env_batch import EnvBatch
    from .vec_env import BatchVecEnv

    factories = [
        functools.partial(EnvBatch, action, demos, env_config, sampler, reward_config,
                          privileged, [seed + 1000 * (b * envs_per_process + j)
                                       for j in range(envs_per_process)])
        for b in range(processes)
    ]
    return VecMonitor(BatchVecEnv(factories, processes=processes > 1))


# -- networks -----------------------------------------------------------------------------------


def _asymmetric_policy_class():
    """Build the SB3 policy class lazily (torch and SB3 are heavy imports)."""
    from stable_baselines3.common.policies import ActorCriticPolicy
    from torch import nn

    class _Extractor(nn.Module):
        """Actor MLP on the first ``actor_dim`` features, critic MLP on all of them."""

        def __init__(self, feature_dim: int, actor_dim: int, hidden, activation):
            super().__init__()
            self.actor_dim = actor_dim

            def mlp(n_in):
                layers, last = [], n_in
                for h in hidden:
                    layers += [nn.Linear(last, int(h)), activation()]
                    last = int(h)
                return nn.Sequential(*layers)

            self.policy_net = mlp(actor_dim)
            self.value_net = mlp(feature_dim)
            self.latent_dim_pi = int(hidden[-1])
            self.latent_dim_vf = int(hidden[-1])

        def forward(self, features):
            return self.forward_actor(features), self.forward_critic(features)

        def forward_actor(self, features):
            return self.policy_net(features[..., : self.actor_dim])

        def forward_critic(self, features):
            return self.value_net(features)

    class AsymmetricPolicy(ActorCriticPolicy):
        """Actor on the 8 policy observations, critic on the full (privileged) vector."""

        def __init__(self, *args, actor_dim: int = OBS_DIM, **kwargs):
            self._actor_dim = actor_dim
            super().__init__(*args, **kwargs)

        def _build_mlp_extractor(self) -> None:
            arch = self.net_arch
            hidden = arch["pi"] if isinstance(arch, dict) else arch
            self.mlp_extractor = _Extractor(self.features_dim, self._actor_dim, hidden,
                                            self.activation_fn)

    return AsymmetricPolicy


@functools.lru_cache(maxsize=1)
def AsymmetricActorCriticPolicy():  # noqa: N802 - returns the class (built lazily, once)
    """The SB3 actor-critic policy class whose actor sees only the first 8 observations."""
    return _asymmetric_policy_class()


# -- callbacks ----------------------------------------------------------------------------------


def _validation_starts(action: str, n: int, seed: int, env_config: EnvConfig,
                       sampler: SamplerConfig, anchors) -> list[StartState]:
    """A fixed validation set drawn at full randomisation (not the benchmark rows)."""
    cfg = SamplerConfig(**{**sampler.__dict__, "scale": 1.0, "std": 0.1})
    env = _quiet_env(action, env_config)
    env.sampler = cfg
    if anchors is not None:
        env.set_anchors(anchors)
    starts = []
    for i in range(n):  # reset() resamples until the start is collision-free
        env.reset(seed=seed if i == 0 else None)
        starts.append(env.start_state)
    env.close()
    return starts


def _make_callback(trainer: _Trainer):
    from stable_baselines3.common.callbacks import BaseCallback

    class TrainingCallback(BaseCallback):
        """ADR curriculum, validation, checkpoints, TensorBoard scalars, the progress bar, and
        the time split: rollout collection (``t_sim``) / PPO update (``t_train``)."""

        def _on_step(self) -> bool:
            return not trainer.stopped  # False ends model.learn() (SB3 BaseCallback)

        def _on_rollout_start(self) -> None:
            trainer.timing_mark("collect")

        def _on_rollout_end(self) -> None:
            trainer.timing_mark("callback")
            trainer.on_update_end(self)
            trainer.timing_mark("update")

        def _on_training_end(self) -> None:
            trainer.timing_mark(None)

    return TrainingCallback()


class _Trainer:
    """State of one training run (curriculum, validation, checkpoints, progress)."""

    def __init__(self, action, demos, out_dir: Path, cfg: TrainConfig, env_config: EnvConfig,
                 sampler: SamplerConfig, reward_config: RewardConfig, progress: bool,
                 command: str | None, on_update=None):
        self.action = action
        self.demos = demos
        self.out = out_dir
        self.cfg = cfg
        self.env_config = env_config
        self.sampler = sampler
        self.reward_config = reward_config
        self.progress = progress
        self.command = command
        self.on_update = on_update
        self.stopped = False
        self.update = 0
        self.history: list[dict] = []
        self.bar = None
        self.t_start = time.perf_counter()
        self.t_sim = 0.0
        self.t_train = 0.0
        self._t_mark: tuple[str, float] | None = None
        self.reward = DemoReward(demos, action, reward_config, env_config.horizon,
                                 env_config.control_hz)
        self.val_env = None
        self.val_starts: list[StartState] = []
        self.signature = run_signature(action, demos, cfg, env_config, sampler, reward_config)

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

    # curriculum
    def curriculum(self, update: int) -> tuple[float, float]:
        return curriculum_at(update, self.cfg.updates, self.cfg.curriculum)

    def apply_curriculum(self, vec_env, update: int) -> None:
        scale, std = self.curriculum(update)
        vec_env.env_method("set_curriculum", scale, std)

    def validate(self, model) -> float:
        from .policies import SB3Policy
        from .rollout import run_rollout

        if not self.val_starts:
            return float("nan")
        policy = SB3Policy(model, action=self.action)
        wins = 0
        for i, s in enumerate(self.val_starts):
            ro = run_rollout(self.val_env, policy, s, seed=self.cfg.seed + i)
            wins += int(ro.evaluate().success)
        return wins / len(self.val_starts)

    def on_update_end(self, cb) -> None:
        model = cb.model
        self.update += 1
        scale, std = self.curriculum(self.update)
        cb.training_env.env_method("set_curriculum", scale, std)
        cb.logger.record("curriculum/scale", scale)
        cb.logger.record("curriculum/std", std)
        ep = [e["r"] for e in model.ep_info_buffer] if model.ep_info_buffer else []
        rec = {"update": self.update, "timesteps": int(model.num_timesteps), "scale": scale,
               "std": std, "ep_reward": float(np.mean(ep)) if ep else float("nan"),
               "elapsed_s": time.perf_counter() - self.t_start}
        cfg = self.cfg
        last = self.update >= cfg.updates
        if cfg.validation_starts and (last or (cfg.validation_every and
                                               self.update % cfg.validation_every == 0)):
            rec["val_success"] = self.validate(model)
            cb.logger.record("validation/success", rec["val_success"])
        self.history.append(rec)
        if self.on_update is not None and self.on_update(dict(rec)) is False and not last:
            self.stopped = True  # _on_step ends learn() at the next step
        if cfg.checkpoint_every and self.update % cfg.checkpoint_every == 0 and not last:
            self.save_checkpoint(model)
        if self.bar is not None:
            vals = [h["val_success"] for h in self.history if "val_success" in h]
            self.bar.set_postfix_str(
                f"scale {scale:.2f} std {100 * std:.1f}cm reward {rec['ep_reward']:.3f} "
                f"val {100 * vals[-1]:.0f}%" if vals else
                f"scale {scale:.2f} std {100 * std:.1f}cm reward {rec['ep_reward']:.3f}")
            self.bar.update(1)

    def save_checkpoint(self, model) -> None:
        ck = self.out / "checkpoints"
        ck.mkdir(parents=True, exist_ok=True)
        path = ck / f"update_{self.update:05d}.zip"
        model.save(str(path))
        state = {"update": self.update, "checkpoint": path.name, "history": self.history,
                 "elapsed_s": time.perf_counter() - self.t_start, "run": self.signature}
        tmp = ck / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, ck / "state.json")


RESUME_FREE = ("updates", "validation_starts", "validation_every", "checkpoint_every",
               "torch_threads")
"""TrainConfig fields a resumed run may change (the length of the run and its bookkeeping);
every other setting, the action and the demonstrations must equal the checkpoint's."""


def _demo_fingerprint(d: StateTrajectory) -> str:
    """``<video id>: <frames> frames, sha1 <12 hex>`` of the trajectory's numbers."""
    import hashlib

    h = hashlib.sha1()
    for arr in (d.times, d.hand_pos, d.hand_azi, d.hand_ele, d.obj_pos, d.obj_rot, d.obj_size,
                d.touch):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return f"{d.video_id or 'no id'}: {d.num_frames} frames, sha1 {h.hexdigest()[:12]}"


def run_signature(action: str, demos, cfg: TrainConfig, env_config: EnvConfig,
                  sampler: SamplerConfig, reward_config: RewardConfig) -> dict:
    """What a checkpoint must match to be resumed (JSON-able): the action, the demonstrations'
    fingerprints and every setting except :data:`RESUME_FREE`."""
    train = {k: v for k, v in asdict(cfg).items() if k not in RESUME_FREE}
    return json.loads(json.dumps({
        "action": action, "demonstrations": [_demo_fingerprint(d) for d in demos],
        "train": train, "env": asdict(env_config), "sampler": asdict(sampler),
        "reward": asdict(reward_config)}))


def _flatten(d, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def signature_differences(saved: dict, now: dict) -> list[str]:
    """``"key: checkpoint X, this run Y"`` for every setting that differs."""
    a, b = _flatten(saved), _flatten(now)
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            diffs.append(f"{key}: checkpoint {a.get(key, '<absent>')!r}, this run "
                         f"{b.get(key, '<absent>')!r}")
    return diffs


def _check_resume(state: dict, state_path: Path, signature: dict) -> None:
    saved = state.get("run")
    if saved is None:
        raise InputError(f"--resume: {state_path} records no run settings (written by an older "
                         "version), so it cannot be checked against this command; train into a "
                         "new --out")
    diffs = signature_differences(saved, signature)
    if diffs:
        shown = "; ".join(diffs[:8]) + (f"; ... ({len(diffs)} in all)" if len(diffs) > 8 else "")
        raise InputError(f"--resume: the checkpoint in {state_path.parent} does not match this "
                         f"command: {shown}. Resume with the checkpoint's settings (its "
                         "policy.json/state.json), or train into a new --out")


def _load_checkpoint(out_dir: Path):
    state_path = out_dir / "checkpoints" / "state.json"
    if not state_path.is_file():
        raise InputError(f"--resume: {state_path} does not exist; there is no checkpoint to "
                         "resume (train without --resume first)")
    try:
        state = json.loads(read_text(state_path, "checkpoint state"))
        ck = out_dir / "checkpoints" / state["checkpoint"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"{state_path}: corrupt checkpoint state ({e}); delete the "
                         "checkpoints folder and train again") from None
    return state, ck


def _load_model(path: Path, env):
    from stable_baselines3 import PPO

    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        return PPO.load(str(path), env=env, device="cpu",
                        custom_objects={"policy_class": AsymmetricActorCriticPolicy()})
    except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is an input error
        raise InputError(f"{path}: corrupt or incompatible checkpoint ({type(e).__name__}: "
                         f"{e}); delete it (or its folder) and train again") from None


def train_policy(action, demos: list[StateTrajectory], out_dir, config: TrainConfig | None = None,
                 env_config: EnvConfig | None = None, sampler: SamplerConfig | None = None,
                 reward_config: RewardConfig | None = None, resume: bool = False,
                 progress: bool = True, command: str | None = None,
                 on_update=None) -> TrainResult:
    """Train a PPO policy for ``action`` on ``demos`` (see the module docstring).

    ``on_update(record)``, if given, is called after each update with its history record
    (``update``, ``timesteps``, ``scale``, ``std``, ``ep_reward``, ``elapsed_s`` and, when it
    validated, ``val_success``); returning ``False`` stops training after that update (the
    policy so far is still saved; ``info["stopped"]`` is then true).

    Raises:
        InputError: an empty or mismatched demonstration set, a corrupt checkpoint, a resumed
            checkpoint whose action, demonstrations or settings differ from these (the message
            lists the differences).
    """
    import torch
    from stable_baselines3 import PPO
    spec = get_action(action)
    cfg = config or TrainConfig()
    env_config = env_config or EnvConfig()
    sampler = sampler or SamplerConfig()
    reward_config = reward_config or RewardConfig()
    if not demos:
        raise InputError(f"no demonstrations of {spec.name} given")
    for i, d in enumerate(demos):
        if d.num_objects != spec.num_objects:
            raise InputError(f"demonstration {i} ({d.video_id or 'no id'}) has {d.num_objects} "
                             f"object(s); {spec.name} needs {spec.num_objects}")
    if reward_config.reduction == "single" and len(demos) != 1:
        raise InputError(f"reward 'single' needs exactly one demonstration, got {len(demos)}")
    out = Path(out_dir)
    state = ck_path = None
    if resume:
        state, ck_path = _load_checkpoint(out)
        _check_resume(state, out / "checkpoints" / "state.json",
                      run_signature(spec.name, demos, cfg, env_config, sampler, reward_config))
        if int(state["update"]) > cfg.updates:
            raise InputError(f"--resume: the checkpoint is at update {state['update']}, beyond "
                             f"this command's {cfg.updates} updates; pass --updates >= "
                             f"{state['update']}")
    out.mkdir(parents=True, exist_ok=True)
    revision = git_revision()  # of the code that trains, taken before anything is written
    torch.set_num_threads(cfg.torch_threads)
    pc = cfg.ppo
    trainer = _Trainer(spec.name, demos, out, cfg, env_config, sampler, reward_config, progress,
                       command, on_update)
    scale0, std0 = trainer.curriculum(0 if state is None else state["update"])
    samp0 = SamplerConfig(**{**sampler.__dict__, "scale": scale0, "std": std0})
    vec = make_training_vec_env(spec.name, demos, env_config, samp0, reward_config,
                                pc.privileged_critic, cfg.seed, cfg.envs, cfg.envs_per_process)
    n_envs = cfg.num_envs
    steps_per_update = pc.episodes_per_update * env_config.horizon
    n_steps = max(1, math.ceil(steps_per_update / n_envs))
    batch = max(1, (n_steps * n_envs) // pc.minibatches)
    lr0 = pc.learning_rate
    try:
        if state is not None:
            model = _load_model(ck_path, vec)
            trainer.update = int(state["update"])
            trainer.history = list(state.get("history", []))
        else:
            model = PPO(
                AsymmetricActorCriticPolicy(), vec, learning_rate=lambda p: lr0 * p,
                n_steps=n_steps, batch_size=batch, n_epochs=pc.epochs, gamma=pc.gamma,
                gae_lambda=pc.gae_lambda, clip_range=pc.clip_range, ent_coef=pc.ent_coef,
                vf_coef=pc.vf_coef, max_grad_norm=pc.max_grad_norm, seed=cfg.seed,
                device="cpu", tensorboard_log=str(out / "tb"), verbose=0,
                policy_kwargs={"net_arch": {"pi": list(pc.hidden), "vf": list(pc.hidden)},
                               "activation_fn": torch.nn.Tanh, "log_std_init": pc.log_std_init,
                               "actor_dim": OBS_DIM},
            )
        # SB3's collection loop and update, computed faster with the same numbers (fast_ppo)
        fast_ppo.install(model)
        trainer.val_env = _quiet_env(spec.name, env_config)
        trainer.val_starts = _validation_starts(spec.name, cfg.validation_starts, cfg.seed + 7,
                                                env_config, sampler,
                                                demo_anchors(trainer.reward))
        warm = None
        if cfg.init == "track" and state is None:
            warm = _warm_start(model, trainer, progress)
        remaining = cfg.updates - trainer.update
        info_extra = {}
        if remaining > 0:
            if progress:
                from tqdm.auto import tqdm

                trainer.bar = tqdm(total=cfg.updates, initial=trainer.update, unit="update",
                                   desc=f"train {spec.name}", dynamic_ncols=True,
                                   file=sys.stderr)
            t0 = time.perf_counter()
            # torch.distributions re-checks the Gaussian's arguments at every policy call
            # (~15 % of the learner's rollout time); a NaN action still stops the env
            # (NonFiniteActionError)
            validate = torch.distributions.Distribution._validate_args
            torch.distributions.Distribution.set_default_validate_args(False)
            try:
                model.learn(total_timesteps=remaining * n_steps * n_envs,
                            callback=_make_callback(trainer), reset_num_timesteps=state is None,
                            tb_log_name="ppo")
            finally:
                torch.distributions.Distribution.set_default_validate_args(validate)
            info_extra["learn_s"] = time.perf_counter() - t0
            if trainer.bar is not None:
                trainer.bar.close()
    finally:
        vec.close()
        if trainer.val_env is not None:
            trainer.val_env.close()
    policy_path = out / "policy.zip"
    model.save(str(policy_path))
    stamp_policy_zip(policy_path, spec.name)  # the action travels with the zip
    wall = time.perf_counter() - trainer.t_start
    learn_s = info_extra.get("learn_s", 0.0)
    steps = int(model.num_timesteps)
    info = {
        "action": spec.name,
        "command": command,
        "git": revision,
        "demonstrations": [{"video_id": d.video_id, "frames": d.num_frames,
                            "phase": list(d.phase) if d.phase is not None else None}
                           for d in demos],
        "reward": reward_config.reduction,
        "updates": cfg.updates,
        "stopped": trainer.stopped,
        "env_steps": steps,
        "wall_s": round(wall, 1),
        "learn_s": round(learn_s, 1),
        "env_steps_per_s": round(steps / learn_s, 1) if learn_s else None,
        "collect_s": round(trainer.t_sim, 2),
        "update_s": round(trainer.t_train, 2),
        "envs": cfg.num_envs,
        "final_curriculum": dict(zip(("scale", "std"), trainer.curriculum(trainer.update),
                                     strict=True)),
        "final_validation_success": next((h["val_success"] for h in reversed(trainer.history)
                                          if "val_success" in h), None),
        "warm_start": warm,
        "config": asdict(cfg),
        "reward_config": asdict(reward_config),
        "history": trainer.history,
    }
    (out / "policy.json").write_text(json.dumps(info, indent=1))
    _plot_history(trainer.history, out / "training.png", spec.name)
    return TrainResult(policy_path, info)


def _quiet_env(action, env_config) -> GripperEnv:
    from .benchmark import _quiet_stdout, _restore_stdout

    token = _quiet_stdout()
    try:
        return GripperEnv(action, env_config)
    finally:
        _restore_stdout(token)


def _warm_start(model, trainer: _Trainer, progress: bool) -> dict:
    from .warmstart import dagger_warm_start

    t0 = time.perf_counter()
    env = _quiet_env(trainer.action, trainer.env_config)
    env.reward_fn = trainer.reward
    anchors = demo_anchors(trainer.reward)
    if anchors is not None:
        env.set_anchors(anchors)
    msg = (lambda m: print(m, file=sys.stderr)) if progress else None
    try:
        stats = dagger_warm_start(model, env, trainer.reward, trainer.cfg.warm_start,
                                  seed=trainer.cfg.seed,
                                  privileged=trainer.cfg.ppo.privileged_critic, progress=msg)
    finally:
        env.close()
    stats["val_success"] = trainer.validate(model)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    if progress:
        print(f"warm start done in {stats['seconds']:.0f} s: validation success "
              f"{100 * stats['val_success']:.0f} %", file=sys.stderr)
    return stats


def _plot_history(history: list[dict], path: Path, action: str) -> None:
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    u = [h["update"] for h in history]
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
    ax[0].plot(u, [h["ep_reward"] for h in history])
    ax[0].set_title("episode reward")
    vu = [h["update"] for h in history if "val_success" in h]
    ax[1].plot(vu, [100 * h["val_success"] for h in history if "val_success" in h], "o-")
    ax[1].set_title("validation success, %")
    ax[1].set_ylim(-2, 102)
    ax[2].plot(u, [h["scale"] for h in history], label="orientation scale")
    ax[2].plot(u, [h["std"] / 0.25 for h in history], label="position std / 0.25 m")
    ax[2].set_title("ADR curriculum")
    ax[2].legend()
    for a in ax:
        a.set_xlabel("update")
        a.grid(alpha=0.3)
    fig.suptitle(action)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
