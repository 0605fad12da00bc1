"""The policy package's configuration schema (``config/policy.yaml``, section
``real2sim_policy``): the node's job parameters (``action``, ``policy``, ``out_dir``),
simulation, reset sampler, reward, scripted controllers, benchmark and training. The node
declares one ROS parameter per field; the CLI reads the same file."""

from __future__ import annotations

from dataclasses import dataclass, field

from real2sim_core.config import ConfigError, load_config
from real2sim_core.errors import Real2SimError
from real2sim_core.tf_broadcast import TfConfig

from .benchmark import BenchmarkConfig
from .env_config import EnvConfig, SamplerConfig
from .policies import DEFAULT_POLICY, check_policy_spec, resolve_policy_spec
from .reward import RewardConfig
from .scripted import ScriptedConfig
from .train_config import TrainConfig

__all__ = ["PolicyPackageConfig", "load_policy_config"]


@dataclass
class PolicyPackageConfig:
    """All settings of ``real2sim_policy`` (each part validates itself).

    Attributes:
        action: the action the node rolls out when a request names none.
        policy: the policy of rollouts: :data:`~real2sim_policy.policies.DEFAULT_POLICY`
            (``""``: the shipped ``models/<action>/policy.zip`` if present, else the scripted
            reference controller), ``idle``, ``scripted`` or a policy file of ``action``; the
            CLI's ``--policy`` default.
        out_dir: where the node writes ``rollout.csv`` and ``trained/<action>/`` ("" = no
            rollout CSV, trainings in a temporary folder).
    """

    action: str = "push_left_to_right"
    policy: str = DEFAULT_POLICY
    out_dir: str = ""
    env: EnvConfig = field(default_factory=EnvConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    scripted: ScriptedConfig = field(default_factory=ScriptedConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    tf: TfConfig = field(default_factory=TfConfig)

    def __post_init__(self):
        from real2sim_core.actions import get_action

        try:
            self.action = get_action(self.action).name
        except Real2SimError as e:
            raise ConfigError(f"parameter action = {self.action!r}: {e}") from None
        try:
            check_policy_spec(resolve_policy_spec(self.policy, self.action), self.action)
        except Real2SimError as e:
            raise ConfigError(f"parameter policy = {self.policy!r}: {e} (give idle, scripted, "
                              f"a policy.zip of {self.action}, or \"\" for the shipped one)"
                              ) from None


def load_policy_config(path=None, overrides=None) -> PolicyPackageConfig:
    """Load ``path`` (default ``policy.yaml`` in the config directory), section
    ``real2sim_policy``; missing keys keep their defaults."""
    return load_config(PolicyPackageConfig, path or "policy.yaml", section="real2sim_policy",
                       overrides=overrides)
