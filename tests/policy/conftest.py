"""Shared fixtures of the policy tests (small budgets: 2 shared cores)."""

from __future__ import annotations

import pytest
from real2sim_policy.rollout import load_start_states


@pytest.fixture(scope="session")
def easy_starts(data_dir):
    return load_start_states(data_dir / "benchmark" / "benchmark_easy.csv")


@pytest.fixture(scope="session")
def hard_starts(data_dir):
    return load_start_states(data_dir / "benchmark" / "benchmark_hard.csv")
