"""Demonstration-tracking warm start for PPO (an option of the trainer, ``train.init: track``).

PPO from a random network needs millions of steps before the hand even reaches the object
(the paper: 8.4 M steps, 3 h on 4 cores). The demonstrations already say where the hand should
be at every control time, so the trainer can start from a policy that *follows* them:

1. :class:`DemoTracker`, a teacher made of nothing but the demonstrations' own per-step mean:
   at control step k it drives the hand (at most at the env's speed limits) towards the
   demonstrations' mean hand pose of step k + 1 (the reward's targets of
   :class:`~real2sim_policy.reward.DemoReward`: positions averaged, azimuths averaged on the
   circle, elevations averaged; with ``reward.hand_at_object``, where a demonstration touches,
   its position is the centre of its own estimated box: :meth:`DemoReward.hand_targets`) and
   sets the gripper to the fraction of demonstrations that touch the object at k + 1 (open
   when none touches, closed when all do; outside the action window, where the
   demonstrations' touch values are only their first or last frame held,
   ``grip_outside_window`` chooses between those values and holding the gripper as it is).
   Like the policy, it sees only the 8 observation values: no object state. It knows nothing
   about the task: no rule for an action, no knowledge of the start-state ranges; what the
   demonstrations do not show (going around an object, holding one the hand starts with, ...)
   PPO has to learn from the video reward.
2. :func:`dagger_warm_start`: behaviour cloning with DAgger iterations (the first iteration
   follows the teacher, the next ones the current network, always labelled by the teacher) on
   starts drawn over a range of the ADR curriculum, then the value network is regressed on the
   Monte-Carlo returns (discount 1) of the cloned policy under the real reward, so that the
   first PPO updates start from a calibrated critic instead of wrecking the cloned actor.

PPO then optimises the real multi-video reward from there (with the ADR curriculum as usual).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from real2sim_core.config import check_choice, check_range

from real2sim_core import frames

if TYPE_CHECKING:  # annotations only: the config stays importable without pybullet
    from .env import GripperEnv
    from .reward import DemoReward

__all__ = ["WarmStartConfig", "DemoTracker", "dagger_warm_start", "ATANH_LIMIT"]

GRIP_OUTSIDE_WINDOW = ("clamp", "hold")
"""``WarmStartConfig.grip_outside_window``: the teacher's gripper outside the action window."""

ATANH_LIMIT = 3.0
"""Pre-tanh actions are clipped to +-3 (tanh(3) = 0.995: saturated, still differentiable)."""


@dataclass
class WarmStartConfig:
    """Settings of the demonstration-tracking warm start (learning settings only).

    Attributes:
        iterations: DAgger iterations (the first follows the teacher).
        episodes: episodes collected per iteration.
        epochs: passes over the aggregated data per iteration.
        batch_size: behaviour-cloning minibatch.
        learning_rate: Adam step size for cloning and value regression.
        scale_min / scale_max: ADR orientation scale of the starts, U[min, max] per episode.
        std_min / std_max: ADR hand-position std of the starts, U[min, max] per episode, m.
        action_noise: Gaussian noise added to the acting policy's pre-tanh actions.
        value_epochs: passes of the value regression.
        grip_outside_window: the teacher's gripper before and after the action window, where
            the reward has no grip term and the demonstrations show nothing (their retimed
            touch values are the first or last action-phase frame held): ``clamp`` follows
            those held values (a demonstration that touches from its first frame closes the
            gripper from t = 0); ``hold`` commands the opening the gripper has (observation
            value 8), leaving it as the start state left it: open, or closed on a held object.
    """

    iterations: int = 4
    episodes: int = 48
    epochs: int = 15
    batch_size: int = 512
    learning_rate: float = 1e-3
    scale_min: float = 0.2
    scale_max: float = 1.0
    std_min: float = 0.02
    std_max: float = 0.2
    action_noise: float = 0.2
    value_epochs: int = 20
    grip_outside_window: str = "clamp"

    def __post_init__(self):
        check_range(self, "iterations", 1, 100)
        check_range(self, "episodes", 1, 100000)
        check_range(self, "epochs", 1, 10000)
        check_range(self, "batch_size", 1)
        check_range(self, "learning_rate", 0.0, lo_open=True)
        check_range(self, "scale_min", 0.0, 1.0)
        check_range(self, "scale_max", self.scale_min, 1.0)
        check_range(self, "std_min", 0.0, 1.0)
        check_range(self, "std_max", self.std_min, 1.0)
        check_range(self, "action_noise", 0.0, 10.0)
        check_range(self, "value_epochs", 0, 10000)
        check_choice(self, "grip_outside_window", GRIP_OUTSIDE_WINDOW)


class DemoTracker:
    """The teacher: pre-tanh actions that track the demonstrations' per-step mean.

    Args:
        reward: the :class:`DemoReward` of the demonstrations (its per-step targets).
        control_hz / max_linear_speed / max_angular_speed / max_opening: the env's (METHOD
            section 5; the opening at tanh(a[6]) = 1, m).
        grip_outside_window: :attr:`WarmStartConfig.grip_outside_window`.

    Attributes (K = horizon + 1 control times):
        pos: (K, 3) mean fingertip target, m. azi / ele: (K,) mean hand angles, rad.
        quat: (K, 4) the gripper orientation of those angles. grip: (K,) fraction of the
        demonstrations touching the object, in [0, 1]. hold: (K,) bool, the times whose grip
        is the observed opening (``grip_outside_window: hold``, outside the window).
    """

    def __init__(self, reward: DemoReward, control_hz: float = 12.0,
                 max_linear_speed: float = 0.3, max_angular_speed: float = math.pi,
                 grip_outside_window: str = "clamp", max_opening: float = 0.075):
        self.dt = 1.0 / control_hz
        self.vmax = max_linear_speed
        self.wmax = max_angular_speed
        self.pos = reward.hand_targets().mean(axis=1)  # (K, 3)
        self.azi = np.arctan2(np.sin(reward.hand_azi).mean(1), np.cos(reward.hand_azi).mean(1))
        self.ele = reward.hand_ele.mean(axis=1)
        self.quat = frames.gripper_quat_from_hand_angles(self.azi, self.ele)  # (K, 4)
        self.grip = (reward.touch > 0.5).mean(axis=1)
        self.hold = ~reward.inside if grip_outside_window == "hold" else \
            np.zeros(len(self.grip), dtype=bool)
        self.max_opening = max_opening

    def act(self, obs) -> np.ndarray:
        """(7,) pre-tanh action for the (8,) observation (or its first 8 values)."""
        o = np.asarray(obs, dtype=float).reshape(-1)
        t, p, rv = o[0] * 10.0, o[1:4], o[4:7]
        k = int(round(t / self.dt))
        nxt = min(k + 1, len(self.pos) - 1)
        v = (self.pos[nxt] - p) / self.dt
        speed = np.linalg.norm(v)
        if speed > self.vmax:
            v *= self.vmax / speed
        q_now = frames.rotvec_to_quat(rv)
        q_err = frames.quat_multiply(self.quat[nxt], frames.quat_conjugate(q_now))
        w = frames.quat_to_rotvec(q_err) / self.dt
        rate = np.linalg.norm(w)
        if rate > self.wmax:
            w *= self.wmax / rate
        if self.hold[nxt]:  # the opening it has: opening = max (tanh(a[6]) + 1) / 2
            g = 2.0 * o[7] / self.max_opening - 1.0
        else:
            g = 1.0 - 2.0 * self.grip[nxt]  # +1 fully open ... -1 fully closed (METHOD 5)
        a = np.concatenate([v / self.vmax, w / self.wmax, [g]])
        return np.arctanh(np.clip(a, -math.tanh(ATANH_LIMIT), math.tanh(ATANH_LIMIT)))


def _collect(env: GripperEnv, act, teacher: DemoTracker, episodes: int, rng, cfg: WarmStartConfig,
             privileged: bool):
    """Roll ``act(obs_full)`` out; return observations, teacher labels and MC returns."""
    obs_all, labels, returns = [], [], []
    for _ in range(episodes):
        opts = {"sampler_scale": rng.uniform(cfg.scale_min, cfg.scale_max),
                "sampler_std": rng.uniform(cfg.std_min, cfg.std_max)}
        obs, info = env.reset(seed=int(rng.integers(2**31)), options=opts)
        ep_obs, ep_rew = [], []
        done = False
        while not done:
            full = np.concatenate([obs, info["privileged"]]) if privileged else obs
            ep_obs.append(full)
            labels.append(teacher.act(obs))
            a = act(full) + rng.normal(0.0, cfg.action_noise, 7)
            obs, r, term, trunc, info = env.step(a)
            ep_rew.append(r)
            done = term or trunc
        obs_all += ep_obs
        returns += list(np.cumsum(ep_rew[::-1])[::-1])
    return (np.asarray(obs_all, dtype=np.float32), np.asarray(labels, dtype=np.float32),
            np.asarray(returns, dtype=np.float32))


def dagger_warm_start(model, env: GripperEnv, reward: DemoReward,
                      config: WarmStartConfig | None = None, seed: int = 0,
                      privileged: bool = True, progress=None) -> dict:
    """Initialise ``model`` (an SB3 PPO with our actor-critic policy) by DAgger + value fit.

    Args:
        model: the PPO model (its ``policy`` is trained in place).
        env: a :class:`GripperEnv` of the action with ``reward`` as its reward function.
        reward: the demonstrations' reward (teacher targets).
        config: :class:`WarmStartConfig`.
        privileged: the model observes ``obs + privileged`` (24 values) instead of 8.
        progress: optional callable ``progress(message)``.

    Returns:
        Statistics: samples, final cloning loss, teacher and learner mean episode returns.
    """
    import torch

    cfg = config or WarmStartConfig()
    rng = np.random.default_rng(seed)
    teacher = DemoTracker(reward, env.config.control_hz, env.config.max_linear_speed,
                          env.config.max_angular_speed, cfg.grip_outside_window,
                          env.max_opening)
    policy = model.policy
    device = policy.device
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate)

    def learner(full):
        with torch.no_grad():
            x = torch.as_tensor(full, dtype=torch.float32, device=device)[None]
            return policy.get_distribution(x).distribution.mean[0].cpu().numpy()

    xs, ys = [], []
    stats = {"iterations": []}
    for it in range(cfg.iterations):
        act = (lambda full: teacher.act(full[:8])) if it == 0 else learner
        x, y, ret = _collect(env, act, teacher, cfg.episodes, rng, cfg, privileged)
        xs.append(x)
        ys.append(y)
        data_x = torch.as_tensor(np.concatenate(xs), device=device)
        data_y = torch.as_tensor(np.concatenate(ys), device=device)

        def bc_loss(b, data_x=data_x, data_y=data_y):
            mean = policy.get_distribution(data_x[b]).distribution.mean
            return ((mean - data_y[b]) ** 2).mean()

        loss_v = _fit(bc_loss, len(data_x), cfg, opt, rng)
        stats["iterations"].append({"actor": "teacher" if it == 0 else "learner",
                                    "samples": int(len(data_x)), "bc_loss": loss_v,
                                    "mean_return": _mean_episode_return(x, ret)})
        if progress:
            progress(f"warm start {it + 1}/{cfg.iterations}: "
                     f"{'teacher' if it == 0 else 'cloned policy'} return "
                     f"{stats['iterations'][-1]['mean_return']:.3f}, BC loss {loss_v:.4f}")
    # value regression on the cloned policy's Monte-Carlo returns
    if cfg.value_epochs:
        x, _, ret = _collect(env, learner, teacher, cfg.episodes, rng, cfg, privileged)
        vx = torch.as_tensor(x, device=device)
        vy = torch.as_tensor(ret, device=device)
        vcfg = replace(cfg, epochs=cfg.value_epochs)
        vloss = _fit(lambda b: ((policy.predict_values(vx[b]).reshape(-1) - vy[b]) ** 2).mean(),
                     len(vx), vcfg, opt, rng)
        stats["value_loss"] = vloss
        stats["cloned_mean_return"] = _mean_episode_return(x, ret)
    stats["samples"] = int(sum(len(x) for x in xs))
    return stats


def _mean_episode_return(obs: np.ndarray, ret: np.ndarray) -> float:
    """Mean return of the episodes in a batch (episode starts have time 0)."""
    starts = obs[:, 0] < 1e-6
    return float(ret[starts].mean()) if starts.any() else 0.0


def _fit(loss_fn, n: int, cfg: WarmStartConfig, opt, rng) -> float:
    import torch

    last = 0.0
    for _ in range(cfg.epochs):
        perm = torch.as_tensor(rng.permutation(n))
        for i in range(0, n, cfg.batch_size):
            loss = loss_fn(perm[i:i + cfg.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            last = float(loss.detach())
    return last
