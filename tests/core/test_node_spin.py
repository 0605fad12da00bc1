"""A running node survives a failing callback (``run_node``), action clients created while
the node spins are complete before the executor can see them (``SpinSafeActionClient``), and a
background spin thread is stopped and joined before its executor shuts down
(``BackgroundSpin``), and a node's action clients and servers are destroyed with it
(``destroy_actions``)."""

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


def test_background_spin_serves_callbacks_and_close_joins_its_thread():
    from rclpy.executors import MultiThreadedExecutor
    from real2sim_core.node_utils import BackgroundSpin

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("background_spin_probe", context=ctx)
    ticked = threading.Event()
    node.create_timer(0.01, ticked.set)
    executor = MultiThreadedExecutor(num_threads=2, context=ctx)
    executor.add_node(node)
    spin = BackgroundSpin(executor)
    try:
        assert ticked.wait(10.0)                    # it serves the node's callbacks
        assert spin.close(timeout=10.0)             # and stops: thread joined, executor down
        assert not spin._thread.is_alive()
        ticked.clear()
        assert not ticked.wait(0.2)                 # nothing is served after close()
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)


CLIENT_EXIT_SCRIPT = textwrap.dedent("""
    import rclpy
    from rclpy.executors import MultiThreadedExecutor

    from real2sim_core.node_utils import BackgroundSpin

    for i in range(5):
        ctx = rclpy.Context()
        rclpy.init(context=ctx)
        node = rclpy.create_node(f"exit_probe_{i}", context=ctx)
        executor = MultiThreadedExecutor(num_threads=3, context=ctx)
        executor.add_node(node)
        spin = BackgroundSpin(executor)
        assert spin.close(timeout=10.0)
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
    print("closed")
""")


def test_a_process_that_closes_its_background_spin_exits_cleanly(tmp_path):
    # before BackgroundSpin, a client process whose daemon spin thread was still inside
    # rclpy's wait at interpreter exit aborted ("terminate called without an active
    # exception", status -6) in about one run in twenty
    script = tmp_path / "exit_probe.py"
    script.write_text(CLIENT_EXIT_SCRIPT)
    for _ in range(3):
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "closed"
        assert "terminate called" not in proc.stderr


def test_destroy_actions_destroys_the_action_clients_and_servers_destroy_node_leaves():
    from rclpy.action import ActionClient, ActionServer
    from real2sim_core.node_utils import destroy_actions

    from real2sim_interfaces.action import ExecutePlan

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("destroy_actions_probe", context=ctx)
    try:
        client = ActionClient(node, ExecutePlan, "probe")
        server = ActionServer(node, ExecutePlan, "probe", lambda goal: ExecutePlan.Result())
        guard = node.create_guard_condition(lambda: None)  # not an action: left to the node
        assert {client, server} <= set(node.waitables)
        destroy_actions(node)
        assert not [w for w in node.waitables if isinstance(w, (ActionClient, ActionServer))]
        assert guard in node.guards
        destroy_actions(node)  # nothing left to destroy: a second call is harmless
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
