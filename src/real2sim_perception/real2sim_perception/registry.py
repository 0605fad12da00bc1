"""The registries of the perception package: backend name -> ``"module:Class"``.

Detector backends (:mod:`.detectors`) and silhouette renderers (:mod:`.render`) come in kinds;
each kind is listed here once, as the import path of its class, and the module is imported only
when the backend is looked up (:func:`load_entry`). The CLI's ``choices=`` and the config
validation read the names from these tables, so this module imports nothing heavy.
"""

from __future__ import annotations

from real2sim_core import registry as core_registry

__all__ = ["DETECTORS", "RENDERERS", "AUTO", "load_entry"]

DETECTORS: dict[str, str] = {
    "detectron2": "real2sim_perception.detectors.detectron2_backend:Detectron2Detector",
    "mediapipe": "real2sim_perception.detectors.mediapipe_backend:MediaPipeHandDetector",
    "precomputed": "real2sim_perception.detectors.precomputed:PrecomputedDetector",
}
"""Detector backends of the video front end (:class:`~.detectors.base.Detector` subclasses)."""

RENDERERS: dict[str, str] = {
    "convex": "real2sim_perception.render:ConvexSilhouetteRenderer",
    "pytorch3d": "real2sim_perception.render:Pytorch3DSilhouetteRenderer",
}
"""Differentiable silhouette renderers (:class:`~.render.SilhouetteRenderer` backends)."""

AUTO = "auto"
"""The name that picks a backend by what is installed (renderer: pytorch3d, else convex)."""


def load_entry(table: dict[str, str], kind: str, name: str) -> type:
    """The class registered under ``name`` in ``table``, importing its module now.

    Args:
        table: one of the registries of this module.
        kind: what the table holds, for the message (``"detector"``).
        name: the registry name (case and surrounding blanks ignored).

    Raises:
        UnknownNameError: listing the registered names.
    """
    key = str(name).strip().lower()
    if key not in table:  # the message names what was asked for, as written
        return core_registry.load_entry(kind, str(name), table)
    return core_registry.load_entry(kind, key, table)
