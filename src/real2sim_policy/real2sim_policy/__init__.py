"""real2sim_policy: the pybullet gripper world, video rewards, policies and the paper's benchmark.

A plain-Python library (no rclpy): :class:`GripperEnv` (SPEC section 5), :class:`DemoReward`
(section 6), the policy interface and registry (:func:`make_policy`: ``idle``, ``scripted``,
policy files), rollouts (:func:`run_rollout`) and the benchmark (:func:`run_benchmark`,
section 8 / appendix B). ROS adapters live in ``policy_node``.
"""

from .benchmark import BenchmarkConfig, resolve_spec, run_benchmark, wilson_interval
from .env import EnvConfig, GripperEnv, NonFiniteActionError, SamplerConfig, SimState, StartState
from .policies import POLICIES, IdlePolicy, Policy, SB3Policy, make_policy, register_policy
from .reward import DemoReward, RewardConfig, RewardTerm
from .rollout import Rollout, load_start_states, rollout_columns, run_rollout
from .scripted import ScriptedConfig, ScriptedPolicy

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
    "load_start_states",
    "make_policy",
    "register_policy",
    "resolve_spec",
    "rollout_columns",
    "run_benchmark",
    "run_rollout",
    "wilson_interval",
]
