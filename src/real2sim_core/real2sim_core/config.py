"""Typed configuration: dataclass schemas that both the ROS nodes and the CLI fill from YAML.

The files in ``config/`` are ROS 2 parameter files::

    real2sim_perception:            # node name
      ros__parameters:
        estimator:                  # nested keys = dotted parameter names (estimator.lr)
          lr: 0.01

Each package defines its schema as (nested) dataclasses with typed defaults and validation in
``__post_init__``. :func:`load_config` reads a section of such a file into a schema (unknown
keys and wrong types are refused with the file, key and allowed values); :func:`flatten` and
:func:`from_flat` convert to and from the dotted ``name -> value`` form that ROS parameters use.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError
from .textio import read_text

__all__ = [
    "ConfigError",
    "load_config",
    "from_dict",
    "from_flat",
    "flatten",
    "to_dict",
    "config_dir",
    "check_range",
    "check_choice",
    "parse_overrides",
]

T = TypeVar("T")


class ConfigError(InputError):
    """A configuration value or file that cannot be used."""


def check_range(obj, name: str, lo=None, hi=None, *, lo_open=False, hi_open=False) -> None:
    """Raise :class:`ConfigError` unless ``lo <= obj.name <= hi`` (open bounds if asked)."""
    v = getattr(obj, name)
    cls = type(obj).__name__
    bad = (
        (lo is not None and (v <= lo if lo_open else v < lo))
        or (hi is not None and (v >= hi if hi_open else v > hi))
        or v != v  # NaN
    )
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise ConfigError(
            f"{cls}.{name} = {v!r} is out of range; allowed {lb}{'-inf' if lo is None else lo}, "
            f"{'inf' if hi is None else hi}{rb}"
        )


def check_choice(obj, name: str, choices) -> None:
    """Raise :class:`ConfigError` unless ``obj.name`` is one of ``choices``."""
    v = getattr(obj, name)
    if v not in choices:
        raise ConfigError(
            f"{type(obj).__name__}.{name} = {v!r} is not allowed; choose one of "
            f"{', '.join(map(repr, choices))}"
        )


def parse_overrides(items, example: str = "train.seed=3") -> dict[str, Any]:
    """``--set KEY=VALUE`` items -> dotted overrides for :func:`load_config`.

    Args:
        items: strings such as ``["ik.damping=0.05", "sim.video=false"]`` (None: none).
        example: a valid item of the calling command, shown in the error message.

    Returns:
        ``{"ik.damping": 0.05, "sim.video": False}``: the values parsed as YAML scalars/lists.

    Raises:
        ConfigError: an item without ``=`` or a key, or a value that is not valid YAML.
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. {example}")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML "
                              f"({' '.join(str(e).split())})") from None
    return out


def config_dir() -> Path:
    """The ``config/`` directory (source checkout, installed share directory or
    ``$REAL2SIM_CONFIG``); see :mod:`real2sim_core.resources`."""
    from .resources import resource_dir

    try:
        return resource_dir("config")
    except InputError as e:
        raise ConfigError(f"{e}; or pass --config FILE explicitly") from None


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value, typ, where: str):
    origin = typing.get_origin(typ)
    if dataclasses.is_dataclass(typ):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping of {typ.__name__} fields, "
                              f"got {value!r}")
        return from_dict(typ, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(typ)
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is typing.Union or str(origin) == "types.UnionType":
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where)
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if typ is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def from_dict(cls: type[T], data: dict, where: str | None = None) -> T:
    """Build dataclass ``cls`` from a nested mapping, refusing unknown keys and wrong types."""
    where = where or cls.__name__
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(names)}"
        )
    kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def to_dict(obj) -> dict:
    """Nested plain-dict form of a (nested) dataclass."""
    return dataclasses.asdict(obj)


def flatten(obj, prefix: str = "") -> dict[str, Any]:
    """Dotted ``name -> value`` form (ROS parameter names) of a nested dataclass."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(v):
            out.update(flatten(v, key + "."))
        else:
            out[key] = list(v) if isinstance(v, tuple) else v
    return out


def flat_types(cls, prefix: str = "") -> dict[str, Any]:
    """Dotted ``name -> type hint`` of the leaf fields of dataclass ``cls`` (as :func:`flatten`
    names them)."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name, Any)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            out.update(flat_types(hint, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = hint
    return out


def from_flat(cls: type[T], flat: dict[str, Any], where: str | None = None) -> T:
    """Inverse of :func:`flatten`: dotted names -> nested dataclass (missing keys: defaults)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return from_dict(cls, nested, where)


def load_config(cls: type[T], path, section: str | None = None,
                overrides: dict[str, Any] | None = None) -> T:
    """Load schema ``cls`` from a ROS parameter YAML file.

    Args:
        cls: the dataclass schema.
        path: YAML file; a bare file name (``"policy.yaml"``) is looked up in :func:`config_dir`.
        section: the node name whose ``ros__parameters`` fill the schema (``None`` = the file's
            top level is the schema itself).
        overrides: dotted ``name -> value`` pairs applied on top (e.g. from CLI flags).
    """
    import yaml

    if path is None:
        raise ConfigError(f"load_config({cls.__name__}): no config file given")
    path = Path(path)
    if not path.is_file() and path.parent == Path("."):
        path = config_dir() / path
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        doc = yaml.safe_load(read_text(path, "parameter YAML", ConfigError)) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    data = doc
    if section is not None:
        if section not in doc:
            raise ConfigError(
                f"{path}: no section {section!r}; sections: {', '.join(map(str, doc)) or 'none'}"
            )
        data = (doc[section] or {}).get("ros__parameters", {}) or {}
    flat = flatten(from_dict(cls, data, f"{path}:{section or ''}"))
    if overrides:
        unknown = sorted(set(overrides) - set(flat))
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {', '.join(unknown)} for {cls.__name__}; valid: "
                f"{', '.join(sorted(flat))}"
            )
        flat.update(overrides)
    return from_flat(cls, flat, f"{path}:{section or ''}")
