"""A running node survives a failing callback (``run_node``), and action clients created while
the node spins are complete before the executor can see them (``SpinSafeActionClient``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import rclpy

NODE_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path

    from rclpy.node import Node

    from real2sim_core.node_utils import run_node

    MODE, TICKS = sys.argv[1], Path(sys.argv[2])

    class Flaky(Node):
        def __init__(self):
            super().__init__("flaky_node")
            self.calls = 0
            self.create_timer(0.02, self.tick)

        def tick(self):
            self.calls += 1
            if MODE == "always" or self.calls == 3:
                raise RuntimeError("boom")
            TICKS.write_text(str(self.calls))
            if self.calls >= 30:
                self.context.try_shutdown()  # the test is over: a clean shutdown

    run_node(Flaky)
""")


def _run(mode: str, tmp_path):
    script = tmp_path / "flaky.py"
    script.write_text(NODE_SCRIPT)
    ticks = tmp_path / "ticks"
    proc = subprocess.run([sys.executable, str(script), mode, str(ticks)], capture_output=True,
                          text=True, timeout=120)
    return proc, ticks


def test_a_callback_that_raises_once_is_logged_and_the_node_keeps_serving(tmp_path):
    proc, ticks = _run("once", tmp_path)
    assert "a callback failed (RuntimeError: boom); the node keeps serving" in proc.stderr
    assert int(ticks.read_text()) >= 29          # it went on ticking after the failure
    assert "Traceback" not in proc.stderr


def test_a_callback_that_keeps_failing_stops_the_node_with_one_line(tmp_path):
    proc, ticks = _run("always", tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "Flaky: stopped: 20 callbacks failed within 10 s, the last with RuntimeError: boom")
    assert not ticks.exists()


def test_spin_safe_action_client_has_its_lock_before_the_executor_can_take_from_it():
    from rclpy.action import ActionClient
    from real2sim_core.node_utils import SpinSafeActionClient

    from real2sim_interfaces.action import ExecutePlan

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("spin_safe_probe", context=ctx)
    seen = {}
    add_waitable = node.add_waitable

    def recording_add_waitable(waitable):
        # the moment a spinning executor may call take_data(), which takes ``_lock``
        lock = getattr(waitable, "_lock", None)
        seen[type(waitable)] = lock
        add_waitable(waitable)

    node.add_waitable = recording_add_waitable
    try:
        client = SpinSafeActionClient(node, ExecutePlan, "probe")
        lock = seen[SpinSafeActionClient]
        assert isinstance(lock, type(threading.Lock()))
        assert client._lock is lock                 # one lock, from registration on
        with client._lock:                          # and it is a working lock
            assert not client._lock.acquire(blocking=False)
        assert isinstance(client, ActionClient)
        client.destroy()
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
