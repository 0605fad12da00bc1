"""The policy package's configuration schema (``config/policy.yaml``, section
``real2sim_policy``): simulation, reset sampler, reward, scripted controllers, benchmark and
training."""

from __future__ import annotations

from dataclasses import dataclass, field

from real2sim_core.config import load_config
from real2sim_core.tf_broadcast import TfConfig

from .benchmark import BenchmarkConfig
from .env import EnvConfig, SamplerConfig
from .reward import RewardConfig
from .scripted import ScriptedConfig
from .train import TrainConfig

__all__ = ["PolicyPackageConfig", "load_policy_config"]


@dataclass
class PolicyPackageConfig:
    """All settings of ``real2sim_policy`` (each part validates itself)."""

    env: EnvConfig = field(default_factory=EnvConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    scripted: ScriptedConfig = field(default_factory=ScriptedConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    tf: TfConfig = field(default_factory=TfConfig)


def load_policy_config(path=None, overrides=None) -> PolicyPackageConfig:
    """Load ``path`` (default ``policy.yaml`` in the config directory), section
    ``real2sim_policy``; missing keys keep their defaults."""
    return load_config(PolicyPackageConfig, path or "policy.yaml", section="real2sim_policy",
                       overrides=overrides)
