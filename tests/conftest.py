"""Test isolation: every test session gets its own ROS domain, ROS_HOME and quick discovery.

The suite also proves the repository stands on its own: an audit hook records every file this
test process opens, and the session fails if any of them lies beside the checkout (a sibling
folder of the clone) rather than inside it or in the system/venv/temporary directories.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


def _isolate_ros() -> None:
    home = Path(tempfile.mkdtemp(prefix="real2sim_ros_home_"))
    os.environ["ROS_HOME"] = str(home)
    os.environ["ROS_LOG_DIR"] = str(home / "log")
    # pytest-xdist workers or parallel CI jobs must not see each other's nodes
    os.environ["ROS_DOMAIN_ID"] = str(random.Random(os.getpid()).randint(10, 100))
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(REPO / "config"
                                                      / "fastdds_fast_discovery.xml")


_isolate_ros()


def outside_repo(path, repo: Path = REPO) -> bool:
    """True for a path beside the checkout: inside ``repo``'s parent but not inside ``repo``.

    System, virtual-environment and temporary directories live elsewhere and are allowed; a
    sibling folder of the checkout is what a fresh clone does not have.
    """
    try:
        p = Path(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    if not p.is_absolute():
        p = Path.cwd() / p
    p = Path(os.path.normpath(p))
    parent = repo.parent
    return p.is_relative_to(parent) and not p.is_relative_to(repo) and p != parent


OUTSIDE_OPENS: list[str] = []
# Folders beside the checkout when the session starts (a sibling data folder would be one);
# temporary folders the tests make during the session (also when the clone sits in /tmp) are not.
_PRE_EXISTING = {p.name for p in REPO.parent.iterdir()} - {REPO.name}
_TEMP_PREFIXES = ("pytest-of-", "ray", "tmp")


def _audit(event: str, args) -> None:
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(
            args[0], (str, bytes, os.PathLike)) and outside_repo(args[0]):
        path = Path(os.path.normpath(Path.cwd() / os.fsdecode(args[0])))
        top = path.relative_to(REPO.parent).parts[0]
        if top in _PRE_EXISTING and not top.startswith(_TEMP_PREFIXES):
            OUTSIDE_OPENS.append(f"{event} {path}")


sys.addaudithook(_audit)


def pytest_sessionfinish(session, exitstatus):
    if OUTSIDE_OPENS:
        session.exitstatus = 1
        print(f"\nERROR: the tests opened {len(OUTSIDE_OPENS)} path(s) outside the repository "
              f"{REPO} (a fresh clone does not have them):", file=sys.stderr)
        for line in sorted(set(OUTSIDE_OPENS))[:20]:
            print(f"  {line}", file=sys.stderr)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread():
    """No cyclic garbage collection while a test runs; all of it on the main thread after.

    rclpy nodes, contexts and executors a test closes are left in reference cycles. Collected
    whenever an allocation triggers the collector, they were finalized on a background thread
    spinning the next test's executor (inside rclpy's wait); with action clients and servers
    that ``destroy_node()`` had left alive, that crashed the interpreter with a segmentation
    fault in CI (2 of 5 runs of tests/executor/test_executor_node_ros.py on a loaded 2-core
    machine). ``real2sim_core.node_utils.destroy_actions`` now destroys those (0 of 6 runs
    crashed without this fixture); collected here, the rest is finalized once every thread of
    the test has been joined.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's bundled ``data/`` (benchmark start states, Something-Else boxes)."""
    return DATA


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
