"""Preparing the policy package's jobs, shared by the ``real2sim`` CLI and ``policy_node``.

* :func:`parse_start` / :func:`start_from_spec`: a start state from a benchmark row or a
  ``KEY=VALUE`` pose;
* :func:`rollout` runs a policy spec (:data:`~real2sim_policy.policies.DEFAULT_POLICY`
  resolved) from a start state in an env into a :class:`~real2sim_policy.rollout.Rollout`;
* :func:`with_overrides`: a :class:`~real2sim_policy.config.PolicyPackageConfig` with dotted
  overrides, validated by the schema (CLI flags, a training goal's fields);
* :func:`train_staged`: a training written into ``<final>.running`` and moved over ``<final>``
  only when it ran to its end (:func:`staged_dir`, :func:`replace_dir`); the outcome is a
  :class:`TrainingOutcome` with a :class:`TrainingStatus`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import numpy as np
from real2sim_core.config import flatten, from_flat
from real2sim_core.errors import InputError

from .benchmark import resolve_spec
from .env import GripperEnv
from .env_config import StartState
from .policies import make_policy, resolve_policy_spec
from .rollout import START_COLUMNS, Rollout, load_start_states, run_rollout

__all__ = ["TrainingOutcome", "TrainingStatus", "parse_start", "replace_dir", "rollout",
           "staged_dir", "start_from_spec", "train_staged", "with_overrides"]


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


def with_overrides(config, overrides: dict):
    """``config`` (a dataclass schema) with dotted ``name -> value`` overrides applied,
    validated as the schema validates a parameter file."""
    flat = flatten(config)
    unknown = sorted(set(overrides) - set(flat))
    if unknown:
        raise InputError(f"unknown setting(s) {', '.join(unknown)}")
    return from_flat(type(config), {**flat, **overrides})


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
