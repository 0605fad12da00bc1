"""The one choice of input source (CLI and node), and the node's parameters in the schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from real2sim_core.config import ConfigError, flatten
from real2sim_perception.config import PerceptionConfig, load_perception_config
from real2sim_perception.errors import PerceptionInputError
from real2sim_perception.something_else import from_something_else
from real2sim_perception.sources import InputSource, SourceKind, load_masks

ANNOTATIONS = Path(__file__).resolve().parents[2] / "data" / "something_else" / "annotations.json"


def test_exactly_one_source_is_required():
    with pytest.raises(PerceptionInputError, match="exactly one input source.*got none"):
        InputSource()
    with pytest.raises(PerceptionInputError, match="got annotations, masks"):
        InputSource(annotations="a.json", video_id="1", masks="dir")
    with pytest.raises(PerceptionInputError, match="need a video id"):
        InputSource(annotations="a.json")
    assert InputSource(video="v.mp4").kind is SourceKind.VIDEO
    assert InputSource(masks="dir").kind is SourceKind.MASKS


def test_load_masks_reads_annotations_as_the_importer_does():
    loaded = load_masks(InputSource(annotations=str(ANNOTATIONS), video_id="7504"), "put_onto")
    assert loaded.kind is SourceKind.ANNOTATIONS and loaded.frontend is None
    direct = from_something_else(ANNOTATIONS, "7504", "put_onto")
    assert loaded.masks.tracks == ("hand", "object0", "object1") == direct.tracks
    np.testing.assert_array_equal(loaded.masks.masks, direct.masks)
    assert loaded.masks.fps == 12


def test_node_parameters_are_in_the_schema():
    flat = flatten(PerceptionConfig())
    assert flat["out_dir"] == "" and flat["frontend.detector"] == ""
    assert "touch.touch_states" in flat and "touch.dilate_frac" in flat
    cfg = load_perception_config(overrides={"frontend.detector": "precomputed",
                                            "out_dir": "/tmp/x"})
    assert cfg.frontend.detector == "precomputed" and cfg.out_dir == "/tmp/x"
    with pytest.raises(ConfigError, match="FrontendConfig.detector = 'yolo' is not allowed"):
        load_perception_config(overrides={"frontend.detector": "yolo"})
