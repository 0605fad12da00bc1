"""Silencing pybullet's banner: it prints its build time on stdout (file descriptor 1, from C)
when a client connects, which would mix into the CLI's output and the progress bars.

:func:`quiet_stdout` is a context manager that points fd 1 at ``os.devnull`` for its body;
:func:`quiet_env` builds a :class:`~real2sim_policy.env.GripperEnv` inside it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

__all__ = ["quiet_stdout", "quiet_env"]


@contextmanager
def quiet_stdout():
    """Send file descriptor 1 (C-level stdout) to ``os.devnull`` while the body runs."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(1)
        os.dup2(devnull, 1)
    except OSError:  # pragma: no cover - no fd 1 to redirect: nothing to silence
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def quiet_env(action, env_config=None, sampler=None):
    """A :class:`~real2sim_policy.env.GripperEnv` built without pybullet's banner."""
    from .env import GripperEnv

    with quiet_stdout():
        return GripperEnv(action, env_config, sampler)
