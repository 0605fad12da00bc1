"""Batched training environments (EnvBatch / BatchVecEnv) against the per-env reference path
(TrainingEnv + Monitor in SB3's DummyVecEnv): same observations, rewards, episode ends and
terminal observations on a fixed seed, in process and in worker processes."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from real2sim_core.errors import InputError
from real2sim_policy.demos import load_demos
from real2sim_policy.env import EnvConfig, NonFiniteActionError, SamplerConfig
from real2sim_policy.env_batch import EnvBatch
from real2sim_policy.reward import DemoReward, RewardConfig
from real2sim_policy.training_env import make_env_fn, make_training_vec_env
from real2sim_policy.vec_env import BatchVecEnv

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "models" / "demos"


def _reference(action, demos, sampler, n, seed=0, bootstrap_horizon=False):
    from stable_baselines3.common.vec_env import DummyVecEnv

    return DummyVecEnv([make_env_fn(action, demos, EnvConfig(), sampler, RewardConfig(), True,
                                     seed + 1000 * i, bootstrap_horizon) for i in range(n)])


def _batched(action, demos, sampler, sizes, processes, seed=0, bootstrap_horizon=False):
    factories, k = [], 0
    for m in sizes:
        factories.append(functools.partial(
            EnvBatch, action, demos, EnvConfig(), sampler, RewardConfig(), True,
            [seed + 1000 * (k + j) for j in range(m)], bootstrap_horizon))
        k += m
    return BatchVecEnv(factories, processes=processes)


def _compare(ref, bat, n, steps, rng, curriculum_at=None):
    np.testing.assert_array_equal(ref.reset(), bat.reset())
    ended = 0
    for t in range(steps):
        if t == curriculum_at:  # ADR change: applies from each env's next reset
            ref.env_method("set_curriculum", 1.0, 0.1)
            bat.env_method("set_curriculum", 1.0, 0.1)
        a = rng.normal(0.0, 0.5, (n, 7)).astype(np.float32)
        o1, r1, d1, i1 = ref.step(a)
        o2, r2, d2, i2 = bat.step(a)
        np.testing.assert_array_equal(o1, o2, err_msg=f"observations, step {t}")
        np.testing.assert_array_equal(r1, r2, err_msg=f"rewards, step {t}")
        np.testing.assert_array_equal(d1, d2, err_msg=f"dones, step {t}")
        for x, y in zip(i1, i2, strict=True):
            assert x["TimeLimit.truncated"] == y["TimeLimit.truncated"]
            assert ("terminal_observation" in x) == ("terminal_observation" in y)
            if "terminal_observation" in x:
                ended += 1
                np.testing.assert_array_equal(x["terminal_observation"],
                                              y["terminal_observation"])
    return ended


@pytest.mark.parametrize("bootstrap", [False, True])
def test_the_horizon_is_terminal_unless_bootstrapping_is_asked_for(bootstrap):
    """The 120th step ends the task (its time is observed): by default no ``TimeLimit.truncated``
    reaches the learner, so it bootstraps nothing there (PPOConfig.bootstrap_horizon)."""
    action = "push_left_to_right"
    demos = load_demos([DEMOS / action], action)
    sampler = SamplerConfig(scale=0.0, std=0.0)
    ref = _reference(action, demos, sampler, 2, bootstrap_horizon=bootstrap)
    bat = _batched(action, demos, sampler, [2], processes=False, bootstrap_horizon=bootstrap)
    try:
        ref.reset(), bat.reset()
        rise = np.zeros((2, 7), dtype=np.float32)
        rise[:, 2] = 1.0  # straight up, away from the table
        for t in range(1, 121):
            for vec in (ref, bat):
                _, _, dones, infos = vec.step(rise)
                assert list(dones) == [t == 120] * 2
                assert [i["TimeLimit.truncated"] for i in infos] == [bootstrap and t == 120] * 2
                assert all(("terminal_observation" in i) == (t == 120) for i in infos)
    finally:
        ref.close()
        bat.close()


@pytest.mark.parametrize("action", ["push_left_to_right", "put_onto"])
def test_batched_envs_match_the_per_env_path_exactly(action):
    demos = load_demos([DEMOS / action], action)
    sampler = SamplerConfig(scale=0.6, std=0.05)
    n = 4
    ref = _reference(action, demos, sampler, n)
    bat = _batched(action, demos, sampler, [3, 1], processes=False)
    try:
        ended = _compare(ref, bat, n, 300, np.random.default_rng(0), curriculum_at=150)
        # early terminations (hand on the table) and full 120-step episodes both occurred
        assert ended >= 8
        assert bat.get_attr("step_count") == ref.get_attr("step_count")
        assert bat.get_attr("sampler", [3])[0].scale == 1.0  # the curriculum reached env 3
    finally:
        ref.close()
        bat.close()


def test_batched_envs_in_worker_processes_match_and_report_errors():
    action = "pull_left_to_right"
    demos = load_demos([DEMOS / action], action)
    sampler = SamplerConfig(scale=0.3, std=0.02)
    ref = _reference(action, demos, sampler, 4, seed=5)
    bat = _batched(action, demos, sampler, [2, 2], processes=True, seed=5)
    try:
        assert bat.num_envs == 4 and bat.observation_space.shape == (24,)
        assert _compare(ref, bat, 4, 150, np.random.default_rng(1)) >= 4
        bad = np.zeros((4, 7), dtype=np.float32)
        bad[3, 0] = np.nan
        with pytest.raises(NonFiniteActionError, match="non-finite action"):
            bat.step(bad)
    finally:
        ref.close()
        bat.close()


def test_vectorised_reward_rows_equal_single_calls():
    """DemoReward.per_demo with per-row heights/radii == one call per state."""
    action = "put_behind"
    demos = load_demos([DEMOS / action], action)
    rew = DemoReward(demos, action)
    rng = np.random.default_rng(2)
    k = 9
    args = dict(steps=rng.integers(1, 121, k), hand_pos=rng.normal(0, 0.1, (k, 3)),
                hand_azi=rng.uniform(-3, 3, k), hand_ele=rng.uniform(-1, 1, k),
                opening=rng.uniform(0, 0.075, k), obj_pos=rng.normal(0, 0.1, (k, 2, 3)),
                obj_quat=rng.normal(0, 1, (k, 2, 4)), heights=rng.uniform(0.04, 0.1, (k, 2)),
                radii=rng.uniform(0.04, 0.05, (k, 2)))
    rows = rew.reduce(rew.per_demo(**args))
    for i in range(k):
        one = rew.per_demo(*[np.asarray(v)[i: i + 1] if name not in ("heights", "radii")
                             else np.asarray(v)[i] for name, v in args.items()])
        assert rew.reduce(one)[0] == rows[i]


def test_trainer_vec_env_layout_and_bad_batches():
    action = "push_left_to_right"
    demos = load_demos([DEMOS / action], action)
    vec = make_training_vec_env(action, demos, EnvConfig(), SamplerConfig(), RewardConfig(),
                                False, 0, processes=1, envs_per_process=3)
    try:
        assert vec.num_envs == 3 and vec.reset().shape == (3, 8)
        assert vec.env_is_wrapped(object) == [False] * 3
    finally:
        vec.close()
    with pytest.raises(InputError, match="no environment batches"):
        BatchVecEnv([])


def test_trainer_timing_split_and_update_threads(tmp_path):
    """Collection and update time are accounted separately; the update phase runs with
    ``update_threads`` torch threads and the learner returns to ``torch_threads`` after."""
    import time

    import torch
    from real2sim_policy.callbacks import TrainingRun
    from real2sim_policy.checkpoints import run_signature
    from real2sim_policy.train_config import TrainConfig

    action = "push_left_to_right"
    demos = load_demos([DEMOS / action], action)
    threads0 = torch.get_num_threads()
    cfg = TrainConfig(torch_threads=1, update_threads=2)
    tr = TrainingRun(action, cfg, run_signature(action, demos, cfg, EnvConfig(),
                                                SamplerConfig(), RewardConfig()))
    try:
        tr.timing_mark("collect")
        assert torch.get_num_threads() == 1
        time.sleep(0.02)
        tr.timing_mark("callback")
        tr.timing_mark("update")
        assert torch.get_num_threads() == 2
        time.sleep(0.01)
        tr.timing_mark(None)
        assert torch.get_num_threads() == 1
        assert tr.t_sim >= 0.02 and 0.01 <= tr.t_train < tr.t_sim
    finally:
        torch.set_num_threads(threads0)
