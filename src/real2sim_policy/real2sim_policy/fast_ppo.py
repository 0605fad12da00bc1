"""Faster rollout collection and PPO update for the trainer's SB3 ``PPO``.

:func:`install` replaces two methods of one ``PPO`` instance (``collect_rollouts`` and
``train``) by the functions below. :func:`collect_rollouts` and :func:`ppo_train` compute what
stable-baselines3 (2.x) computes, with the same torch operations in the same order on the same
random streams; :func:`collect_rollouts_per_worker` runs the same algorithm with one random
stream per worker. The saved ``policy.zip`` does not change (the model class and the policy
class are SB3's / the trainer's).

* :func:`collect_rollouts`: the policy forward of one vectorised step calls the actor's and the
  critic's layers directly (``F.linear`` / ``torch.tanh``: the ops ``nn.Linear`` / ``nn.Tanh``
  run) and draws the Gaussian sample as ``torch.distributions.Normal.rsample`` does (one
  ``normal_()`` of the batch shape, then ``mean + eps * std``), without SB3's per-step
  distribution objects, module hooks and buffer bookkeeping (less Python per vectorised step;
  the environment workers wait while the learner runs it).
* :func:`collect_rollouts_per_worker` (``TrainConfig.collection: per_worker``, the default):
  the same per-environment computation, but each worker process of the trainer's
  ``BatchVecEnv`` is sent its next actions as soon as it answers, computed from its own rows
  with its own noise generator. Neither worker waits for the other (a reset costs ~25 control
  steps) nor for the learner's forward pass of the other's environments, and the rollout does
  not depend on the order of the answers. The random draws differ from SB3's single stream,
  so it is the same algorithm, not the same numbers.
* :func:`ppo_train`: the PPO update with the actor's loss and backward pass in the calling
  thread and the critic's in a second thread, concurrently. The two networks share no
  parameter (the actor sees the 8 policy observations, the critic all 24; METHOD 7), so each
  parameter gets exactly the gradient of SB3's single ``loss.backward()``; the gradient-norm
  clip and the Adam step follow once both are done. torch releases the GIL inside its
  operators, so the two halves run on two cores while the environment workers wait; unlike
  intra-op threads (``update_threads``) there is one hand-over per minibatch, not one per
  operator. When other jobs hold the second core the two threads wait for each other, so each
  update times a few minibatches both ways and runs the rest the faster way
  (:class:`UpdateSchedule`;
  the numbers are the same either way).

Equality with SB3 (bit for bit, same seed; lockstep collection) and the per-worker
collection's independence of timing: ``tests/policy/test_fast_ppo.py``. Settings these
paths do not cover (state-dependent exploration, ``target_kl``, ``clip_range_vf``, a non-Gaussian
action distribution, another network) keep SB3's own methods.
"""

from __future__ import annotations

import math
import threading
import time
import types

import numpy as np

__all__ = ["collect_rollouts", "collect_rollouts_per_worker", "install", "per_worker_envs",
           "ppo_train", "supported", "worker_generators"]


def supported(model) -> bool:
    """Whether :func:`install` covers ``model``'s settings (else SB3's methods stay)."""
    from gymnasium import spaces
    from stable_baselines3.common.distributions import DiagGaussianDistribution
    from stable_baselines3.common.torch_layers import FlattenExtractor
    from torch import nn

    policy = model.policy
    ext = getattr(policy, "mlp_extractor", None)
    nets = [getattr(ext, "policy_net", None), getattr(ext, "value_net", None)]
    plain = all(isinstance(n, nn.Sequential) and all(isinstance(m, (nn.Linear, nn.Tanh))
                                                     for m in n) for n in nets)
    return (plain and hasattr(ext, "actor_dim")
            and isinstance(policy.action_dist, DiagGaussianDistribution)
            and isinstance(policy.features_extractor, FlattenExtractor)
            and policy.share_features_extractor
            and isinstance(model.action_space, spaces.Box)
            and isinstance(model.observation_space, spaces.Box)
            and len(model.observation_space.shape) == 1
            and not model.use_sde and model.target_kl is None and model.clip_range_vf is None
            and isinstance(policy.action_net, nn.Linear)
            and isinstance(policy.value_net, nn.Linear))


def install(model, collection: str = "lockstep") -> bool:
    """Bind the fast ``collect_rollouts`` and ``train`` to ``model`` (a SB3 ``PPO`` built by
    the trainer); returns False (nothing changed) for settings they do not cover.

    ``collection``: ``lockstep`` (:func:`collect_rollouts`, SB3's numbers bit for bit) or
    ``per_worker`` (:func:`collect_rollouts_per_worker`; needs the trainer's
    ``VecMonitor(BatchVecEnv)``, else lockstep is used)."""
    if not supported(model):
        return False
    per_worker = collection == "per_worker" and per_worker_envs(model.env) is not None
    model.collect_rollouts = types.MethodType(
        collect_rollouts_per_worker if per_worker else collect_rollouts, model)
    model.train = types.MethodType(ppo_train, model)
    # the bound methods live in the instance's __dict__, which ``model.save`` pickles: leave
    # them out, so that policy.zip and checkpoints hold exactly what SB3 writes
    base = model._excluded_save_params
    model._excluded_save_params = lambda: [*base(), *_INSTALLED]
    return True


_INSTALLED = ("collect_rollouts", "train", "_excluded_save_params")


# -- the networks, op for op as SB3 + the trainer's extractor run them --------------------------


def _mlp(x, seq):
    """``seq(x)`` for a Sequential of Linear / Tanh, by the ops those modules call."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    for m in seq:
        x = F.linear(x, m.weight, m.bias) if isinstance(m, nn.Linear) else torch.tanh(x)
    return x


def _value(policy, obs):
    """``policy.predict_values(obs)`` (critic on all features)."""
    from torch.nn import functional as F  # noqa: N812

    vn = policy.value_net
    return F.linear(_mlp(obs.float(), policy.mlp_extractor.value_net), vn.weight, vn.bias)


def _forward(policy, obs, generator=None):
    """``policy(obs)`` (ActorCriticPolicy.forward, stochastic): actions, values, log_prob.

    ``generator``: the torch generator of the Gaussian noise (None: torch's global one, as
    SB3)."""
    import torch
    from torch.nn import functional as F  # noqa: N812

    feats = obs.float()
    ext = policy.mlp_extractor
    latent_pi = _mlp(feats[..., : ext.actor_dim], ext.policy_net)
    values = _value(policy, feats)
    an = policy.action_net
    mean = F.linear(latent_pi, an.weight, an.bias)
    # DiagGaussianDistribution.proba_distribution: std = ones_like(mean) * log_std.exp()
    std = torch.ones_like(mean) * policy.log_std.exp()
    # Normal.rsample: eps ~ N(0, 1) of the batch shape, loc + eps * scale
    eps = torch.empty(mean.shape, dtype=mean.dtype, device=mean.device).normal_(
        generator=generator)
    actions = mean + eps * std
    # Normal.log_prob, summed over the action dimensions (sum_independent_dims)
    var = std ** 2
    log_prob = (-((actions - mean) ** 2) / (2 * var) - std.log()
                - math.log(math.sqrt(2 * math.pi))).sum(dim=1)
    return actions, values, log_prob


def _bootstrap_timeouts(policy, gamma: float, rewards, dones, infos) -> None:
    """Timeouts: add ``gamma`` x the value of the terminal observation to the reward (SB3 GH
    #633), one env at a time as SB3 does (a batch of one row); ``rewards`` in place."""
    import torch

    for idx, done in enumerate(dones):
        if (done and infos[idx].get("terminal_observation") is not None
                and infos[idx].get("TimeLimit.truncated", False)):
            terminal_obs = policy.obs_to_tensor(infos[idx]["terminal_observation"])[0]
            with torch.no_grad():
                terminal_value = _value(policy, terminal_obs)[0]
            rewards[idx] += gamma * terminal_value


def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps: int) -> bool:
    """SB3 ``OnPolicyAlgorithm.collect_rollouts`` (2.x) for a Box action space and a Gaussian
    policy without SDE, with a lean policy forward (see the module docstring)."""
    import torch

    assert self._last_obs is not None, "No previous observation was provided"
    policy = self.policy
    policy.set_training_mode(False)
    buf = rollout_buffer
    n_steps = 0
    buf.reset()
    callback.on_rollout_start()
    low, high = self.action_space.low, self.action_space.high
    new_obs = dones = None
    while n_steps < n_rollout_steps:
        with torch.no_grad():
            obs_tensor = torch.as_tensor(self._last_obs, device=self.device)
            actions, values, log_probs = _forward(policy, obs_tensor)
        actions = actions.cpu().numpy()
        clipped_actions = np.clip(actions, low, high)
        new_obs, rewards, dones, infos = env.step(clipped_actions)
        self.num_timesteps += env.num_envs
        callback.update_locals(locals())
        if not callback.on_step():
            return False
        self._update_info_buffer(infos, dones)
        n_steps += 1
        _bootstrap_timeouts(policy, self.gamma, rewards, dones, infos)
        # RolloutBuffer.add for a Box action space
        pos = buf.pos
        buf.observations[pos] = np.array(self._last_obs)
        buf.actions[pos] = np.array(actions.reshape((buf.n_envs, buf.action_dim)))
        buf.rewards[pos] = np.array(rewards)
        buf.episode_starts[pos] = np.array(self._last_episode_starts)
        buf.values[pos] = values.clone().cpu().numpy().flatten()
        buf.log_probs[pos] = log_probs.clone().cpu().numpy()
        buf.pos += 1
        if buf.pos == buf.buffer_size:
            buf.full = True
        self._last_obs = new_obs
        self._last_episode_starts = dones
    with torch.no_grad():
        values = _value(policy, torch.as_tensor(new_obs, device=self.device))
    buf.compute_returns_and_advantage(last_values=values, dones=dones)
    callback.update_locals(locals())
    callback.on_rollout_end()
    return True


def per_worker_envs(env):
    """``(monitor, batches)`` when ``env`` is SB3's ``VecMonitor`` (no results file, no info
    keywords) over a :class:`~real2sim_policy.vec_env.BatchVecEnv`, which
    :func:`collect_rollouts_per_worker` needs; else None."""
    from stable_baselines3.common.vec_env import VecMonitor

    from .vec_env import BatchVecEnv

    if (isinstance(env, VecMonitor) and isinstance(env.venv, BatchVecEnv)
            and env.results_writer is None and not env.info_keywords):
        return env, env.venv
    return None


def worker_generators(seed: int, num_timesteps: int, batches: int) -> list:
    """One torch generator per environment batch for a rollout, seeded from the run's seed
    and the steps taken so far (a resumed run draws what the uninterrupted one would have)."""
    import torch

    states = np.random.SeedSequence([int(seed or 0), int(num_timesteps)]).spawn(batches)
    return [torch.Generator().manual_seed(int(ss.generate_state(1, np.uint64)[0] >> 1))
            for ss in states]


def collect_rollouts_per_worker(self, env, callback, rollout_buffer,
                                n_rollout_steps: int) -> bool:
    """Rollout collection with each environment batch stepped on its own.

    What :func:`collect_rollouts` computes per environment (the policy forward, the Gaussian
    sample, the timeout bootstrap, ``VecMonitor``'s episode records, the buffer rows), but a
    batch is sent its next actions as soon as its answer arrives, from a forward pass over that
    batch's rows alone. The learner's forward for one worker then runs while the other worker
    steps, and a worker that resets an environment does not hold the other back. Each batch
    draws its action noise from its own generator (:func:`worker_generators`), so the rollout
    does not depend on which worker answers first: it is the same with worker processes and
    in one process (``tests/policy/test_fast_ppo.py``); the episode records reach
    ``ep_info_buffer`` at the end of the rollout in the lockstep order. The random numbers
    differ from the lockstep loop's (one global stream), the distribution does not.
    """
    import torch

    monitor, vec = per_worker_envs(env)
    assert self._last_obs is not None, "No previous observation was provided"
    policy = self.policy
    policy.set_training_mode(False)
    buf = rollout_buffer
    buf.reset()
    callback.on_rollout_start()
    low, high = self.action_space.low, self.action_space.high
    last_obs = np.array(self._last_obs)
    last_starts = np.array(self._last_episode_starts)
    nb = vec.num_batches
    slices = [vec.batch_slice(b) for b in range(nb)]
    gens = worker_generators(self.seed, self.num_timesteps, nb)
    rows = [0] * nb
    sent: dict[int, tuple] = {}
    records = [[None] * nb for _ in range(n_rollout_steps)]  # (infos, dones) by row, batch

    def send(b: int) -> None:
        with torch.no_grad():
            acts, vals, logp = _forward(policy, torch.as_tensor(last_obs[slices[b]]), gens[b])
        acts = acts.cpu().numpy()
        sent[b] = (acts, vals, logp)
        vec.step_batch_async(b, np.clip(acts, low, high))

    for b in range(nb):
        send(b)
    keep_going = True
    while sent:
        for b in vec.ready(list(sent)):
            acts, vals, logp = sent.pop(b)
            new_obs, rewards, dones, infos = vec.step_batch_wait(b)
            sl = slices[b]
            infos = _monitor_records(monitor, sl, rewards, dones, infos)
            if not keep_going:
                continue  # stopping: only drain the answers still outstanding
            self.num_timesteps += len(dones)
            callback.update_locals({"infos": infos, "dones": dones})
            if not callback.on_step():
                keep_going = False
                continue
            records[rows[b]][b] = (infos, dones)
            _bootstrap_timeouts(policy, self.gamma, rewards, dones, infos)
            pos = rows[b]
            buf.observations[pos, sl] = last_obs[sl]
            buf.actions[pos, sl] = acts.reshape((-1, buf.action_dim))
            buf.rewards[pos, sl] = rewards
            buf.episode_starts[pos, sl] = last_starts[sl]
            buf.values[pos, sl] = vals.cpu().numpy().flatten()
            buf.log_probs[pos, sl] = logp.cpu().numpy()
            rows[b] = pos + 1
            last_obs[sl] = new_obs
            last_starts[sl] = dones
            if rows[b] < n_rollout_steps:
                send(b)
    self._last_obs = last_obs
    self._last_episode_starts = last_starts
    # episode records in the lockstep loop's order (row, then environment), whichever
    # worker answered first
    for row in records:
        for rec in row:
            if rec is not None:
                self._update_info_buffer(*rec)
    if not keep_going:
        return False
    buf.pos = n_rollout_steps
    buf.full = buf.pos == buf.buffer_size
    with torch.no_grad():
        values = _value(policy, torch.as_tensor(last_obs, device=self.device))
    buf.compute_returns_and_advantage(last_values=values, dones=last_starts)
    callback.update_locals({"values": values, "dones": last_starts})
    callback.on_rollout_end()
    return True


def _monitor_records(monitor, sl: slice, rewards, dones, infos) -> list:
    """``VecMonitor.step_wait``'s bookkeeping for the environments ``sl`` of one batch: episode
    return and length, and ``info["episode"]`` for the environments that finished."""
    monitor.episode_returns[sl] += rewards
    monitor.episode_lengths[sl] += 1
    out = list(infos)
    for i in np.flatnonzero(dones):
        k = sl.start + int(i)
        info = dict(infos[i])
        info["episode"] = {"r": monitor.episode_returns[k], "l": monitor.episode_lengths[k],
                           "t": round(time.time() - monitor.t_start, 6)}
        monitor.episode_count += 1
        monitor.episode_returns[k] = 0
        monitor.episode_lengths[k] = 0
        out[i] = info
    return out


# -- the update ---------------------------------------------------------------------------------


class _CriticThread:
    """A thread that runs the critic half of each minibatch (forward, loss, backward)."""

    def __init__(self):
        self._job = None
        self._out = None
        self._go = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ppo-critic", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            job = self._job
            if job is None:
                return
            try:
                self._out = (True, job())
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                self._out = (False, e)
            self._done.set()

    def submit(self, job) -> None:
        self._job = job
        self._done.clear()
        self._go.set()

    def result(self):
        self._done.wait()
        ok, out = self._out
        self._out = None
        if not ok:
            raise out
        return out

    def close(self) -> None:
        self._job = None
        self._go.set()
        self._thread.join(timeout=5)


CONCURRENT_UPDATE: bool | None = None
"""How :func:`ppo_train` runs the critic's half: None = measure and choose per update (see
:class:`UpdateSchedule`), True = always in the second thread, False = always after the actor's half
in the calling thread. All three give the same numbers."""


class UpdateSchedule:
    """Chooses, per update, between the concurrent and the sequential minibatch.

    Both give the same numbers, so the choice is about time only: on an idle 2-core machine the
    concurrent one takes ~60 % of the sequential time, but when other jobs hold the second core
    the two threads wait for each other and it is slower. Minibatches ``SKIP`` to
    ``SKIP + PROBE`` of each update alternate between the two; the rest use the faster (mean
    wall time).
    """

    SKIP = 2
    PROBE = 8

    def __init__(self, force: bool | None = None):
        self.force = force
        self.k = 0
        self.times: dict[bool, list[float]] = {True: [], False: []}
        self.choice: bool | None = None

    def concurrent(self) -> bool:
        if self.force is not None:
            return self.force
        if self.k < self.SKIP + self.PROBE:
            return self.k < self.SKIP or self.k % 2 == 0
        if self.choice is None:
            self.choice = bool(np.mean(self.times[True]) <= np.mean(self.times[False]))
        return self.choice

    def record(self, concurrent: bool, seconds: float) -> None:
        if self.SKIP <= self.k < self.SKIP + self.PROBE:
            self.times[concurrent].append(seconds)
        self.k += 1


def ppo_train(self) -> None:
    """SB3 ``PPO.train`` (2.x) with the actor's and the critic's halves of every minibatch
    computed concurrently (see the module docstring); the same updates and logged values."""
    import torch
    from stable_baselines3.common.utils import explained_variance
    from torch.nn import functional as F  # noqa: N812

    policy = self.policy
    policy.set_training_mode(True)
    self._update_learning_rate(policy.optimizer)
    clip_range = self.clip_range(self._current_progress_remaining)
    entropy_losses, pg_losses, value_losses, clip_fractions = [], [], [], []
    vf_coef, ent_coef = self.vf_coef, self.ent_coef
    approx_kl_divs: list = []
    policy_loss = entropy_loss = value_loss = None

    def critic(data):
        def job():
            values = policy.value_net(policy.mlp_extractor.forward_critic(
                policy.extract_features(data.observations))).flatten()
            vloss = F.mse_loss(data.returns, values)
            (vf_coef * vloss).backward()
            return vloss.detach()
        return job

    worker = _CriticThread()
    schedule = UpdateSchedule(CONCURRENT_UPDATE)
    try:
        for _epoch in range(self.n_epochs):
            approx_kl_divs = []
            for data in self.rollout_buffer.get(self.batch_size):
                t0 = time.perf_counter()
                policy.optimizer.zero_grad()
                concurrent = schedule.concurrent()
                job = critic(data)
                if concurrent:
                    worker.submit(job)
                try:
                    latent_pi = policy.mlp_extractor.forward_actor(
                        policy.extract_features(data.observations))
                    dist = policy._get_action_dist_from_latent(latent_pi)
                    log_prob = dist.log_prob(data.actions)
                    entropy = dist.entropy()
                    advantages = data.advantages
                    if self.normalize_advantage and len(advantages) > 1:
                        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                    ratio = torch.exp(log_prob - data.old_log_prob)
                    policy_loss_1 = advantages * ratio
                    policy_loss_2 = advantages * torch.clamp(ratio, 1 - clip_range,
                                                             1 + clip_range)
                    policy_loss = -torch.min(policy_loss_1, policy_loss_2).mean()
                    pg_losses.append(policy_loss.item())
                    clip_fractions.append(
                        torch.mean((torch.abs(ratio - 1) > clip_range).float()).item())
                    entropy_loss = -torch.mean(entropy)
                    entropy_losses.append(entropy_loss.item())
                    with torch.no_grad():
                        log_ratio = log_prob - data.old_log_prob
                        approx_kl_divs.append(
                            torch.mean((torch.exp(log_ratio) - 1) - log_ratio).cpu().numpy())
                    (policy_loss + ent_coef * entropy_loss).backward()
                finally:
                    if concurrent:
                        value_loss = worker.result()
                if not concurrent:
                    value_loss = job()
                value_losses.append(value_loss.item())
                torch.nn.utils.clip_grad_norm_(policy.parameters(), self.max_grad_norm)
                policy.optimizer.step()
                schedule.record(concurrent, time.perf_counter() - t0)
            self._n_updates += 1
    finally:
        worker.close()

    with torch.no_grad():
        loss = policy_loss + ent_coef * entropy_loss + vf_coef * value_loss
    explained_var = explained_variance(self.rollout_buffer.values.flatten(),
                                       self.rollout_buffer.returns.flatten())
    log = self.logger.record
    log("train/entropy_loss", np.mean(entropy_losses))
    log("train/policy_gradient_loss", np.mean(pg_losses))
    log("train/value_loss", np.mean(value_losses))
    log("train/approx_kl", np.mean(approx_kl_divs))
    log("train/clip_fraction", np.mean(clip_fractions))
    log("train/loss", loss.item())
    log("train/explained_variance", explained_var)
    log("train/std", torch.exp(policy.log_std).mean().item())
    log("train/n_updates", self._n_updates, exclude="tensorboard")
    log("train/clip_range", clip_range)
