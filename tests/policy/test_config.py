"""config/policy.yaml maps onto the typed schema; bad values are refused with field and value."""

from __future__ import annotations

import pytest
from real2sim_core.config import ConfigError
from real2sim_policy.config import PolicyPackageConfig, load_policy_config


def test_shipped_yaml_equals_the_defaults():
    cfg, default = load_policy_config(), PolicyPackageConfig()
    for part in ("env", "sampler", "reward", "scripted"):
        assert getattr(cfg, part) == getattr(default, part), part
    assert cfg.benchmark.workers == 2  # the shipped file runs two workers


def test_overrides_and_bad_values(tmp_path):
    cfg = load_policy_config(overrides={"reward.reduction": "max", "benchmark.workers": 3})
    assert cfg.reward.reduction == "max" and cfg.benchmark.workers == 3
    bad = tmp_path / "policy.yaml"
    bad.write_text("real2sim_policy:\n  ros__parameters:\n    env:\n      substeps: -1\n")
    with pytest.raises(ConfigError, match=r"EnvConfig.substeps = -1 is out of range"):
        load_policy_config(bad)
    bad.write_text("real2sim_policy:\n  ros__parameters:\n    reward:\n      obj_pos: {s: 1}\n")
    with pytest.raises(ConfigError, match="RewardTerm.b is missing"):
        load_policy_config(bad)
    bad.write_text("real2sim_policy:\n  ros__parameters:\n    env:\n      horizn: 10\n")
    with pytest.raises(ConfigError, match="unknown key.*horizn"):
        load_policy_config(bad)
