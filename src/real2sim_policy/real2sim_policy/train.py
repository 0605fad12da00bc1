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
values): :func:`~real2sim_policy.network.AsymmetricActorCriticPolicy` splits one 24-value
observation.

Curriculum (ADR, METHOD 7): orientation scale 0.01 + 0.004 / update up to 1; hand-position std
0.005 m + 0.0005 m / update after update 500, up to 0.25 m. The schedule is defined for
``reference_updates`` (1000, the paper's run) and stretched to the configured number of updates,
so that a shorter run still ends at the full randomisation.

Environments run in batches (:class:`~real2sim_policy.vec_env.BatchVecEnv`): ``envs`` worker
processes (``spawn``; in the learner's process when ``envs == 1``) of ``envs_per_process``
environments each, their rewards evaluated together; one pipe round trip per worker and control
step, and the policy forward on all environments at once. Per environment the episodes are
those of :class:`~real2sim_policy.training_env.TrainingEnv` (tested). Speed:
``benchmarks/train_speed.py``.

This module holds the trainer (:func:`train_policy`) and its warm start and plot; the settings
are in :mod:`~real2sim_policy.train_config`, the demonstrations in :mod:`~real2sim_policy.demos`,
the environments in :mod:`~real2sim_policy.training_env`, the curriculum, validation,
checkpoint and progress hooks in :mod:`~real2sim_policy.callbacks` and resuming in
:mod:`~real2sim_policy.checkpoints`.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from real2sim_core.errors import InputError
from real2sim_core.provenance import git_revision
from real2sim_core.trajectory import StateTrajectory

from . import fast_ppo
from .checkpoints import check_resume, load_checkpoint, load_model, run_signature
from .demos import check_demonstrations, demo_anchors, load_demos, with_mirrored
from .env_config import POLICY_WORLD_FIELDS, EnvConfig, SamplerConfig
from .network import AsymmetricActorCriticPolicy
from .policies import stamp_policy_zip
from .quiet import quiet_env
from .reward import DemoReward, RewardConfig
from .spaces import OBS_DIM
from .train_config import INIT_CHOICES, CurriculumConfig, PPOConfig, TrainConfig
from .training_env import make_training_vec_env

__all__ = ["TrainResult", "train_policy",
           # re-exported: the settings and the demonstrations' reader
           "INIT_CHOICES", "CurriculumConfig", "PPOConfig", "TrainConfig", "load_demos"]


@dataclass
class TrainResult:
    """What :func:`train_policy` produced."""

    policy_path: Path
    info: dict


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

    from .callbacks import TrainingRun, training_callbacks, validation_starts, validation_success

    cfg = config or TrainConfig()
    env_config = env_config or EnvConfig()
    sampler = sampler or SamplerConfig()
    reward_config = reward_config or RewardConfig()
    spec = check_demonstrations(demos, action, reward_config.reduction)
    if cfg.mirror_demos:
        if reward_config.reduction == "single":
            raise InputError("train.mirror_demos adds demonstrations; reward 'single' learns "
                             "from exactly one (use --reward mean or max)")
        demos = with_mirrored(demos, spec.name)
    out = Path(out_dir)
    state = ck_path = None
    if resume:
        state, ck_path = load_checkpoint(out)
        check_resume(state, out / "checkpoints" / "state.json",
                      run_signature(spec.name, demos, cfg, env_config, sampler, reward_config))
        if int(state["update"]) > cfg.updates:
            raise InputError(f"--resume: the checkpoint is at update {state['update']}, beyond "
                             f"this command's {cfg.updates} updates; pass --updates >= "
                             f"{state['update']}")
    out.mkdir(parents=True, exist_ok=True)
    revision = git_revision()  # of the code that trains, taken before anything is written
    torch.set_num_threads(cfg.torch_threads)
    pc = cfg.ppo
    run = TrainingRun(spec.name, cfg, run_signature(spec.name, demos, cfg, env_config, sampler,
                                                    reward_config))
    reward = DemoReward(demos, spec.name, reward_config, env_config.horizon,
                        env_config.control_hz)
    val_env = None
    scale0, std0 = run.curriculum(0 if state is None else state["update"])
    samp0 = SamplerConfig(**{**sampler.__dict__, "scale": scale0, "std": std0})
    vec = make_training_vec_env(spec.name, demos, env_config, samp0, reward_config,
                                pc.privileged_critic, cfg.seed, cfg.envs, cfg.envs_per_process,
                                pc.bootstrap_horizon)
    n_envs = cfg.num_envs
    steps_per_update = pc.episodes_per_update * env_config.horizon
    n_steps = max(1, math.ceil(steps_per_update / n_envs))
    batch = max(1, (n_steps * n_envs) // pc.minibatches)
    lr0 = pc.learning_rate
    try:
        if state is not None:
            model = load_model(ck_path, vec)
            run.update = int(state["update"])
            run.history = list(state.get("history", []))
            # wall time counts across sessions: the checkpoint's elapsed time carries over
            run.t_start -= float(state.get("elapsed_s", 0.0))
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
        fast_ppo.install(model, cfg.collection)
        val_env = quiet_env(spec.name, env_config)
        val_starts = validation_starts(spec.name, cfg.validation_starts, cfg.seed + 7,
                                       env_config, sampler, demo_anchors(reward))
        callbacks = training_callbacks(run, out, val_env, val_starts, on_update=on_update,
                                       progress=progress)
        warm = None
        if cfg.init == "track" and state is None:
            warm = _warm_start(model, run, reward, env_config, progress,
                               validate=lambda m: validation_success(m, val_env, val_starts,
                                                                     spec.name, cfg.seed))
        remaining = cfg.updates - run.update
        info_extra = {}
        steps_before = int(model.num_timesteps)
        if remaining > 0:
            t0 = time.perf_counter()
            # torch.distributions re-checks the Gaussian's arguments at every policy call
            # (~15 % of the learner's rollout time); a NaN action still stops the env
            # (NonFiniteActionError)
            validate = torch.distributions.Distribution._validate_args
            torch.distributions.Distribution.set_default_validate_args(False)
            try:
                model.learn(total_timesteps=remaining * n_steps * n_envs,
                            callback=callbacks, reset_num_timesteps=state is None,
                            tb_log_name="ppo")
            finally:
                torch.distributions.Distribution.set_default_validate_args(validate)
            info_extra["learn_s"] = time.perf_counter() - t0
    finally:
        vec.close()
        if val_env is not None:
            val_env.close()
    policy_path = out / "policy.zip"
    model.save(str(policy_path))
    world = {k: getattr(env_config, k) for k in POLICY_WORLD_FIELDS}
    stamp_policy_zip(policy_path, spec.name, world)  # the action and its world travel with it
    wall = time.perf_counter() - run.t_start
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
        "stopped": run.stopped,
        "env_steps": steps,
        "wall_s": round(wall, 1),
        "learn_s": round(learn_s, 1),
        "env_steps_per_s": round((steps - steps_before) / learn_s, 1) if learn_s else None,
        "collect_s": round(run.t_sim, 4),  # 0.1 ms: a tiny run's split must not round to 0
        "update_s": round(run.t_train, 4),
        "envs": cfg.num_envs,
        "collection": cfg.collection,
        "final_curriculum": dict(zip(("scale", "std"), run.curriculum(run.update),
                                     strict=True)),
        "final_validation_success": run.final_validation(),
        "warm_start": warm,
        "world": world,
        "config": asdict(cfg),
        "reward_config": asdict(reward_config),
        "history": run.history,
    }
    (out / "policy.json").write_text(json.dumps(info, indent=1))
    _plot_history(run.history, out / "training.png", spec.name)
    return TrainResult(policy_path, info)


def _warm_start(model, run, reward: DemoReward, env_config: EnvConfig, progress: bool,
                validate) -> dict:
    """The ``track`` initialisation (:func:`~real2sim_policy.warmstart.dagger_warm_start`),
    validated with ``validate(model)``; returns its statistics for ``policy.json``."""
    from .warmstart import dagger_warm_start

    t0 = time.perf_counter()
    env = quiet_env(run.action, env_config)
    env.reward_fn = reward
    anchors = demo_anchors(reward)
    if anchors is not None:
        env.set_anchors(anchors)
    msg = (lambda m: print(m, file=sys.stderr)) if progress else None
    try:
        stats = dagger_warm_start(model, env, reward, run.cfg.warm_start, seed=run.cfg.seed,
                                  privileged=run.cfg.ppo.privileged_critic, progress=msg)
    finally:
        env.close()
    stats["val_success"] = validate(model)
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
