"""``detectron2`` backend: Mask R-CNN trained on COCO (the paper's segmenter, appendix A.1).

The model is built the standard detectron2 way: ``get_cfg()``, ``merge_from_file`` of a model
zoo config (``model_zoo.get_config_file(name)``) or of a local YAML, weights from the model zoo
(``model_zoo.get_checkpoint_url(name)``, downloaded and cached by detectron2's checkpointer) or
from a local ``.pkl``/``.pth`` file, then ``DefaultPredictor``. detectron2 is imported only
when the backend is constructed; it is not on PyPI (the project's Docker image / GPU machines
carry it).

COCO ``person`` masks cover hand and forearm: they become the hand (``role="hand"``); small
COCO things become objects; furniture and scene classes are ignored
(:data:`~real2sim_perception.detectors.base.COCO_STATIC_CLASSES`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import DetectorUnavailableError, ModelFileError
from .base import COCO_CATEGORIES, Availability, Detector, Instance, role_of_label

__all__ = ["Detectron2Detector", "DEFAULT_MODEL", "instances_from_arrays"]

DEFAULT_MODEL = "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml"
"""Model zoo config of the default Mask R-CNN (ResNet-50 FPN, 3x schedule, COCO)."""

_COCO_NAMES = [n for _, n in COCO_CATEGORIES]


class Detectron2Detector(Detector):
    """Mask R-CNN through detectron2's ``DefaultPredictor``.

    Args:
        config: a model zoo config name (e.g. :data:`DEFAULT_MODEL`) or a local YAML file.
        weights: a local checkpoint file, a URL / ``detectron2://`` path, or None for the model
            zoo weights of ``config`` (needs network access once, then detectron2's cache).
        device: ``"cuda"``, ``"cpu"`` or None (cuda when torch sees a GPU).
        score_threshold: ``MODEL.ROI_HEADS.SCORE_THRESH_TEST``.
        class_names: names of the model's contiguous class ids; None reads them from the
            test dataset's metadata, falling back to COCO's 80 classes.

    Raises:
        DetectorUnavailableError: detectron2 (or torch) does not import here.
        ModelFileError: the config or weight file does not exist / is not a zoo name.
    """

    name = "detectron2"
    hand_covers_forearm = True

    def __init__(self, config: str = DEFAULT_MODEL, weights: str | None = None,
                 device: str | None = None, score_threshold: float = 0.5,
                 class_names: list[str] | None = None):
        available = self.availability()
        if not available.ok:
            raise DetectorUnavailableError(
                f"the detectron2 backend needs detectron2 ({available.detail}); it is not on "
                "PyPI: use the project's Docker image (GPU machines), or pass --detector "
                "precomputed --detections FILE (COCO results of any Mask R-CNN run elsewhere) or "
                "--detector mediapipe --hand-model FILE.task"
            )
        import torch
        from detectron2 import model_zoo
        from detectron2.config import get_cfg
        from detectron2.engine import DefaultPredictor

        cfg = get_cfg()
        cfg_path = Path(str(config)).expanduser()
        zoo_name = None
        if cfg_path.is_file():
            cfg.merge_from_file(str(cfg_path))
        else:
            if cfg_path.suffix.lower() in (".yaml", ".yml", ".py") and (
                    cfg_path.is_absolute() or str(config).startswith(".")):
                raise ModelFileError(f"{config}: detectron2 config file not found")
            try:
                cfg.merge_from_file(model_zoo.get_config_file(str(config)))
            except RuntimeError as e:  # detectron2: "<name> not available in Model Zoo!"
                raise ModelFileError(
                    f"{config!r} is neither a config file nor a detectron2 model zoo name "
                    f"({e}); e.g. {DEFAULT_MODEL}"
                ) from None
            zoo_name = str(config)
        if weights is None:
            if zoo_name is None:
                raise ModelFileError(
                    f"{config}: a local config needs --weights (a .pkl/.pth checkpoint)"
                )
            cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url(zoo_name)
        else:
            w = str(weights)
            if "://" not in w and not Path(w).expanduser().is_file():
                raise ModelFileError(
                    f"{w}: Mask R-CNN weight file not found; pass a local .pkl/.pth checkpoint "
                    f"or leave --weights out to use the model zoo weights of {DEFAULT_MODEL}"
                )
            cfg.MODEL.WEIGHTS = w if "://" in w else str(Path(w).expanduser())
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = float(score_threshold)
        cfg.MODEL.DEVICE = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.cfg = cfg
        self.class_names = list(class_names) if class_names else self._metadata_names(cfg)
        self._predictor = DefaultPredictor(cfg)
        self._input_bgr = str(cfg.INPUT.FORMAT).upper() == "BGR"

    @classmethod
    def availability(cls) -> Availability:
        if importlib.util.find_spec("detectron2") is None:
            return Availability(False, "No module named 'detectron2'")
        return Availability(True, "detectron2 importable")

    @staticmethod
    def _metadata_names(cfg) -> list[str]:
        try:
            from detectron2.data import MetadataCatalog

            names = MetadataCatalog.get(cfg.DATASETS.TEST[0]).thing_classes
            if names:
                return list(names)
        except Exception:  # noqa: BLE001 - metadata is optional; COCO names are the default
            pass
        return list(_COCO_NAMES)

    def detect(self, frame, *, index=0, source_index=None, timestamp=0.0) -> list[Instance]:
        image = np.ascontiguousarray(frame[:, :, ::-1]) if self._input_bgr else frame
        outputs = self._predictor(image)
        inst = outputs["instances"].to("cpu")
        masks = inst.pred_masks.numpy() if inst.has("pred_masks") else None
        return instances_from_arrays(
            inst.pred_boxes.tensor.numpy(), inst.scores.numpy(), inst.pred_classes.numpy(),
            masks, self.class_names)


def instances_from_arrays(boxes, scores, classes, masks, class_names=None) -> list[Instance]:
    """Instances from Mask R-CNN output arrays.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2`` px.
        scores: ``(N,)`` confidences.
        classes: ``(N,)`` contiguous class ids (0 = person for COCO).
        masks: ``(N, H, W)`` bool masks, or None (box-only model).
        class_names: name per contiguous id (COCO's 80 by default).
    """
    names = list(class_names) if class_names else list(_COCO_NAMES)
    out = []
    for i in range(len(scores)):
        c = int(classes[i])
        label = names[c] if 0 <= c < len(names) else f"class{c}"
        m = None if masks is None else np.asarray(masks[i]).astype(bool)
        if m is not None and not m.any():
            continue
        out.append(Instance(box=np.asarray(boxes[i], float), score=float(scores[i]),
                            label=label, role=role_of_label(label), mask=m, category_id=c))
    return out
