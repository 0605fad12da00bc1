"""Exceptions of the perception package: all are :class:`real2sim_core.errors.InputError`.

The CLI prints them as one line (no traceback); library users can catch the specific class.
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
