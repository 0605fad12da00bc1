"""declare_config types array parameters from the schema's type hints: an empty ``list[str]``
default (the perception config's ``frontend.selection.object_labels``) takes a string list, at
start-up and on SetParameters; a ``list[float]`` default of whole numbers takes doubles."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.parameter import Parameter  # noqa: E402
from real2sim_core.node_utils import (  # noqa: E402
    array_parameter_type,
    config_validator,
    declare_config,
)

LABELS = "frontend.selection.object_labels"


@dataclass
class _Inner:
    names: list[str] = field(default_factory=list)
    gains: list[float] = field(default_factory=lambda: [1, 2])
    counts: tuple[int, ...] = ()


@dataclass
class _Schema:
    inner: _Inner = field(default_factory=_Inner)
    flags: list[bool] = field(default_factory=list)
    title: str = "x"


def test_array_parameter_types_come_from_the_hints():
    assert array_parameter_type(list[str]) is Parameter.Type.STRING_ARRAY
    assert array_parameter_type(list[float]) is Parameter.Type.DOUBLE_ARRAY
    assert array_parameter_type(tuple[float, float, float]) is Parameter.Type.DOUBLE_ARRAY
    assert array_parameter_type(tuple[int, ...]) is Parameter.Type.INTEGER_ARRAY
    assert array_parameter_type(list[bool]) is Parameter.Type.BOOL_ARRAY
    assert array_parameter_type(str) is None and array_parameter_type(list) is None


def test_empty_list_defaults_are_typed_arrays(ros_context):
    node = rclpy.create_node("test_node_parameters", context=ros_context)
    try:
        cfg = declare_config(node, _Schema())
        assert cfg.inner.names == [] and cfg.flags == [] and list(cfg.inner.gains) == [1.0, 2.0]
        types = {n: node.get_parameter(n).type_ for n in
                 ("inner.names", "inner.gains", "inner.counts", "flags", "title")}
        assert types == {"inner.names": Parameter.Type.STRING_ARRAY,
                         "inner.gains": Parameter.Type.DOUBLE_ARRAY,
                         "inner.counts": Parameter.Type.INTEGER_ARRAY,
                         "flags": Parameter.Type.BOOL_ARRAY, "title": Parameter.Type.STRING}
        res = node.set_parameters([Parameter("inner.names", value=["cup", "bowl"]),
                                   Parameter("inner.gains", value=[0.5, 1.5])])
        assert all(r.successful for r in res), [r.reason for r in res]
        assert list(node.get_parameter("inner.names").value) == ["cup", "bowl"]
        bad = node.set_parameters([Parameter("inner.names", value=[1, 2])])[0]
        assert not bad.successful  # a string array still refuses integers
    finally:
        node.destroy_node()


def test_perception_node_schema_accepts_object_labels(ros_context):
    from real2sim_perception.config import PerceptionConfig

    node = rclpy.create_node("test_perception_parameters", context=ros_context,
                             parameter_overrides=[Parameter(LABELS, value=["cup"])])
    try:
        cfg = declare_config(node, PerceptionConfig())
        assert list(cfg.frontend.selection.object_labels) == ["cup"]
        state = {"cfg": cfg}
        node.add_on_set_parameters_callback(config_validator(
            node, PerceptionConfig, lambda: state["cfg"], lambda c: state.update(cfg=c)))
        res = node.set_parameters([Parameter(LABELS, value=["bowl", "cup"])])[0]
        assert res.successful, res.reason
        assert list(state["cfg"].frontend.selection.object_labels) == ["bowl", "cup"]
    finally:
        node.destroy_node()

    fresh = rclpy.create_node("test_perception_defaults", context=ros_context)
    try:
        assert declare_config(fresh, PerceptionConfig()).frontend.selection.object_labels == []
        assert fresh.get_parameter(LABELS).type_ is Parameter.Type.STRING_ARRAY
        res = fresh.set_parameters([Parameter(LABELS, value=["cup"])])[0]
        assert res.successful, res.reason
    finally:
        fresh.destroy_node()
