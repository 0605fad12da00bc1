"""Ray for a run: a local Ray started for it, or an existing cluster joined by address.

Local Ray here is sized for small machines: a small object store (jobs exchange only small
result records; their files go to the output folder), no dashboard, and its own temporary
folder, all stopped again when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile

from ..errors import InputError

__all__ = ["ray_session", "LOCAL_OBJECT_STORE_BYTES", "node_capacity"]

#: object store of a local Ray: results are small records, files go to the output folder
LOCAL_OBJECT_STORE_BYTES = 80 * 1024 ** 2
_ADDRESS = re.compile(r"^(auto|local|[A-Za-z0-9_.\-\[\]:]+:\d+|ray://[^\s]+)$")


def _import_ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is a pinned requirement
        raise InputError(f"ray is not installed ({e}); run `make setup`") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None,
                temp_dir: str | None = None):
    """Connect Ray for the body of a ``with`` block and disconnect (or stop it) afterwards.

    Args:
        address: ``None`` starts a local Ray for this run; ``auto`` joins the cluster started
            on this machine with ``ray start``; ``HOST:PORT`` joins the cluster whose head is
            there (``ray://HOST:PORT`` for Ray Client).
        num_cpus: CPUs of the local Ray (default: all); not allowed with ``address``.
        temp_dir: session folder of a local Ray (default: a new one under the system temp dir).

    Raises:
        InputError: a malformed or unreachable address (before any job starts).
    """
    ray = _import_ray()
    if ray.is_initialized():  # already connected (e.g. inside a caller's session)
        yield ray
        return
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                  configure_logging=True)
    own_tmp = None
    if address is None:
        if temp_dir is None:
            # short path: Ray's Unix sockets live under it (107-byte limit)
            own_tmp = temp_dir = tempfile.mkdtemp(prefix="r2s_ray_", dir="/tmp"
                                                  if os.path.isdir("/tmp") else None)
        kwargs.update(num_cpus=num_cpus, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                      _temp_dir=temp_dir)
    else:
        address = address.strip()
        if not _ADDRESS.match(address):
            raise InputError(f"--address {address!r} is not auto, HOST:PORT or "
                             "ray://HOST:PORT (the address `ray start --head` printed)")
        if num_cpus is not None:
            raise InputError("--num-cpus is for a local Ray; a cluster's CPUs are set where "
                             "its nodes were started (ray start --num-cpus)")
        _probe(address)
        _token_auth_if_available()
        kwargs["address"] = address
    try:
        ray.init(**kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if address is None:
            raise InputError(f"cannot start a local Ray: {msg}") from None
        raise InputError(f"cannot connect to the Ray cluster at {address!r}: {msg}. If it "
                         "uses token authentication, copy its head's ~/.ray/auth_token here (or "
                         "set RAY_AUTH_TOKEN) and set RAY_AUTH_MODE=token; else start one with "
                         "`ray start --head` or drop --address to run on this machine") from None
    try:
        yield ray
    finally:
        ray.shutdown()
        if own_tmp is not None:
            import shutil

            shutil.rmtree(own_tmp, ignore_errors=True)


def _token_auth_if_available() -> None:
    """Joining a cluster: use token authentication when this machine has a Ray token.

    Ray 2.60 turns token authentication on for a head started where ``~/.ray/auth_token``
    exists, but a client connecting by address only sends the token when ``RAY_AUTH_MODE`` is
    ``token``; an explicit ``RAY_AUTH_MODE`` is left alone.
    """
    if os.environ.get("RAY_AUTH_MODE"):
        return
    try:  # Ray's own switch (it also refreshes the config Ray read at import)
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # pragma: no cover - another Ray version
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """Refuse an address with no Ray head listening (``ray.init`` would retry for minutes)."""
    import socket

    hint = ("start one with `ray start --head` (it prints the address) or drop --address to run "
            "on this machine")
    target = address
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address

        try:
            target = canonicalize_bootstrap_address("auto")
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise InputError(f"--address auto: no running Ray cluster found on this machine "
                             f"({str(e).strip().splitlines()[0]}); {hint}") from None
        if not target:
            raise InputError(f"--address auto: no running Ray cluster found on this machine; "
                             f"{hint}")
    elif address == "local":
        return
    hostport = target.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError) as e:
        raise InputError(f"cannot reach a Ray cluster at {address!r} ({hostport}: "
                         f"{e.strerror or e}); {hint}") from None


def node_capacity(ray) -> list[dict]:
    """CPUs and memory (bytes) of each live node of the connected cluster."""
    out = []
    for n in ray.nodes():
        if not n.get("Alive"):
            continue
        r = n.get("Resources", {})
        out.append({"node_id": n.get("NodeID"), "address": n.get("NodeManagerAddress"),
                    "cpus": float(r.get("CPU", 0.0)), "memory": float(r.get("memory", 0.0))})
    return out
