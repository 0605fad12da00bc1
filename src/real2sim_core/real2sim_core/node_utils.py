"""What every Real2Sim node shares: QoS profiles, typed parameters, and the main() loop.

This is the one module of ``real2sim_core`` that imports rclpy; the science modules never do.
Nodes declare their parameters from the same dataclass schema the CLI reads from
``config/*.yaml`` (:func:`declare_config`), so a parameter file works for both.
"""

from __future__ import annotations

import sys
import threading
import time
import typing
from array import array

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.action import ActionClient, ActionServer
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from .config import flat_types, flatten, from_flat
from .errors import InputError, Real2SimError

__all__ = ["LATCHED_QOS", "STREAM_QOS", "declare_config", "config_validator", "plain_value",
           "array_parameter_type", "run_node", "SpinSafeActionClient", "BackgroundSpin"]

# Results that late joiners (RViz, the demo's recorder) must still get: latched.
LATCHED_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
# Streams (joint states during execution): reliable, volatile, a short queue.
STREAM_QOS = QoSProfile(depth=50, history=HistoryPolicy.KEEP_LAST,
                        reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE)

_ARRAY_TYPES = {str: Parameter.Type.STRING_ARRAY, float: Parameter.Type.DOUBLE_ARRAY,
                int: Parameter.Type.INTEGER_ARRAY, bool: Parameter.Type.BOOL_ARRAY}


def array_parameter_type(hint) -> Parameter.Type | None:
    """The ROS parameter type of a list/tuple type hint (``list[str]`` -> STRING_ARRAY,
    ``list[float]`` / ``tuple[float, ...]`` -> DOUBLE_ARRAY, ``list[int]`` -> INTEGER_ARRAY,
    ``list[bool]`` -> BOOL_ARRAY); None for other hints."""
    if typing.get_origin(hint) not in (list, tuple):
        return None
    elems = {a for a in typing.get_args(hint) if a is not Ellipsis}
    return _ARRAY_TYPES.get(elems.pop()) if len(elems) == 1 else None


def declare_config(node, config, prefix: str = ""):
    """Declare one ROS parameter per (dotted) field of dataclass ``config`` and read them back.

    Defaults come from ``config``; values given with ``--params-file`` / ``-p`` override them.
    Array parameters take their type from the field's type hint (:func:`array_parameter_type`),
    so an empty default (``list[str] = []``) is a string array, not rclpy's byte array, and a
    ``list[float]`` default of whole numbers is a double array; other parameters take the type
    of their default. Returns a new, validated instance of the schema (invalid values raise
    :class:`~real2sim_core.errors.InputError` naming the parameter).
    """
    flat, hints = flatten(config), flat_types(type(config))
    for name, value in flat.items():
        desc = ParameterDescriptor(description=f"{type(config).__name__}.{name}")
        ptype = array_parameter_type(hints.get(name))
        if ptype is Parameter.Type.DOUBLE_ARRAY and isinstance(value, list):
            value = [float(v) for v in value]
        if ptype is None or (isinstance(value, list) and value):
            node.declare_parameter(prefix + name, value, desc)
        elif node.declare_parameter(prefix + name, ptype, desc).type_ is Parameter.Type.NOT_SET:
            node.set_parameters([Parameter(prefix + name, ptype, list(value or []))])
    values = {name: plain_value(node.get_parameter(prefix + name).value) for name in flat}
    return from_flat(type(config), values, where=f"node {node.get_name()} parameters")

def plain_value(value):
    """A parameter value as the schemas expect it: rclpy hands array parameters over as
    ``array.array`` ('d' for doubles, 'q' for integers); the schemas take lists."""
    if isinstance(value, array):
        return value.tolist()
    return value


def config_validator(node, schema_cls, get_current, on_valid=None, prefix: str = "",
                     check=None):
    """A set-parameters callback that rejects values the schema refuses, with the reason.

    ``get_current()`` returns the node's current config; ``check(old_config, new_config)``
    (optional) may refuse the change with an :class:`InputError` beyond what the schema checks
    (e.g. a folder that cannot be written); ``on_valid(new_config)`` is called with the updated
    config when the change is accepted.
    """

    def callback(params) -> SetParametersResult:
        flat = flatten(get_current())
        for p in params:
            name = p.name[len(prefix):] if p.name.startswith(prefix) else p.name
            if name in flat:
                flat[name] = plain_value(p.value)
        try:
            new = from_flat(schema_cls, flat, where=f"node {node.get_name()} parameters")
            if check is not None:
                check(get_current(), new)
        except InputError as e:
            return SetParametersResult(successful=False, reason=str(e))
        if on_valid is not None:
            on_valid(new)
        return SetParametersResult(successful=True)

    return callback


class SpinSafeActionClient(ActionClient):
    """rclpy's ``ActionClient``, safe to create while an executor spins its node in another
    thread (an executor node creating the clients of the controllers a goal names).

    rclpy's constructor registers the client with the node before it creates the lock its
    ``take_data`` uses (ros2/rclpy#1589, present in the rclpy we pin). An executor thread that
    takes the new client's first message (an action server's latched status) in that window
    raises ``AttributeError`` out of ``spin()``. This client has its lock before it is
    registered and keeps that one lock (the constructor's later assignment is ignored).
    """

    def __init__(self, node, *args, **kwargs):
        self.__dict__["_spin_safe_lock"] = threading.Lock()
        self._logger = node.get_logger().get_child("action_client")
        super().__init__(node, *args, **kwargs)

    @property
    def _lock(self):
        return self.__dict__["_spin_safe_lock"]

    @_lock.setter
    def _lock(self, _value):
        """The lock exists from the start (see the class); a second one is not taken."""


def destroy_actions(node) -> None:
    """Destroy the action clients and servers still registered with ``node``.

    ``Node.destroy_node()`` destroys publishers, subscriptions, services, clients and timers
    but not the node's waitables, so an action client or server outlives its node and context
    and is finalized whenever the garbage collector finds it, on whatever thread runs then (a
    test's executor thread, inside rclpy's wait: that crashed the interpreter). Call it once
    nothing spins the node, before ``destroy_node()``.
    """
    for w in list(node.waitables):
        if isinstance(w, (ActionClient, ActionServer)):
            w.destroy()


# a callback that keeps failing is not retried for ever: this many failures ...
SPIN_ERRORS_MAX = 20
# ... within this many seconds end the node
SPIN_ERRORS_WINDOW = 10.0


def _handed_callbacks(executor) -> list:
    """The callback tasks a :class:`MultiThreadedExecutor` has handed to its worker threads
    and not yet collected (rclpy keeps them in the private ``_futures``; empty for other
    executors)."""
    return list(getattr(executor, "_futures", ()))


def _spin(executor, node) -> str | None:
    """``executor.spin()``; an exception out of a callback or of rclpy's executor is logged
    with its type and message, and the node goes on serving. Returns None at shutdown, or why
    the node stopped: :data:`SPIN_ERRORS_MAX` failures within :data:`SPIN_ERRORS_WINDOW` s."""
    failures: list[float] = []
    while rclpy.ok(context=executor.context):
        try:
            executor.spin()
            return None
        except (KeyboardInterrupt, ExternalShutdownException):
            raise
        except Exception as e:  # noqa: BLE001 - a running node survives a failing callback
            now = time.monotonic()
            failures = [t for t in failures if now - t < SPIN_ERRORS_WINDOW] + [now]
            why = f"{type(e).__name__}: {' '.join(str(e).split()) or 'no message'}"
            if len(failures) >= SPIN_ERRORS_MAX:
                # the failures still running or queued are part of the burst reported here
                # (rclpy would print each one again as "never retrieved" at exit)
                executor.shutdown(timeout_sec=2.0)
                for task in _handed_callbacks(executor):
                    if task.done():
                        task.exception()
                return (f"{len(failures)} callbacks failed within {SPIN_ERRORS_WINDOW:.0f} s, "
                        f"the last with {why}")
            node.get_logger().error(f"a callback failed ({why}); the node keeps serving")
    return None


class BackgroundSpin:
    """Spin ``executor`` in a thread until :meth:`close`, which stops and joins that thread
    before it shuts the executor down (for clients and test doubles that run beside other work).

    A thread still waiting inside rclpy when the interpreter finalizes aborts the process
    (``terminate called without an active exception``, status -6: woken, it cannot take the
    GIL, and ``pthread_exit`` unwinds through rclpy's C++ frames), so the thread waits in
    short slices of ``period`` seconds and is always joined.
    """

    def __init__(self, executor, period: float = 0.05):
        self.executor = executor
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="real2sim-background-spin")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and self.executor.context.ok():
            try:
                self.executor.spin_once(timeout_sec=self._period)
            except ExternalShutdownException:  # the context was shut down (Ctrl-C)
                return

    def close(self, timeout: float = 10.0) -> bool:
        """Stop spinning, join the thread, then shut the executor down (waiting up to
        ``timeout`` s for callbacks still running); True when both finished in time."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._thread.join(timeout)
        # callbacks already handed to a multi-threaded executor's workers finish first: its
        # shutdown() destroys the executor's guard condition before it joins the workers, and
        # a callback still starting then fails on that guard ("cannot use Destroyable")
        handed = _handed_callbacks(self.executor)
        while any(not f.done() for f in handed) and time.monotonic() < deadline:
            time.sleep(0.01)
        done = self.executor.shutdown(timeout_sec=max(0.0, deadline - time.monotonic()))
        return done and not self._thread.is_alive()


def run_node(node_factory, args=None, threads: int = 4) -> None:
    """``main()`` body of a node: init, spin a multi-threaded executor, clean shutdown.

    A node that refuses its start-up parameters (:class:`Real2SimError` from its constructor,
    or rclpy's ``ParameterException`` for a value of the wrong type) prints one line,
    ``<Node>: refused to start: <reason>`` naming the parameter, and exits with status 2,
    without a traceback. A callback that raises is logged and the node keeps serving
    (:func:`_spin`); a burst of failures stops it with one line, ``<Node>: stopped: <why>``,
    and status 1.
    """
    rclpy.init(args=args)
    node = None
    exit_code = 0
    try:
        try:
            node = node_factory()
        except (Real2SimError, ParameterException) as e:
            name = getattr(node_factory, "__name__", "node")
            print(f"{name}: refused to start: {' '.join(str(e).split())}", file=sys.stderr,
                  flush=True)
            try:
                rclpy.try_shutdown()  # also destroys the half-built node
            except Exception:  # noqa: BLE001 - exiting anyway; the message above says why
                pass
            sys.exit(2)
        executor = MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        stopped = _spin(executor, node)
        if stopped is not None:
            name = getattr(node_factory, "__name__", "node")
            print(f"{name}: stopped: {stopped}", file=sys.stderr, flush=True)
            exit_code = 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if exit_code:
        sys.exit(exit_code)

