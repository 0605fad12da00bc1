"""Fixtures of the core tests: ``ros_context``, an rclpy context of its own (a random domain,
logs under the test's folder) for in-process nodes."""

from __future__ import annotations

import random

import pytest


@pytest.fixture
def ros_context(monkeypatch, tmp_path):
    rclpy = pytest.importorskip("rclpy")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(random.randint(100, 200)))
    monkeypatch.setenv("ROS_HOME", str(tmp_path / "ros_home"))
    monkeypatch.setenv("ROS_LOG_DIR", str(tmp_path / "ros_home" / "log"))
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    try:
        yield ctx
    finally:
        rclpy.try_shutdown(context=ctx)
