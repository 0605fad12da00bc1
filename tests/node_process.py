"""A node started as its own process (its console script) and a client node in this process,
for tests that talk to a real node over DDS."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def console_script(name: str) -> str:
    """The console script ``name`` of the environment running the tests."""
    return str(Path(sys.executable).with_name(name))


def die_with_the_tests() -> None:
    """``preexec_fn`` of a node process: the kernel sends it SIGTERM when the test process
    dies (a crashed or killed pytest run leaves no node behind to answer the next run's
    clients)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_for(pred, timeout: float, what: str, proc=None, log=None):
    """Poll ``pred`` until true; fails with ``what`` (and the process log) after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = Path(log).read_text()[-3000:] if log is not None and Path(log).exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


class NodeProcess:
    """``with NodeProcess("policy_node", ["-p", "action:=pick_up"], log) as n: ...``.

    The node's console output goes to ``log``; :meth:`wait_for_log` polls it.
    """

    def __init__(self, script: str, ros_args: list[str], log: Path):
        self.cmd = [console_script(script), "--ros-args", *ros_args]
        self.log = Path(log)
        self.proc = None

    def __enter__(self):
        self._f = self.log.open("w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._f, stderr=subprocess.STDOUT,
                                     env=dict(os.environ), preexec_fn=die_with_the_tests)
        return self

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_for_log(self, fragment: str, timeout: float = 60.0) -> None:
        wait_for(lambda: fragment in self.text(), timeout, f"{fragment!r} in the node's log",
                 self.proc, self.log)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._f.close()


class Client:
    """An rclpy node of its own context, spun in the calling thread by :meth:`wait`."""

    def __init__(self, name: str):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(name, context=self.ctx)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)

    def wait(self, future, timeout: float, what: str):
        end = time.monotonic() + timeout
        while not future.done() and time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.05)
        assert future.done(), f"timed out after {timeout} s waiting for {what}"
        return future.result()

    def spin_until(self, pred, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not pred() and time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.05)
        assert pred(), f"timed out after {timeout} s waiting for {what}"

    def round_trip(self, server_node: str, timeout: float = 30.0, attempt: float = 5.0) -> None:
        """Wait until ``server_node`` answers a (retried, idempotent) parameter request.

        ``wait_for_server`` says that this client sees a server, not that the server sees this
        client, and Fast DDS drops a response whose reader the server has not matched within
        100 ms: a goal sent at once can go unanswered on a loaded machine. One answered round
        trip completes the server's discovery of this participant (its endpoints are announced
        together); goals, which must not be resent, go after it."""
        from rcl_interfaces.srv import GetParameters

        srv = self.node.create_client(GetParameters, f"/{server_node}/get_parameters")
        try:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                fut = srv.call_async(GetParameters.Request(names=[]))
                t_try = min(end, time.monotonic() + attempt)
                while not fut.done() and time.monotonic() < t_try:
                    self.executor.spin_once(timeout_sec=0.05)
                if fut.done():
                    return
            raise AssertionError(f"{server_node} did not answer within {timeout} s")
        finally:
            self.node.destroy_client(srv)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)
