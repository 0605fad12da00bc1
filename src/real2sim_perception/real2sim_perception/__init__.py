"""real2sim_perception: coarse 3D hand-object state trajectories from videos' masks.

A plain-Python library (no rclpy): inputs become a :class:`MaskSequence`
(:func:`from_something_else`, :func:`from_mask_folder`, or :func:`load_masks` for any
:class:`InputSource`), :func:`estimate` fits the Real2Sim state model of METHOD sections 2-3
by differentiable soft-silhouette rendering and returns an :class:`EstimateResult` (raw and
aligned :class:`~real2sim_core.StateTrajectory`, losses, action phase, timing, fit-quality
flags), and :func:`write_outputs` writes its files. Configuration: :class:`PerceptionConfig`,
loaded from ``config/perception.yaml`` by :func:`load_perception_config`.

Names are imported lazily so that ``import real2sim_perception`` stays light (torch is only
loaded when an estimator/renderer name is used).
"""

from __future__ import annotations

import importlib

__all__ = [
    "MaskSequence",
    "from_something_else",
    "from_mask_folder",
    "write_mask_folder",
    "estimate_touch",
    "TouchConfig",
    "InputSource",
    "load_masks",
    "write_outputs",
    "estimate",
    "EstimateResult",
    "PerceptionConfig",
    "load_perception_config",
    "get_renderer",
    "available_renderers",
    "estimate_phase",
    "phase_iou",
    "generate",
    "SyntheticConfig",
]

_WHERE = {
    "MaskSequence": "inputs",
    "from_something_else": "something_else",
    "from_mask_folder": "mask_folder",
    "write_mask_folder": "mask_folder",
    "estimate_touch": "touch",
    "TouchConfig": "touch",
    "InputSource": "sources",
    "load_masks": "sources",
    "write_outputs": "outputs",
    "estimate": "estimator",
    "EstimateResult": "estimator",
    "PerceptionConfig": "config",
    "load_perception_config": "config",
    "get_renderer": "render",
    "available_renderers": "render",
    "estimate_phase": "phase",
    "phase_iou": "phase",
    "generate": "synthetic",
    "SyntheticConfig": "synthetic",
}


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
