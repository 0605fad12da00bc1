"""Registries of things that come in kinds (backends, detectors, policies): lazy entries.

A registry is a plain ``dict`` from a name to a ``"module:attribute"`` string; the module is
imported only when the entry is used, so listing the names (CLI ``choices=``, error messages)
imports nothing heavy and registering creates no import cycle::

    BACKENDS = {"sim": "panda_executor.backends.sim:SimBackend", ...}
    cls = load_entry("backend", "sim", BACKENDS)
"""

from __future__ import annotations

import importlib

from .errors import UnknownNameError

__all__ = ["load_entry", "names", "resolve_entry"]


def names(registry: dict[str, str]) -> list[str]:
    """The registered names, sorted (for ``choices=`` and messages)."""
    return sorted(registry)


def resolve_entry(entry):
    """The object a registry entry names: ``"package.module:attribute"`` (the module imported
    now), or the entry itself when it is already a callable (registered at run time)."""
    if callable(entry):
        return entry
    module, _, attr = str(entry).partition(":")
    return getattr(importlib.import_module(module), attr)


def load_entry(kind: str, name: str, registry: dict[str, str]):
    """The object registered as ``name`` (its module imported on demand).

    Args:
        kind: what the registry holds, for the message (``"backend"``).
        name: the registered name.
        registry: ``name -> "package.module:attribute"``.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the known names).
    """
    if name not in registry:
        raise UnknownNameError(kind, name, registry)
    return resolve_entry(registry[name])
