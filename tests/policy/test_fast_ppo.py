"""fast_ppo: the trainer's collection loop and PPO update give SB3's numbers bit for bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from real2sim_policy.demos import load_demos  # noqa: E402
from real2sim_policy.env_config import EnvConfig, SamplerConfig  # noqa: E402
from real2sim_policy.network import AsymmetricActorCriticPolicy  # noqa: E402
from real2sim_policy.reward import RewardConfig  # noqa: E402
from real2sim_policy.spaces import OBS_DIM  # noqa: E402
from real2sim_policy.training_env import make_training_vec_env  # noqa: E402

from real2sim_policy import fast_ppo  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ACTION = "push_left_to_right"


def _ppo(vec, **kw):
    """A small PPO (2 x 32 networks, 40 steps per env and update) on ``vec``."""
    from stable_baselines3 import PPO

    return PPO(AsymmetricActorCriticPolicy(), vec, learning_rate=lambda p: 3e-4 * p,
               n_steps=40, batch_size=40, n_epochs=3, gamma=1.0, gae_lambda=0.95,
               seed=3, device="cpu", verbose=0, max_grad_norm=100.0,
               policy_kwargs={"net_arch": {"pi": [32, 32], "vf": [32, 32]},
                              "activation_fn": torch.nn.Tanh, "log_std_init": math.log(0.2),
                              "actor_dim": OBS_DIM}, **kw)


def _model(fast: bool, **kw):
    demos = load_demos([REPO / "models" / "demos" / ACTION], ACTION)
    vec = make_training_vec_env(ACTION, demos, EnvConfig(), SamplerConfig(scale=1.0, std=0.1),
                                RewardConfig(), True, 3, 1, 4)
    model = _ppo(vec, **kw)
    if fast:
        assert fast_ppo.install(model)
    return model


_BUFFER_KEYS = ("observations", "actions", "rewards", "episode_starts", "values", "log_probs",
                "advantages", "returns")


def _learn(model, policy_rows: bool = False):
    """Three updates of ``model``: each rollout buffer (plus, with ``policy_rows``, the values
    and log-probabilities the collecting policy gives for its rows), the parameters, the
    logged values and the episode records; closes the env."""
    from stable_baselines3.common.callbacks import BaseCallback

    seen = []

    class Record(BaseCallback):
        def _on_step(self):
            return True

        def _on_rollout_end(self):
            b = self.model.rollout_buffer
            rec = {k: getattr(b, k).copy() for k in _BUFFER_KEYS}
            if policy_rows:
                obs = torch.as_tensor(b.observations.reshape(-1, b.obs_shape[0]))
                acts = torch.as_tensor(b.actions.reshape(-1, b.action_dim))
                with torch.no_grad():
                    values, log_prob, _ = self.model.policy.evaluate_actions(obs, acts)
                rec["policy_values"] = values.numpy().reshape(b.values.shape)
                rec["policy_log_probs"] = log_prob.numpy().reshape(b.log_probs.shape)
            seen.append(rec)

    try:
        model.learn(total_timesteps=3 * 160, callback=Record())
        params = {k: v.detach().clone() for k, v in model.policy.state_dict().items()}
        logged = dict(model.logger.name_to_value)
        episodes = [dict(e) for e in model.ep_info_buffer]
    finally:
        model.env.close()
    return seen, params, logged, episodes


def _assert_same_training(a, b) -> None:
    """Two :func:`_learn` results: the same three rollout buffers and parameters, bit for
    bit."""
    assert len(a[0]) == len(b[0]) == 3
    for u, (ra, rb) in enumerate(zip(a[0], b[0], strict=True)):
        for key in ra:
            np.testing.assert_array_equal(ra[key], rb[key], err_msg=f"update {u}: {key}")
    assert a[1].keys() == b[1].keys()
    for key in a[1]:
        assert torch.equal(a[1][key], b[1][key]), f"parameter {key} differs"


def _run(fast: bool):
    return _learn(_model(fast))


@pytest.mark.parametrize("concurrent", [None, True, False])
def test_fast_collection_and_update_equal_sb3_bit_for_bit(concurrent, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setattr(fast_ppo, "CONCURRENT_UPDATE", concurrent)
    ref = _run(False)
    fast = _run(True)
    _assert_same_training(ref, fast)
    for key in ("train/policy_gradient_loss", "train/value_loss", "train/loss",
                "train/approx_kl", "train/clip_fraction", "train/entropy_loss",
                "train/explained_variance", "train/std"):
        assert ref[2][key] == fast[2][key], key
    assert [e["r"] for e in ref[3]] == [e["r"] for e in fast[3]]
    assert any(e["l"] < 120 for e in ref[3]), "the run should include early terminations"


def test_saved_model_holds_what_sb3_saves(tmp_path):
    import json
    import zipfile

    from stable_baselines3 import PPO

    keys = []
    for fast in (False, True):
        model = _model(fast)
        try:
            model.save(str(tmp_path / f"m{fast}.zip"))
        finally:
            model.env.close()
        with zipfile.ZipFile(tmp_path / f"m{fast}.zip") as z:
            keys.append(sorted(json.loads(z.read("data"))))
        loaded = PPO.load(str(tmp_path / f"m{fast}.zip"), device="cpu",
                          custom_objects={"policy_class": AsymmetricActorCriticPolicy()})
        assert "train" not in vars(loaded)
    assert keys[0] == keys[1]


def test_unsupported_settings_keep_sb3_methods():
    model = _model(False, target_kl=0.01)
    try:
        assert not fast_ppo.install(model)
        assert "train" not in vars(model) and "collect_rollouts" not in vars(model)
    finally:
        model.env.close()


def test_a_failing_critic_half_reaches_the_caller():
    model = _model(True)
    try:
        model.learn(total_timesteps=160)  # one update through the fast paths
        model.policy.value_net.weight.data = torch.zeros(3, 3)  # wrong shape: critic fails
        model.rollout_buffer.full = True
        with pytest.raises(RuntimeError):
            model.train()
    finally:
        model.env.close()


def test_schedule_probes_both_ways_then_keeps_the_faster():
    for slow, expect in ((True, False), (False, True)):
        s = fast_ppo.UpdateSchedule()
        seen = []
        for _ in range(30):
            c = s.concurrent()
            seen.append(c)
            s.record(c, 2.0 if c == slow else 1.0)
        probe = seen[s.SKIP:s.SKIP + s.PROBE]
        assert True in probe and False in probe
        assert set(seen[s.SKIP + s.PROBE:]) == {expect}
    assert all(fast_ppo.UpdateSchedule(False).concurrent() is False for _ in range(3))


# -- per-worker collection ---------------------------------------------------------------------


def _per_worker_model(processes: bool, **kw):
    """Two batches of two envs, stepped in worker processes or in this process."""
    import functools

    from real2sim_policy.env_batch import EnvBatch
    from real2sim_policy.vec_env import BatchVecEnv
    from stable_baselines3.common.vec_env import VecMonitor

    demos = load_demos([REPO / "models" / "demos" / ACTION], ACTION)
    factories = [functools.partial(EnvBatch, ACTION, demos, EnvConfig(),
                                   SamplerConfig(scale=1.0, std=0.1), RewardConfig(), True,
                                   [3 + 1000 * (2 * b + j) for j in range(2)])
                 for b in range(2)]
    model = _ppo(VecMonitor(BatchVecEnv(factories, processes=processes)), **kw)
    assert fast_ppo.install(model, "per_worker")
    assert model.collect_rollouts.__func__ is fast_ppo.collect_rollouts_per_worker
    return model


def _per_worker_run(processes: bool):
    seen, params, _, episodes = _learn(_per_worker_model(processes), policy_rows=True)
    return seen, params, [(e["r"], e["l"]) for e in episodes]


def test_per_worker_collection_does_not_depend_on_which_worker_answers_first():
    """Worker processes (answers in any order) and one process (batch order) collect the
    same rollouts and train the same parameters, bit for bit."""
    torch.set_num_threads(1)
    procs = _per_worker_run(True)
    inproc = _per_worker_run(False)
    _assert_same_training(procs, inproc)
    assert procs[2] == inproc[2]
    assert any(length < 120 for _, length in procs[2]), "the run should include resets"


def test_per_worker_rollout_rows_are_what_the_collecting_policy_gives():
    """Every buffer row's value and log-probability are the collecting policy's for that row's
    observation and action; the episode records add up to the rewards collected."""
    torch.set_num_threads(1)
    seen, _, episodes = _per_worker_run(False)
    first = seen[0]  # the rollout before any update: the record's policy collected it
    np.testing.assert_allclose(first["values"], first["policy_values"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first["log_probs"], first["policy_log_probs"], rtol=1e-5,
                               atol=1e-5)
    assert np.isfinite(first["advantages"]).all()
    # 4 envs x 40 rows per update; every episode start is a row after a done
    assert first["observations"].shape[:2] == (40, 4)
    assert first["episode_starts"][0].all()  # the first row of a run starts every episode
    assert len(episodes) > 0 and all(length >= 1 for _, length in episodes)


def test_per_worker_collection_stopped_mid_rollout_leaves_the_workers_usable():
    """A callback that ends training in the middle of a rollout: the answers still in the
    pipes are read, so the environments keep working (another learn) and close at once."""
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAt(BaseCallback):
        def _on_step(self):
            return self.n_calls < 7

    model = _per_worker_model(True)
    try:
        model.learn(total_timesteps=160, callback=StopAt())
        assert model.num_timesteps < 160
        model.learn(total_timesteps=160, reset_num_timesteps=False)  # the pipes are in step
        assert model.num_timesteps >= 160
    finally:
        model.env.close()
    assert model.env.venv.closed


def test_per_worker_is_used_only_on_the_trainers_vec_env():
    model = _model(False)  # one batch in this process, VecMonitor(BatchVecEnv): covered
    try:
        assert fast_ppo.per_worker_envs(model.env) is not None
        assert fast_ppo.install(model, "per_worker")
        assert model.collect_rollouts.__func__ is fast_ppo.collect_rollouts_per_worker
    finally:
        model.env.close()
    model = _model(False)
    try:
        assert fast_ppo.install(model, "lockstep")
        assert model.collect_rollouts.__func__ is fast_ppo.collect_rollouts
        assert fast_ppo.per_worker_envs(model.env.venv) is None  # no VecMonitor around it
    finally:
        model.env.close()
