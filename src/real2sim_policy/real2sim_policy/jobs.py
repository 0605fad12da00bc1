"""Preparing the policy package's jobs, shared by the ``real2sim`` CLI and ``policy_node``.

* :func:`parse_start` / :func:`start_from_spec`: a start state from a benchmark row or a
  ``KEY=VALUE`` pose;
* :func:`rollout` runs a policy spec (:data:`~real2sim_policy.policies.DEFAULT_POLICY`
  resolved) from a start state in an env into a :class:`~real2sim_policy.rollout.Rollout`;
  :func:`rollout_request` does it for a request (action, start, seed) with the envs of an
  :class:`EnvCache`; :func:`describe_rollout` is its one-line report;
* :func:`with_overrides`: a :class:`~real2sim_policy.config.PolicyPackageConfig` with dotted
  overrides, validated by the schema (CLI flags, a training goal's fields);
* :func:`training_job`: the action, demonstrations and config of a training request
  (:func:`describe_training`); :class:`TrainingFolders`: where trainings write;
* :func:`train_staged`: a training written into ``<final>.running`` and moved over ``<final>``
  only when it ran to its end (:func:`staged_dir`, :func:`replace_dir`); the outcome is a
  :class:`TrainingOutcome` with a :class:`TrainingStatus`; :func:`update_feedback` /
  :func:`describe_update` report one update.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import flatten, from_flat
from real2sim_core.errors import InputError

from .benchmark import resolve_spec
from .demos import check_demonstrations, mirror_note
from .env import GripperEnv
from .env_config import POLICY_WORLD_FIELDS, StartState
from .policies import env_config_for_policy, make_policy, resolve_policy_spec
from .quiet import quiet_env
from .rollout import START_COLUMNS, Rollout, load_start_states, run_rollout

__all__ = ["EnvCache", "TrainingFolders", "TrainingOutcome", "TrainingStatus",
           "describe_rollout", "describe_training", "describe_update", "parse_start",
           "replace_dir", "rollout", "rollout_request", "staged_dir", "start_from_spec",
           "train_staged", "training_job", "update_feedback", "with_overrides"]


def parse_start(text: str, starts) -> tuple[str, StartState]:
    """A row index of ``starts`` or ``KEY=VALUE,...`` over the start columns.

    Returns ``(label, StartState)``; the pose form uses the CSV's units (rad, m), keys not given
    keep the values of row 0.

    Raises:
        InputError: a row outside ``starts``, an unknown key, a non-number, or a pose outside
            the gripper world's limits.
    """
    text = str(text).strip()
    if text.lstrip("-").isdigit():
        row = int(text)
        if not 0 <= row < len(starts):
            raise InputError(f"start row {row} is outside the spec's {len(starts)} start "
                             f"states (0..{len(starts) - 1})")
        return starts[row]
    base = starts[0][1]
    vals = {"hazi": base.hand_azi, "hele": base.hand_ele,
            "hposx": base.hand_pos[0], "hposy": base.hand_pos[1], "hposz": base.hand_pos[2],
            "o0posx": base.obj0_pos[0], "o0posy": base.obj0_pos[1], "o0posz": base.obj0_pos[2],
            "o0hei": base.obj0_height, "o0rad": base.obj0_radius, "o1hei": base.obj1_height,
            "o1rad": base.obj1_radius}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, sep, val = item.partition("=")
        key = key.strip()
        if not sep or key not in vals:
            raise InputError(f"--start {text!r}: {item!r} is not KEY=VALUE with KEY one of "
                             f"{', '.join(START_COLUMNS)} (or give a row index)")
        try:
            vals[key] = float(val)
        except ValueError:
            raise InputError(f"--start: {key}={val!r} is not a number") from None
    try:  # StartState checks the values against the gripper world's limits
        start = replace(base, hand_pos=np.array([vals["hposx"], vals["hposy"], vals["hposz"]]),
                        hand_azi=vals["hazi"], hand_ele=vals["hele"],
                        obj0_pos=np.array([vals["o0posx"], vals["o0posy"], vals["o0posz"]]),
                        obj0_height=vals["o0hei"], obj0_radius=vals["o0rad"],
                        obj1_height=vals["o1hei"], obj1_radius=vals["o1rad"])
    except InputError as e:
        raise InputError(f"--start {text!r}: {e}") from None
    return "pose", start


def start_from_spec(spec, start) -> tuple[str, StartState]:
    """Start ``start`` (a row index or a pose, see :func:`parse_start`) of benchmark ``spec``
    (``easy``, ``hard`` or a CSV)."""
    return parse_start(str(start), load_start_states(resolve_spec(spec)))


def rollout(env: GripperEnv, policy_spec: str, start: StartState | None, seed: int,
            ) -> tuple[Rollout, str]:
    """Roll ``policy_spec`` (resolved for ``env``'s action: "" = the shipped policy, else
    scripted) out in ``env`` from ``start`` (None = sampled with ``seed``).

    Returns:
        The rollout and the policy spec that ran.
    """
    action = env.spec_action.name
    spec = resolve_policy_spec(policy_spec, action)
    policy = make_policy(spec, action)
    return run_rollout(env, policy, start=start, seed=seed), spec


class EnvCache:
    """One :class:`~real2sim_policy.env.GripperEnv` per action (built quietly on first use with
    a :class:`~real2sim_policy.config.PolicyPackageConfig`'s env and sampler settings);
    :meth:`clear` after the settings change."""

    def __init__(self):
        self._envs: dict[tuple, GripperEnv] = {}

    def get(self, action: str, config, policy: str = "") -> GripperEnv:
        """The env of ``action`` with the world settings policy ``policy`` was trained in
        (:func:`~real2sim_policy.policies.env_config_for_policy`)."""
        env_cfg = env_config_for_policy(policy, config.env)
        key = (action, tuple(getattr(env_cfg, k) for k in POLICY_WORLD_FIELDS))
        if key not in self._envs:
            self._envs[key] = quiet_env(action, env_cfg, config.sampler)
        return self._envs[key]

    def clear(self) -> None:
        self._envs.clear()


def rollout_request(envs: EnvCache, config, action: str, spec: str, start, seed: int,
                    trained: dict[str, str]) -> tuple[Rollout, str]:
    """A rollout request: ``action`` ("" = ``config.action``) from start ``start`` of benchmark
    ``spec`` (``spec`` "" = sampled with ``seed``) with the policy trained for the action in
    ``trained`` (action -> policy.zip), else ``config.policy``; see :func:`rollout`."""
    action = get_action(action or config.action).name
    state = start_from_spec(spec, start)[1] if spec else None
    policy = resolve_policy_spec(trained.get(action) or config.policy, action)
    return rollout(envs.get(action, config, policy), policy, state, seed)


def describe_rollout(ro: Rollout, check, policy: str, note: str = "") -> str:
    """One line: the policy (its file name, or ``policy (note)``), how the rollout ended and
    the action check ``check``."""
    label = f"{policy} ({note})" if note else Path(policy).name
    return (f"policy {label}: {ro.error or 'completed'}; "
            f"check {'passed' if check.success else 'failed'}: {check.reason}")


def with_overrides(config, overrides: dict):
    """``config`` (a dataclass schema) with dotted ``name -> value`` overrides applied,
    validated as the schema validates a parameter file."""
    flat = flatten(config)
    unknown = sorted(set(overrides) - set(flat))
    if unknown:
        raise InputError(f"unknown setting(s) {', '.join(unknown)}")
    return from_flat(type(config), {**flat, **overrides})


def training_job(config, store, action: str = "", *, updates: int = 0, init: str = "",
                 reward: str = "", source: str = "", hint: str = ""):
    """A training request: ``action`` ("" = ``config.action``), its demonstrations kept in
    ``store`` (a :class:`~real2sim_policy.demos.DemonstrationStore`; ``source`` and ``hint`` go
    into the message when there are none) and ``config`` with the request's set fields
    (``updates`` > 0, ``init``, ``reward`` non-empty), checked with
    :func:`~real2sim_policy.demos.check_demonstrations`.

    Returns:
        ``(action, demonstrations, config)``.

    Raises:
        InputError: no demonstrations, a bad value or demonstration set.
    """
    action = get_action(action or config.action).name
    demos = store.for_action(action, source, hint)
    overrides = {k: v for k, v in (("train.updates", int(updates)), ("train.init", init),
                                   ("reward.reduction", reward)) if v}
    cfg = with_overrides(config, overrides)
    check_demonstrations(demos, action, cfg.reward.reduction)
    return action, demos, cfg


def describe_training(action: str, demos, config, dest: Path) -> str:
    """One line announcing a training of ``action`` on ``demos`` with ``config`` into ``dest``."""
    ids = ", ".join(d.video_id or "?" for d in demos)
    return (f"training {action} on {len(demos)} demonstration(s) ({ids})"
            f"{mirror_note(config.train.mirror_demos)}: "
            f"{config.train.updates} updates, reward {config.reward.reduction}, init "
            f"{config.train.init} -> {dest}")


class TrainingFolders:
    """Where the trainings of a server write: ``<out_dir>/trained/<action>``, under one
    temporary folder (made on first use) when ``out_dir`` is ""."""

    def __init__(self):
        self._tmp: Path | None = None

    def __call__(self, out_dir: str, action: str) -> Path:
        if not out_dir:
            if self._tmp is None:
                self._tmp = Path(tempfile.mkdtemp(prefix="real2sim_policy_"))
            out_dir = self._tmp
        return Path(out_dir) / "trained" / action


def staged_dir(final: Path) -> Path:
    """An empty ``<final>.running`` folder name to write a job into before it replaces
    ``final`` (:func:`replace_dir`): a canceled or failed job keeps the previous result."""
    work = final.with_name(final.name + ".running")
    shutil.rmtree(work, ignore_errors=True)
    return work


def replace_dir(src: Path, dst: Path) -> Path:
    """Move folder ``src`` to ``dst``, replacing what was there; returns ``dst``."""
    old = dst.with_name(dst.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dst.exists():
        dst.rename(old)
    src.rename(dst)
    shutil.rmtree(old, ignore_errors=True)
    return dst


class TrainingStatus(Enum):
    """How a staged training ended."""

    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    STOPPED = "stopped"

    @classmethod
    def of_stop(cls, shutting_down: bool, cancel_requested: bool) -> TrainingStatus | None:
        """The status of a run stopped by a shutdown (STOPPED) or a cancel request (CANCELED);
        None when neither (it ran to its end)."""
        if shutting_down:
            return cls.STOPPED
        return cls.CANCELED if cancel_requested else None


@dataclass
class TrainingOutcome:
    """What :func:`train_staged` produced.

    Attributes:
        status: how it ended. policy_path: the policy zip (in ``<final>`` when it succeeded,
            else in ``<final>.canceled``). updates: updates done. env_steps: environment steps.
        validation_success: the last validation success rate, None when never validated.
        info: the trainer's ``policy.json`` record.
    """

    status: TrainingStatus
    policy_path: Path
    updates: int
    env_steps: int
    validation_success: float | None
    info: dict

    def describe(self, action: str, demos, config) -> str:
        """One line for the user: what was trained on what, and where the policy is."""
        total = config.train.updates
        if self.status is not TrainingStatus.SUCCEEDED:
            why = "canceled" if self.status is TrainingStatus.CANCELED else \
                "stopped (the node is shutting down)"
            return (f"training of {action} {why} after {self.updates} of {total} updates; "
                    f"its partial policy {self.policy_path} is not used for rollouts")
        val = self.validation_success
        ids = ", ".join(d.video_id or "?" for d in demos)
        return (f"trained {action} on {len(demos)} demonstration(s) ({ids}) for {self.updates} "
                f"updates ({self.env_steps} env steps), reward {config.reward.reduction}, init "
                f"{config.train.init}: validation success "
                + ("n/a" if val is None else f"{100 * val:.0f} %"))


def update_feedback(rec: dict, updates: int) -> dict:
    """A trainer's per-update record as the fields of a ``TrainPolicy`` feedback."""
    return {"update": int(rec["update"]), "updates": int(updates), "scale": float(rec["scale"]),
            "std": float(rec["std"]), "validation_success": float(rec.get("val_success",
                                                                          math.nan))}


def describe_update(action: str, rec: dict, updates: int) -> str:
    """One progress line of a training update."""
    return (f"train {action}: update {int(rec['update'])}/{int(updates)}, scale "
            f"{float(rec['scale']):.2f}, std {100 * float(rec['std']):.1f} cm, reward "
            f"{rec['ep_reward']:.3f}")


def train_staged(final: Path, action: str, demos, config, *, command: str, on_update,
                 stop_status: Callable[[], TrainingStatus | None]) -> TrainingOutcome:
    """Train ``action`` on ``demos`` with ``config`` (a
    :class:`~real2sim_policy.config.PolicyPackageConfig`) into ``<final>.running``.

    ``on_update(record)`` is the trainer's per-update hook (``False`` stops after the update);
    ``stop_status()`` says, after the run, whether it was stopped (CANCELED / STOPPED: the
    partial policy goes to ``<final>.canceled``) or None (it replaces ``final``).
    """
    from .train import train_policy

    work = staged_dir(final)
    res = train_policy(action, demos, work, config.train, config.env, config.sampler,
                       config.reward, progress=False, command=command, on_update=on_update)
    status = stop_status() or TrainingStatus.SUCCEEDED
    dest = final if status is TrainingStatus.SUCCEEDED else \
        final.with_name(final.name + ".canceled")
    path = replace_dir(work, dest) / res.policy_path.name
    return TrainingOutcome(status, path, len(res.info.get("history", [])),
                           int(res.info.get("env_steps", 0)),
                           res.info.get("final_validation_success"), res.info)
