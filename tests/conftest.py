"""Test isolation: every test session gets its own ROS domain, ROS_HOME and quick discovery."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _isolate_ros() -> None:
    home = Path(tempfile.mkdtemp(prefix="real2sim_ros_home_"))
    os.environ["ROS_HOME"] = str(home)
    os.environ["ROS_LOG_DIR"] = str(home / "log")
    # pytest-xdist workers or parallel CI jobs must not see each other's nodes
    os.environ["ROS_DOMAIN_ID"] = str(random.Random(os.getpid()).randint(10, 100))
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(REPO / "config" / "fastdds_fast_discovery.xml")


_isolate_ros()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (paper data); tests needing it skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present")
    return SHARED


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
