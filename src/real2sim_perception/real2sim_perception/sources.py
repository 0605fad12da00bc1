"""The input of an estimate: one source -> :class:`~real2sim_perception.inputs.MaskSequence`.

An estimate starts from exactly one of three sources (:class:`SourceKind`): Something-Else box
annotations plus a video id, a mask folder, or a video run through the detector + tracker front
end. :class:`InputSource` names it, :func:`load_masks` reads it; ``real2sim estimate`` and the
perception node both go through here, so they accept and refuse the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from real2sim_core.trajectory import DEFAULT_FPS

from .config import PerceptionConfig
from .errors import PerceptionInputError
from .inputs import MaskSequence

__all__ = ["SourceKind", "InputSource", "LoadedInput", "load_masks"]


class SourceKind(Enum):
    """Where the masks come from."""

    ANNOTATIONS = "annotations"
    MASKS = "masks"
    VIDEO = "video"


@dataclass
class InputSource:
    """One input source of an estimate (set exactly one of ``annotations``, ``masks``,
    ``video``; anything else raises :class:`PerceptionInputError` on construction).

    Attributes:
        annotations: Something-Else annotation JSON (needs ``video_id``).
        masks: a mask folder (``hand/``, ``object0/`` [, ``object1/``] of PNGs).
        video: a video file or frame folder for the front end.
        video_id: the video's id (annotations: its key in the file; else stored in the
            trajectory).
        image_width: frame width of annotations, px (None: inferred).
        fps: frame rate of boxes / masks, or the rate a video is resampled to, frames per
            second (None: 12, a mask folder's ``meta.json``, ``frontend.fps``).
    """

    annotations: str = ""
    masks: str = ""
    video: str = ""
    video_id: str = ""
    image_width: int | None = None
    fps: float | None = None

    def __post_init__(self):
        given = [k for k in SourceKind if getattr(self, k.value)]
        if len(given) != 1:
            raise PerceptionInputError(
                "give exactly one input source (annotations + video id, masks or video); got "
                + (", ".join(k.value for k in given) or "none"))
        if given[0] is SourceKind.ANNOTATIONS and not self.video_id:
            raise PerceptionInputError("Something-Else annotations need a video id "
                                       "(--video-id ID / video_id)")

    @property
    def kind(self) -> SourceKind:
        """The source set."""
        return next(k for k in SourceKind if getattr(self, k.value))


@dataclass
class LoadedInput:
    """What :func:`load_masks` read.

    Attributes:
        masks: the masks (and touch flags) for the estimator.
        kind: the source they came from.
        frontend: the :class:`~real2sim_perception.frontend.FrontendResult` of a video source
            (None otherwise).
    """

    masks: MaskSequence
    kind: SourceKind
    frontend: object | None = None


def load_masks(source: InputSource, action, cfg: PerceptionConfig | None = None, *,
               detector=None, frontend_dir=None) -> LoadedInput:
    """Read the masks of ``source`` for ``action``.

    Args:
        source: the input source.
        action: action name, template id or spec (decides 1 or 2 object tracks).
        cfg: the perception settings (``frontend`` and ``touch`` for a video).
        detector: video only: a :class:`~real2sim_perception.detectors.Detector` (the caller
            closes it), a backend name, or None for ``cfg.frontend.detector``.
        frontend_dir: video only: write the front end's overlay, masks and ``frontend.json``
            there (None: nothing written).

    Raises:
        PerceptionInputError: a source that is missing, ambiguous or cannot be read (the
            specific subclasses of :mod:`real2sim_perception.errors`).
    """
    cfg = cfg or PerceptionConfig()
    kind = source.kind
    if kind is SourceKind.ANNOTATIONS:
        from .something_else import from_something_else

        seq = from_something_else(source.annotations, source.video_id, action,
                                  image_width=source.image_width,
                                  fps=source.fps if source.fps is not None else DEFAULT_FPS)
        return LoadedInput(seq, kind)
    if kind is SourceKind.MASKS:
        from .mask_folder import from_mask_folder

        return LoadedInput(from_mask_folder(source.masks, action, fps=source.fps,
                                            video_id=source.video_id), kind)
    from .frontend import run_frontend, write_frontend_outputs

    fcfg = cfg.frontend if source.fps is None else replace(cfg.frontend, fps=source.fps)
    res = run_frontend(source.video, action, detector or fcfg.detector or None, fcfg,
                       touch=cfg.touch, video_id=source.video_id)
    if frontend_dir is not None:
        write_frontend_outputs(res, Path(frontend_dir))
    return LoadedInput(res.masks, kind, res)
