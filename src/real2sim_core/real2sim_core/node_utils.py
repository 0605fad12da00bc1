"""What every Real2Sim node shares: QoS profiles, typed parameters, and the main() loop.

This is the one module of ``real2sim_core`` that imports rclpy; the science modules never do.
Nodes declare their parameters from the same dataclass schema the CLI reads from
``config/*.yaml`` (:func:`declare_config`), so a parameter file works for both.
"""

from __future__ import annotations

import sys
import typing
from array import array

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from .config import flat_types, flatten, from_flat
from .errors import InputError, Real2SimError

__all__ = ["LATCHED_QOS", "STREAM_QOS", "declare_config", "config_validator", "plain_value",
           "array_parameter_type", "run_node"]

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

def run_node(node_factory, args=None, threads: int = 4) -> None:
    """``main()`` body of a node: init, spin a multi-threaded executor, clean shutdown.

    A node that refuses its start-up parameters (:class:`Real2SimError` from its constructor,
    or rclpy's ``ParameterException`` for a value of the wrong type) prints one line,
    ``<Node>: refused to start: <reason>`` naming the parameter, and exits with status 2,
    without a traceback.
    """
    rclpy.init(args=args)
    node = None
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
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()

