"""Detector backends around the model call: registry, detectron2 config/weights/outputs (on a
stand-in detectron2 package), mediapipe model loading and landmark masks, bad model paths."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from real2sim_core.errors import InputError, UnknownNameError
from real2sim_perception.detectors import detector_names, make_detector
from real2sim_perception.detectors.detectron2_backend import (
    DEFAULT_MODEL,
    Detectron2Detector,
    instances_from_arrays,
)
from real2sim_perception.detectors.mediapipe_backend import (
    MediaPipeHandDetector,
    landmarks_to_mask,
)
from real2sim_perception.errors import (
    DetectionFormatError,
    DetectorUnavailableError,
    ModelFileError,
)
from real2sim_perception.frontend import build_detector


def test_registry_lists_backends_and_rejects_unknown():
    assert {"detectron2", "mediapipe", "precomputed"} <= set(detector_names())
    with pytest.raises(UnknownNameError, match="known detectors: detectron2, mediapipe"):
        make_detector("yolo")


def test_build_detector_says_what_to_pass():
    with pytest.raises(DetectionFormatError, match="--detections FILE"):
        build_detector("precomputed")
    with pytest.raises(ModelFileError, match="--hand-model"):
        build_detector("mediapipe")


def test_mediapipe_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found; pass --hand-model"):
        make_detector("mediapipe", model_path=tmp_path / "hand_landmarker.task")
    assert issubclass(ModelFileError, InputError)


@pytest.mark.skipif(Detectron2Detector.availability().ok, reason="detectron2 is installed here")
def test_detectron2_absent_names_alternatives():
    with pytest.raises(DetectorUnavailableError, match="Docker image.*precomputed.*mediapipe"):
        make_detector("detectron2")


def test_instances_from_mask_rcnn_arrays():
    masks = np.zeros((3, 20, 30), bool)
    masks[0, 2:10, 2:12] = True
    masks[1, 5:9, 20:25] = True  # masks[2] stays empty: dropped
    out = instances_from_arrays(
        boxes=np.array([[2, 2, 12, 10], [20, 5, 25, 9], [0, 0, 1, 1]], float),
        scores=np.array([0.99, 0.8, 0.7]), classes=np.array([0, 41, 60]), masks=masks)
    assert [(d.label, d.role) for d in out] == [("person", "hand"), ("cup", "object")]
    assert out[0].mask.sum() == 80 and out[1].category_id == 41
    table = instances_from_arrays(np.array([[0, 0, 5, 5.0]]), np.array([0.9]),
                                  np.array([60]), None)
    assert table[0].label == "dining table" and table[0].role == "ignore"


_FAKE_D2 = {
    "__init__.py": "__version__ = 'stand-in'\n",
    "config.py": """
        from types import SimpleNamespace as NS
        MERGED = []
        def get_cfg():
            cfg = NS(MODEL=NS(ROI_HEADS=NS(SCORE_THRESH_TEST=0.05), WEIGHTS='', DEVICE='cuda'),
                     INPUT=NS(FORMAT='BGR'), DATASETS=NS(TEST=('coco_2017_val',)))
            cfg.merge_from_file = MERGED.append
            return cfg
        """,
    "model_zoo.py": """
        def get_config_file(name):
            if not name.startswith('COCO-InstanceSegmentation/'):
                raise RuntimeError(f'{name} not available in Model Zoo!')
            return '/zoo/configs/' + name
        def get_checkpoint_url(name):
            return 'https://dl.fbaipublicfiles.com/detectron2/' + name.replace('.yaml', '.pkl')
        """,
    "data.py": """
        from types import SimpleNamespace as NS
        class MetadataCatalog:
            @staticmethod
            def get(name):
                from real2sim_perception.detectors.base import COCO_CATEGORIES
                return NS(thing_classes=[n for _, n in COCO_CATEGORIES])
        """,
    "engine.py": """
        import numpy as np
        CALLS = []
        class _T:
            def __init__(self, a): self.a = a
            def numpy(self): return self.a
        class _Inst:
            def __init__(self, h, w):
                m = np.zeros((2, h, w), bool); m[0, 1:5, 1:6] = True; m[1, 6:9, 6:9] = True
                self.pred_masks = _T(m)
                boxes = _T(np.array([[1, 1, 6, 5], [6, 6, 9, 9.]]))
                self.pred_boxes = type('B', (), {'tensor': boxes})()
                self.scores = _T(np.array([0.98, 0.75]))
                self.pred_classes = _T(np.array([0, 41]))
            def to(self, device): return self
            def has(self, k): return hasattr(self, k)
        class DefaultPredictor:
            def __init__(self, cfg):
                self.cfg = cfg
            def __call__(self, image):
                CALLS.append((self.cfg, image))
                return {'instances': _Inst(*image.shape[:2])}
        """,
}


@pytest.fixture
def fake_detectron2(tmp_path, monkeypatch):
    """A stand-in ``detectron2`` package with the API the backend calls (no model inside)."""
    root = tmp_path / "fake_site"
    pkg = root / "detectron2"
    pkg.mkdir(parents=True)
    for name, src in _FAKE_D2.items():
        (pkg / name).write_text(textwrap.dedent(src))
    monkeypatch.syspath_prepend(str(root))
    for m in [m for m in sys.modules if m == "detectron2" or m.startswith("detectron2.")]:
        monkeypatch.delitem(sys.modules, m)
    yield root
    for m in [m for m in sys.modules if m == "detectron2" or m.startswith("detectron2.")]:
        del sys.modules[m]


def test_detectron2_backend_config_weights_and_outputs(fake_detectron2, tmp_path):
    import detectron2.config as d2config
    import detectron2.engine as d2engine

    det = make_detector("detectron2", device="cpu", score_threshold=0.6)
    assert d2config.MERGED[-1] == "/zoo/configs/" + DEFAULT_MODEL
    assert det.cfg.MODEL.WEIGHTS.startswith("https://dl.fbaipublicfiles.com/detectron2/COCO-")
    assert det.cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST == 0.6 and det.cfg.MODEL.DEVICE == "cpu"
    frame = np.zeros((12, 14, 3), np.uint8)
    frame[..., 0] = 200  # red in RGB
    out = det.detect(frame)
    image = d2engine.CALLS[-1][1]
    assert image[0, 0, 2] == 200 and image[0, 0, 0] == 0  # handed over as BGR
    assert [(d.label, d.role) for d in out] == [("person", "hand"), ("cup", "object")]
    assert out[0].mask.sum() == 20 and det.hand_covers_forearm
    # local config + local weights
    cfg = tmp_path / "mask_rcnn.yaml"
    cfg.write_text("MODEL: {}\n")
    weights = tmp_path / "model_final.pkl"
    weights.write_bytes(b"0")
    det2 = make_detector("detectron2", config=str(cfg), weights=str(weights), device="cpu")
    assert d2config.MERGED[-1] == str(cfg) and det2.cfg.MODEL.WEIGHTS == str(weights)
    # bad paths / names
    with pytest.raises(ModelFileError, match="weight file not found"):
        make_detector("detectron2", weights=str(tmp_path / "missing.pkl"))
    with pytest.raises(ModelFileError, match="neither a config file nor a detectron2 model zoo"):
        make_detector("detectron2", config="NotAModel/x.yaml")
    with pytest.raises(ModelFileError, match="needs --weights"):
        make_detector("detectron2", config=str(cfg))
    with pytest.raises(ModelFileError, match="config file not found"):
        make_detector("detectron2", config=str(tmp_path / "absent.yaml"))


def test_landmarks_to_mask_hull_and_dilation():
    xy = np.array([[10, 10], [30, 10], [30, 30], [10, 30], [20, 20]], float)
    tight = landmarks_to_mask(xy, 50, 50, dilate_frac=0.0)
    assert tight[12:29, 12:29].all() and not tight[35:, :].any()
    wide = landmarks_to_mask(xy, 50, 50, dilate_frac=0.2)
    assert wide.sum() > tight.sum() * 1.3 and wide[8, 20] and not tight[8, 20]
    assert not landmarks_to_mask(xy + 200, 50, 50).any()  # outside the frame


def _hand_image(size=256) -> np.ndarray:
    """A frame we make: a skin-coloured open hand (palm, five fingers, forearm) on grey."""
    import cv2

    img = np.full((size, size, 3), 235, np.uint8)
    skin = (188, 140, 120)
    c = (size // 2, int(size * 0.62))
    cv2.ellipse(img, c, (int(size * 0.16), int(size * 0.18)), 0, 0, 360, skin, -1, cv2.LINE_AA)
    for ang, length in ((-150, 0.22), (-110, 0.3), (-90, 0.32), (-70, 0.3), (-40, 0.22)):
        a = np.deg2rad(ang)
        base = (int(c[0] + np.cos(a) * size * 0.12), int(c[1] + np.sin(a) * size * 0.12))
        tip = (int(c[0] + np.cos(a) * size * (0.12 + length)),
               int(c[1] + np.sin(a) * size * (0.12 + length)))
        cv2.line(img, base, tip, skin, int(size * 0.06), cv2.LINE_AA)
    cv2.rectangle(img, (c[0] - int(size * 0.1), c[1]), (c[0] + int(size * 0.1), size), skin, -1)
    return img


MP_MODEL = os.environ.get("REAL2SIM_MEDIAPIPE_HAND_MODEL", "")


@pytest.mark.skipif(
    not MP_MODEL or not MediaPipeHandDetector.availability().ok,
    reason="set REAL2SIM_MEDIAPIPE_HAND_MODEL=/path/hand_landmarker.task and pip install "
    "mediapipe to run the hand landmarker (mediapipe ships no model files and none can be "
    "downloaded here)",
)
def test_mediapipe_hand_landmarker_on_a_frame_we_make():
    img = _hand_image()
    det = make_detector("mediapipe", model_path=Path(MP_MODEL), video_mode=False)
    try:
        out = det.detect(img)
    finally:
        det.close()
    assert out, "the hand landmarker found no hand in the drawn hand"
    hand = out[0]
    assert hand.role == "hand" and hand.mask.any() and 0 < hand.score <= 1
    skin = (np.abs(img.astype(int) - (188, 140, 120)).sum(-1) < 40)
    inter = (hand.mask & skin).sum()
    assert inter / skin.sum() > 0.3 and inter / hand.mask.sum() > 0.3


def test_mediapipe_rejects_a_file_that_is_not_a_model(tmp_path):
    if not MediaPipeHandDetector.availability().ok:
        pytest.skip("mediapipe is not installed (pip install mediapipe)")
    bad = tmp_path / "hand_landmarker.task"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="cannot load this hand landmarker model"):
        make_detector("mediapipe", model_path=bad)
