"""The policy interface shared by hand-written controllers and trained policies, and its registry.

A policy is anything with ``reset(env)`` and ``act(obs, env) -> action``:

* ``obs`` is the env's (8,) float32 observation (time / 10, hand position, hand rotation
  vector, opening): a trained policy sees only this;
* ``env`` is the :class:`~real2sim_policy.env.GripperEnv` itself: privileged controllers
  (the scripted ones) read the true simulator state from it;
* the action is (7,) in [-1, 1] (pre-tanh values are allowed; the env applies tanh).

Policies are made by name (:func:`make_policy`): registered kinds (``idle``, ``scripted``) or a
policy file. Both registries hold lazy ``"module:attribute"`` entries (the module is imported
when the kind is first used; a callable is accepted too). Files are loaded by suffix through
:data:`POLICY_FILE_LOADERS`; ``.zip`` is a
stable-baselines3 PPO model (the training issue's output). The action a policy was trained
for travels inside the zip (the member :data:`ZIP_METADATA_NAME`, ``{"action": NAME}``,
written by the trainer through :func:`stamp_policy_zip`); a sidecar ``<file>.json`` with
``{"action": NAME}`` (the trainer's ``policy.json``) labels zips made elsewhere. The loader
refuses a policy of another action, and a zip that says for no action (the observation and
action spaces are the same for every action, so they cannot tell). The same record holds the
world settings the policy was trained in (``"world"``: the
:data:`~real2sim_policy.env_config.POLICY_WORLD_FIELDS`, e.g. the fingers' opening, which
scales the gripper command); :func:`env_config_for_policy` builds every env that runs it with
them.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.errors import InputError, UnknownNameError
from real2sim_core.registry import resolve_entry
from real2sim_core.textio import read_json

from .network import AsymmetricActorCriticPolicy
from .spaces import OBS_DIM, PRIVILEGED_DIM

__all__ = [
    "Policy",
    "IdlePolicy",
    "SB3Policy",
    "POLICIES",
    "POLICY_FILE_LOADERS",
    "make_policy",
    "register_policy",
    "policy_names",
    "policy_choices",
    "resolve_policy_spec",
    "DEFAULT_POLICY",
    "check_policy_spec",
    "load_sb3_policy",
    "ZIP_METADATA_NAME",
    "stamp_policy_zip",
    "policy_zip_action",
    "policy_world",
    "env_config_for_policy",
]

ZIP_METADATA_NAME = "real2sim.json"
"""Member of a policy zip that names its action: ``{"action": NAME}`` (stable-baselines3
ignores members it does not know)."""


class Policy:
    """Base class: ``reset(env)`` once per episode, then ``act(obs, env)`` per control step."""

    name = "policy"

    def reset(self, env) -> None:  # noqa: B027 - optional hook
        """Called after every ``env.reset``."""

    def act(self, obs: np.ndarray, env) -> np.ndarray:
        """Return the (7,) action for observation ``obs`` (see the module docstring)."""
        raise NotImplementedError


class IdlePolicy(Policy):
    """The zero action: the hand stays still, the fingers go to half opening (0.0375 m)."""

    name = "idle"

    def __init__(self, action=None):
        self.action = action

    def act(self, obs, env) -> np.ndarray:
        return np.zeros(7, dtype=np.float32)


class SB3Policy(Policy):
    """Wraps a stable-baselines3 model (anything with ``predict(obs, deterministic)``).

    Args:
        model: e.g. ``stable_baselines3.PPO.load(path)``.
        deterministic: use the mean action (evaluation) instead of sampling.
    """

    name = "sb3"

    def __init__(self, model, deterministic: bool = True, action=None):
        self.model = model
        self.deterministic = deterministic
        self.action = action
        shape = getattr(getattr(model, "observation_space", None), "shape", None)
        self._wants_privileged = shape == (OBS_DIM + PRIVILEGED_DIM,)

    def act(self, obs, env) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        if self._wants_privileged:  # the critic's extra inputs; the actor ignores them
            extra = env.privileged_observation() if env is not None else \
                np.zeros(PRIVILEGED_DIM, dtype=np.float32)
            obs = np.concatenate([obs, extra]).astype(np.float32)
        a, _ = self.model.predict(obs, deterministic=self.deterministic)
        return np.asarray(a, dtype=float).reshape(-1)


PolicyFactory = Callable[..., Policy]

POLICIES: dict[str, str | PolicyFactory] = {
    "idle": "real2sim_policy.policies:IdlePolicy",
    "scripted": "real2sim_policy.scripted:ScriptedPolicy",
}
"""Policy kinds by name: ``"module:attribute"`` of a ``factory(action) -> Policy`` (imported
on first use), or the factory itself."""

DEFAULT_POLICY = ""
"""The default ``policy`` of the CLI and the node: the shipped trained policy of the action
(``models/<action>/policy.zip``) when there is one, else ``scripted``
(:func:`resolve_policy_spec`)."""


def register_policy(name: str, factory: str | PolicyFactory) -> None:
    """Add a policy kind (``"module:attribute"`` of ``factory(action) -> Policy``, or the
    factory) to the registry."""
    POLICIES[name] = factory


def policy_names() -> list[str]:
    """The registered policy kinds, sorted."""
    return sorted(POLICIES)


def policy_choices() -> list[str]:
    """What a ``policy`` argument may be: a kind, or a file with a known suffix."""
    return policy_names() + [f"FILE{s}" for s in POLICY_FILE_LOADERS]


def resolve_policy_spec(spec: str, action, models_dir=None) -> str:
    """``spec``, or for :data:`DEFAULT_POLICY` the shipped ``models/<action>/policy.zip`` if
    present, else ``"scripted"``.

    ``models_dir`` defaults to the installed/bundled ``models`` folder
    (:func:`real2sim_core.resources.resource_dir`).
    """
    if spec:
        return str(spec)
    if models_dir is None:
        from real2sim_core.resources import resource_dir

        try:
            models_dir = resource_dir("models")
        except InputError:
            return "scripted"
    shipped = Path(models_dir) / get_action(action).name / "policy.zip"
    return str(shipped) if shipped.is_file() else "scripted"


def stamp_policy_zip(path, action, world: dict | None = None) -> None:
    """Record ``action`` (and the world settings ``world``, see :func:`policy_world`) inside
    policy zip ``path`` (member :data:`ZIP_METADATA_NAME`)."""
    name = get_action(action).name
    record = {"action": name, **({"world": _checked_world(world, path)} if world else {})}
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        present = ZIP_METADATA_NAME in z.namelist()
    if present:  # rewrite the archive without the old member
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as d:
            for item in src.infolist():
                if item.filename != ZIP_METADATA_NAME:
                    d.writestr(item, src.read(item.filename))
        tmp.replace(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(ZIP_METADATA_NAME, json.dumps(record))


def _zip_record(path) -> dict | None:
    """The record inside policy zip ``path`` (None when it has none)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            if ZIP_METADATA_NAME not in z.namelist():
                return None
            raw = z.read(ZIP_METADATA_NAME)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a policy zip archive ({e}); pass a policy.zip written "
                         "by `real2sim train`") from None
    try:
        info = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        info = None
    if not isinstance(info, dict):
        raise InputError(f"{path}: its {ZIP_METADATA_NAME} is not a JSON object "
                         '({"action": NAME, ...}); re-stamp it or retrain')
    return info


def policy_zip_action(path) -> str | None:
    """The action recorded inside policy zip ``path``, or None when it records none.

    Raises:
        InputError: ``path`` is not a zip archive, or its record is unreadable.
    """
    info = _zip_record(path)
    if info is None:
        return None
    if not isinstance(info.get("action"), str):
        raise InputError(f"{path}: its {ZIP_METADATA_NAME} does not name an action "
                         '({"action": NAME})')
    return info["action"]


def _checked_world(world, path) -> dict[str, float]:
    """``world`` as ``{field: float}`` with only :data:`POLICY_WORLD_FIELDS` keys."""
    from .env_config import POLICY_WORLD_FIELDS

    if not isinstance(world, dict):
        raise InputError(f"{path}: its world settings must be a JSON object, got {world!r}")
    unknown = sorted(set(world) - set(POLICY_WORLD_FIELDS))
    if unknown:
        raise InputError(f"{path}: unknown world setting(s) {', '.join(unknown)} (known: "
                         f"{', '.join(POLICY_WORLD_FIELDS)}); retrain with this version")
    out = {}
    for k, v in world.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise InputError(f"{path}: world setting {k} = {v!r} is not a finite number")
        out[k] = float(v)
    return out


def policy_world(spec) -> dict[str, float]:
    """The world settings policy ``spec`` was trained in (``{}`` for a kind such as
    ``scripted``, or a zip that records none: it was trained in the default world).

    Raises:
        InputError: the record is unreadable or names unknown settings.
    """
    path = Path(str(spec))
    if path.suffix != ".zip" or not path.is_file():
        return {}
    info = _zip_record(path) or {}
    return _checked_world(info.get("world", {}), path)


def env_config_for_policy(spec, env_config):
    """``env_config`` (an :class:`~real2sim_policy.env_config.EnvConfig`) with the world
    settings policy ``spec`` was trained in (:func:`policy_world`): the env it acts in."""
    from dataclasses import replace

    from .env_config import EnvConfig

    world = policy_world(spec)
    cfg = env_config or EnvConfig()
    return replace(cfg, **world) if world else cfg


def _check_trained_action(path: Path, action) -> None:
    """Refuse a policy zip of another action, or one that names no action at all."""
    want = get_action(action).name
    trained, source = None, ""
    if zipfile.is_zipfile(path):
        trained, source = policy_zip_action(path), f"{ZIP_METADATA_NAME} inside the zip"
    meta = path.with_suffix(".json")
    if trained is None and meta.is_file():
        info = read_json(meta, "policy metadata (policy.json)")
        trained = info.get("action") if isinstance(info, dict) else None
        source = meta.name
    if not trained:
        raise InputError(
            f"{path}: cannot tell which action this policy was trained for (no "
            f"{ZIP_METADATA_NAME} inside the zip, no {meta.name} with an \"action\" beside "
            f"it); use a policy written by `real2sim train`, or write {meta.name} = "
            f'{{"action": "{want}"}} beside it if it really is a {want} policy')
    if get_action(trained).name != want:
        raise InputError(
            f"{path}: this policy was trained for {get_action(trained).name!r}, not for "
            f"{want!r} (from {source})"
        )


def load_sb3_policy(path: Path, action) -> Policy:
    """A stable-baselines3 PPO ``.zip`` trained for ``action`` as a :class:`SB3Policy`."""
    _check_trained_action(path, action)
    try:
        from stable_baselines3 import PPO
    except ImportError as e:  # pragma: no cover - sb3 is a declared dependency
        raise InputError(f"{path}: loading a .zip policy needs stable-baselines3 ({e})") from None
    try:
        try:
            model = PPO.load(str(path), device="cpu")
        except Exception:  # noqa: BLE001 - retry with our policy class (its pickle is by value)
            model = PPO.load(str(path), device="cpu",
                             custom_objects={"policy_class": AsymmetricActorCriticPolicy()})
    except Exception as e:  # noqa: BLE001 - any unreadable file is an input error here
        raise InputError(f"{path}: cannot load as a stable-baselines3 PPO model "
                         f"({type(e).__name__}: {e})") from None
    shape = getattr(model.observation_space, "shape", None)
    if shape not in ((OBS_DIM,), (OBS_DIM + PRIVILEGED_DIM,)):
        raise InputError(f"{path}: the model observes shape {shape}; this env gives "
                         f"({OBS_DIM},) (or {OBS_DIM + PRIVILEGED_DIM} with the privileged "
                         "critic inputs)")
    return SB3Policy(model, action=action)


POLICY_FILE_LOADERS: dict[str, str | Callable[[Path, object], Policy]] = {
    ".zip": "real2sim_policy.policies:load_sb3_policy"}
"""Policy-file loaders by suffix: ``loader(path, action) -> Policy`` (the extension point for
other trained-policy formats)."""


def check_policy_spec(spec: str, action) -> None:
    """Everything :func:`make_policy` checks except loading the model (cheap: for start-up and
    parameter validation).

    Raises:
        UnknownNameError: an unknown action, policy name or file type.
        InputError: a missing file, or a policy zip of another action (or of none).
    """
    action = get_action(action)
    spec = str(spec)
    if spec in POLICIES:
        return
    path = Path(spec)
    if not (path.suffix or "/" in spec):
        raise UnknownNameError("policy", spec, policy_choices())
    if path.suffix.lower() not in POLICY_FILE_LOADERS:
        raise UnknownNameError("policy file type", path.suffix or spec, list(POLICY_FILE_LOADERS))
    if not path.is_file():
        raise InputError(f"policy file {path} does not exist")
    if path.suffix.lower() == ".zip":
        _check_trained_action(path, action)


def make_policy(spec: str, action) -> Policy:
    """A policy from a registry name (``idle``, ``scripted``) or a policy file path.

    Raises:
        UnknownNameError: an unknown name (lists the known kinds and file suffixes).
        InputError: a missing/unreadable file, or a policy trained for another action.
    """
    action = get_action(action)
    spec = str(spec)
    if spec in POLICIES:
        return resolve_entry(POLICIES[spec])(action)
    path = Path(spec)
    if path.suffix or "/" in spec:
        loader = POLICY_FILE_LOADERS.get(path.suffix.lower())
        if loader is None:
            raise UnknownNameError("policy file type", path.suffix or spec,
                                   list(POLICY_FILE_LOADERS))
        if not path.is_file():
            raise InputError(f"policy file {path} does not exist")
        return resolve_entry(loader)(path, action)
    raise UnknownNameError("policy", spec, policy_choices())
