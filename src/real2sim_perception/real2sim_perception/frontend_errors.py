"""Exceptions of the video front end (decoding, detectors, tracking).

All are :class:`real2sim_perception.errors.PerceptionInputError` (hence
:class:`real2sim_core.errors.InputError`): the CLI prints them as one line, and each message says
what to pass or install.
"""

from __future__ import annotations

from .errors import PerceptionInputError

__all__ = [
    "VideoReadError",
    "EmptyVideoError",
    "DetectorUnavailableError",
    "ModelFileError",
    "DetectionFormatError",
    "NoDetectionsError",
]


class VideoReadError(PerceptionInputError):
    """The video file or frame folder does not exist or cannot be decoded."""


class EmptyVideoError(PerceptionInputError):
    """The video decodes but holds no frames (zero-length file or stream)."""


class DetectorUnavailableError(PerceptionInputError):
    """A detector backend whose Python package is not installed here."""


class ModelFileError(PerceptionInputError):
    """A model file / config path that does not exist or that the backend cannot load."""


class DetectionFormatError(PerceptionInputError):
    """A precomputed detection file that is not in a known format."""


class NoDetectionsError(PerceptionInputError):
    """The detector found no usable hand or object in any frame."""
