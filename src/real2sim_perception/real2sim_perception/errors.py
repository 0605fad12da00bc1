"""Exceptions of the perception package: all are :class:`real2sim_core.errors.InputError`.

The CLI prints them as one line (no traceback) and the node answers with the message; library
users can catch the specific class. Each message says what to pass or install. Inputs of the
estimator (annotations, mask folders, masks) come first, then the video front end (decoding,
detectors, tracking), then the renderer backends.
"""

from __future__ import annotations

from real2sim_core.errors import InputError

__all__ = [
    "PerceptionInputError",
    "UnknownVideoError",
    "EmptyAnnotationError",
    "AnnotationFormatError",
    "TrackMissingError",
    "BoxOutsideFrameError",
    "MaskShapeError",
    "MaskFolderError",
    "VideoReadError",
    "EmptyVideoError",
    "DetectorUnavailableError",
    "ModelFileError",
    "DetectionFormatError",
    "NoDetectionsError",
    "RendererUnavailableError",
]


class PerceptionInputError(InputError):
    """Base class: input to the state estimator that cannot be used."""


class UnknownVideoError(PerceptionInputError, KeyError):
    """The requested video id is not in the annotation file."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class EmptyAnnotationError(PerceptionInputError):
    """The annotation file or the video's annotation list is empty."""


class AnnotationFormatError(PerceptionInputError):
    """A box annotation with a missing, non-numeric or non-finite field (names the frame, the
    object and the field)."""


class TrackMissingError(PerceptionInputError):
    """The hand or an object has no box/mask in any frame of the video."""


class BoxOutsideFrameError(PerceptionInputError):
    """Every box of a track lies outside the image (after clipping nothing is left)."""


class MaskShapeError(PerceptionInputError):
    """Masks of the wrong size, dimensionality or count."""


class MaskFolderError(PerceptionInputError):
    """A mask folder without the expected layout (track sub-folders of PNG files)."""


# --- the video front end ---------------------------------------------------------------


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


# --- renderer backends ---------------------------------------------------------------------


class RendererUnavailableError(PerceptionInputError):
    """A renderer backend that cannot run here (e.g. pytorch3d not installed)."""
