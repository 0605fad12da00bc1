"""Checkpoints of a training run: what a resumed run must match, and reading them back.

``OUT/checkpoints/update_<n>.zip`` (the PPO model) and ``OUT/checkpoints/state.json`` (the
update, the history so far and the run's signature) are written by
:class:`~real2sim_policy.callbacks.CheckpointCallback`. A resume is refused, with the
differences, when the action, the demonstrations or any setting outside :data:`RESUME_FREE`
differs (:func:`run_signature`, :func:`check_resume`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from real2sim_core.errors import InputError
from real2sim_core.textio import read_text

from .demos import demo_fingerprint
from .env_config import EnvConfig, SamplerConfig
from .network import AsymmetricActorCriticPolicy
from .reward import RewardConfig
from .train_config import TrainConfig

__all__ = ["RESUME_FREE", "check_resume", "load_checkpoint", "load_model", "run_signature",
           "signature_differences"]


RESUME_FREE = ("updates", "validation_starts", "validation_every", "checkpoint_every",
               "torch_threads", "collection")
"""TrainConfig fields a resumed run may change (the length of the run, its bookkeeping and how
rollouts are collected); every other setting, the action and the demonstrations must equal the
checkpoint's."""


def run_signature(action: str, demos, cfg: TrainConfig, env_config: EnvConfig,
                  sampler: SamplerConfig, reward_config: RewardConfig) -> dict:
    """What a checkpoint must match to be resumed (JSON-able): the action, the demonstrations'
    fingerprints and every setting except :data:`RESUME_FREE`."""
    train = {k: v for k, v in asdict(cfg).items() if k not in RESUME_FREE}
    return json.loads(json.dumps({
        "action": action, "demonstrations": [demo_fingerprint(d) for d in demos],
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


def _setting_defaults() -> dict:
    """The flattened default of every setting a signature records (``env.``, ``sampler.``,
    ``reward.``, ``train.``)."""
    return _flatten(json.loads(json.dumps({
        "train": asdict(TrainConfig()), "env": asdict(EnvConfig()),
        "sampler": asdict(SamplerConfig()), "reward": asdict(RewardConfig())})))


def signature_differences(saved: dict, now: dict) -> list[str]:
    """``"key: checkpoint X, this run Y"`` for every setting that differs. A setting the
    checkpoint does not record (added to the code after it was written) matches when this run
    keeps it at its default: the default is what the older code did."""
    a, b = _flatten(saved), _flatten(now)
    defaults = _setting_defaults()
    diffs = []
    for key in sorted(set(a) | set(b)):
        if key not in a and key in defaults and b.get(key) == defaults[key]:
            continue
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            diffs.append(f"{key}: checkpoint {a.get(key, '<absent>')!r}, this run "
                         f"{b.get(key, '<absent>')!r}")
    return diffs


def check_resume(state: dict, state_path: Path, signature: dict) -> None:
    """Refuse to resume from checkpoint ``state`` (read from ``state_path``) when its run
    signature differs from ``signature`` (the message lists the differences)."""
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


def load_checkpoint(out_dir: Path) -> tuple[dict, Path]:
    """``(state, checkpoint zip path)`` of the latest checkpoint in ``out_dir/checkpoints``."""
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


def load_model(path: Path, env):
    """The PPO model of checkpoint ``path``, attached to the vectorised env ``env``."""
    from stable_baselines3 import PPO

    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        return PPO.load(str(path), env=env, device="cpu",
                        custom_objects={"policy_class": AsymmetricActorCriticPolicy()})
    except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is an input error
        raise InputError(f"{path}: corrupt or incompatible checkpoint ({type(e).__name__}: "
                         f"{e}); delete it (or its folder) and train again") from None
