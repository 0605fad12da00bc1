"""real2sim_policy: the pybullet gripper world, video rewards, policies and the paper's benchmark.

A plain-Python library (no rclpy): :class:`GripperEnv` (METHOD section 5), :class:`DemoReward`
(section 6), the policy interface and registry (:func:`make_policy`: ``idle``, ``scripted``,
policy files), rollouts (:func:`run_rollout`) and the benchmark (:func:`run_benchmark`,
section 8 / appendix B). ROS adapters live in ``policy_node``.
"""

import importlib

_EXPORTS = {
    "benchmark": ("BenchmarkConfig", "resolve_spec", "run_benchmark", "wilson_interval"),
    "env": ("GripperEnv",),
    "env_config": ("EnvConfig", "NonFiniteActionError", "SamplerConfig", "SimState",
                   "StartState"),
    "policies": ("POLICIES", "IdlePolicy", "Policy", "SB3Policy", "make_policy",
                 "register_policy"),
    "reward": ("DemoReward", "RewardConfig", "RewardTerm"),
    "rollout": ("Rollout", "load_start_states", "rollout_columns", "run_rollout"),
    "scripted": ("ScriptedConfig", "ScriptedPolicy"),
    "train": ("train_policy",),
    "train_config": ("TrainConfig",),
    "demos": ("load_demos",),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}


def __getattr__(name):
    """Import the exports lazily (pybullet and torch are heavy; the CLI's --help needs
    neither)."""
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'real2sim_policy' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{mod}", __name__), name)


__all__ = [
    "POLICIES",
    "BenchmarkConfig",
    "DemoReward",
    "EnvConfig",
    "GripperEnv",
    "IdlePolicy",
    "NonFiniteActionError",
    "Policy",
    "RewardConfig",
    "RewardTerm",
    "Rollout",
    "SB3Policy",
    "SamplerConfig",
    "ScriptedConfig",
    "ScriptedPolicy",
    "SimState",
    "StartState",
    "TrainConfig",
    "load_demos",
    "load_start_states",
    "make_policy",
    "register_policy",
    "resolve_spec",
    "rollout_columns",
    "run_benchmark",
    "run_rollout",
    "train_policy",
    "wilson_interval",
]
