"""Demonstration-tracking warm start for PPO (an option of the trainer, ``train.init: track``).

PPO from a random network needs millions of steps before the hand even reaches the object
(the paper: 8.4 M steps, 3 h on 4 cores). The demonstrations already say where the hand should
be at every control time, so the trainer can start from a policy that *follows* them:

1. :class:`DemoTracker`, a teacher built only from the demonstrations (the same targets as the
   reward: :class:`~real2sim_policy.reward.DemoReward`): at control step k it drives the hand at
   full speed towards the demonstrations' mean hand pose of step k + 1 (positions averaged,
   azimuths averaged on the circle; where some demonstrations touch the object, over those
   only), and closes the gripper where most demonstrations touch.
   Before the action window it approaches the demonstrations' first hand pose from above
   (rise to a clearance height, move across, descend) instead of cutting through the object.
   Like the policy, it sees only the 8 observation values: no object state.
2. :func:`dagger_warm_start`: behaviour cloning with DAgger iterations (the first iteration
   follows the teacher, the next ones the current network, always labelled by the teacher) on
   starts drawn over the whole randomisation range, then the value network is regressed on the
   Monte-Carlo returns (discount 1) of the cloned policy under the real reward, so that the
   first PPO updates start from a calibrated critic instead of wrecking the cloned actor.

PPO then optimises the real multi-video reward from there (with the ADR curriculum as usual).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from real2sim_core.config import check_range

from real2sim_core import frames

from .env import FINGER_OPEN, GripperEnv
from .reward import DemoReward

__all__ = ["WarmStartConfig", "DemoTracker", "dagger_warm_start", "ATANH_LIMIT"]

ATANH_LIMIT = 3.0
"""Pre-tanh actions are clipped to +-3 (tanh(3) = 0.995: saturated, still differentiable)."""


@dataclass
class WarmStartConfig:
    """Settings of the demonstration-tracking warm start.

    Attributes:
        iterations: DAgger iterations (the first follows the teacher).
        episodes: episodes collected per iteration.
        epochs: passes over the aggregated data per iteration.
        batch_size: behaviour-cloning minibatch.
        learning_rate: Adam step size for cloning and value regression.
        clearance: height above the demonstrations' first hand pose for the approach, m.
        near: horizontal distance below which the approach descends, m.
        grip_opening: finger opening the teacher closes to where the demos touch, m.
        grasp_reach: where the demos touch, the teacher's fingertip goes this far beyond the
            demonstrated one along the hand direction, m. A human hand touches an object at its
            surface; a parallel-jaw gripper has to reach around it (about one object radius
            further) to hold it. 0 = follow the demonstrated fingertip exactly.
        consensus: where some demonstrations touch the object, average only those.
        hold_until_release: two-object actions: keep the gripper closed on the carried object
            from the start until the demonstrations release it.
        carry: two-object actions: until the release, move the held object (from above) to the
            demonstrations' mean position of the moved object at the release, instead of
            following their hand.
        carry_height: fingertip height above the moved object's bottom when carried (the
            object lies in the gripper with its centre at the fingertip), m.
        min_separation: smallest horizontal centre distance of the place point from the static
            object (two radii plus a margin), m; not for *put onto*.
        onto_height: *put onto*: the carried object's bottom is released no lower than this
            (above the tallest static object of the randomisation), m.
        min_height: lowest fingertip height the teacher targets (estimates may dip below the
            table; touching it ends a training episode), m.
        scale_min / scale_max: ADR orientation scale of the starts, U[min, max] per episode.
        std_min / std_max: ADR hand-position std of the starts, U[min, max] per episode, m.
        action_noise: Gaussian noise added to the acting policy's pre-tanh actions.
        value_epochs: passes of the value regression.
    """

    iterations: int = 4
    episodes: int = 48
    epochs: int = 15
    batch_size: int = 512
    learning_rate: float = 1e-3
    clearance: float = 0.12
    near: float = 0.03
    grip_opening: float = 0.03
    grasp_reach: float = 0.0
    min_height: float = 0.015
    consensus: bool = True
    hold_until_release: bool = True
    carry: bool = True
    carry_height: float = 0.05
    min_separation: float = 0.11
    onto_height: float = 0.11
    scale_min: float = 0.2
    scale_max: float = 1.0
    std_min: float = 0.02
    std_max: float = 0.2
    action_noise: float = 0.2
    value_epochs: int = 20

    def __post_init__(self):
        check_range(self, "iterations", 1, 100)
        check_range(self, "episodes", 1, 100000)
        check_range(self, "epochs", 1, 10000)
        check_range(self, "batch_size", 1)
        check_range(self, "learning_rate", 0.0, lo_open=True)
        check_range(self, "clearance", 0.0, 1.0)
        check_range(self, "near", 0.0, 1.0, lo_open=True)
        check_range(self, "grip_opening", 0.0, FINGER_OPEN)
        check_range(self, "grasp_reach", -0.2, 0.2)
        check_range(self, "min_height", -1.0, 1.0)
        check_range(self, "carry_height", 0.0, 1.0)
        check_range(self, "scale_min", 0.0, 1.0)
        check_range(self, "scale_max", self.scale_min, 1.0)
        check_range(self, "std_min", 0.0, 1.0)
        check_range(self, "std_max", self.std_min, 1.0)
        check_range(self, "action_noise", 0.0, 10.0)
        check_range(self, "value_epochs", 0, 10000)


class DemoTracker:
    """The teacher: pre-tanh actions that track the demonstrations' mean hand trajectory.

    Args:
        reward: the :class:`DemoReward` of the demonstrations (its per-step targets).
        config: :class:`WarmStartConfig` (approach geometry and grip opening).
        control_hz / max_linear_speed / max_angular_speed: the env's (METHOD section 5).
    """

    def __init__(self, reward: DemoReward, config: WarmStartConfig | None = None,
                 control_hz: float = 12.0, max_linear_speed: float = 0.3,
                 max_angular_speed: float = math.pi):
        self.config = config or WarmStartConfig()
        self.dt = 1.0 / control_hz
        self.vmax = max_linear_speed
        self.wmax = max_angular_speed
        self.times = reward.times
        self.window_start = reward.config.window_start
        # consensus: where any demonstration touches, follow only the touching ones (a demo
        # whose contact starts later would otherwise drag the mean off the object)
        touch = reward.touch > 0.5  # (K, D)
        w = np.ones(touch.shape)
        if self.config.consensus:
            w = np.where(touch.any(axis=1, keepdims=True), touch, True).astype(float)
        w /= w.sum(axis=1, keepdims=True)
        self.pos = np.einsum("kd,kdi->ki", w, reward.hand_pos)  # (K, 3)
        self.pos[:, 2] = np.maximum(self.pos[:, 2], self.config.min_height)
        self.azi = np.arctan2((w * np.sin(reward.hand_azi)).sum(1),
                              (w * np.cos(reward.hand_azi)).sum(1))
        self.ele = (w * reward.hand_ele).sum(1)
        self.quat = frames.gripper_quat_from_hand_angles(self.azi, self.ele)  # (K, 4)
        self.close = touch.mean(axis=1) > 0.5  # (K,)
        if reward.action.num_objects == 2 and self.config.hold_until_release:
            # the moved object starts in the closed gripper (METHOD 7): keep holding it until the
            # demonstrations let go inside the window (their last consensus touch), else to the
            # window's end
            in_win = (reward.times >= reward.config.window_start - 1e-9) & \
                (reward.times <= reward.config.window_end + 1e-9)
            held = np.flatnonzero(self.close & in_win)
            last = held[-1] if len(held) else np.flatnonzero(in_win)[-1]
            self.close[: last + 1] = True
        self.release_step = -1
        if reward.action.num_objects == 2 and self.config.carry:
            # carry the held object (its centre is the fingertip) over to where the
            # demonstrations put it, approaching from above, and let go there
            in_win = reward.times <= reward.config.window_end + 1e-9
            held = np.flatnonzero(self.close & in_win)
            self.release_step = int(held[-1]) if len(held) else int(np.flatnonzero(in_win)[-1])
            m = reward.action.manipulated_object
            place = reward.obj_pos[self.release_step, :, m].mean(axis=0)
            # objects cannot overlap: put the carried one at least min_separation (centre to
            # centre, horizontally) from the static one at the origin, unless it goes on top
            d = float(np.linalg.norm(place[:2]))
            if reward.action.name == "put_onto":
                place[2] = max(place[2], self.config.onto_height)
            elif d < self.config.min_separation:
                direction = place[:2] / d if d > 1e-6 else np.array([1.0, 0.0])
                place[:2] = direction * self.config.min_separation
            self.place = place + np.array([0.0, 0.0, self.config.carry_height])
        if self.config.grasp_reach:
            reach = frames.hand_direction(self.azi, self.ele) * self.config.grasp_reach
            self.pos = self.pos + np.where(self.close[:, None], reach, 0.0)
        first = int(np.searchsorted(self.times, self.window_start - 1e-9))
        self.approach_target = self.pos[min(first, len(self.pos) - 1)]

    def act(self, obs) -> np.ndarray:
        """(7,) pre-tanh action for the (8,) observation (or its first 8 values)."""
        o = np.asarray(obs, dtype=float).reshape(-1)
        t, p, rv = o[0] * 10.0, o[1:4], o[4:7]
        k = int(round(t / self.dt))
        nxt = min(k + 1, len(self.pos) - 1)
        target = self.pos[nxt]
        if nxt <= self.release_step:
            target = self._approach(p, self.place)
        elif self.release_step >= 0:  # let go, then straight up, clear of both objects
            target = np.array([p[0], p[1], self.place[2] + self.config.clearance])
        elif self.times[nxt] < self.window_start - 1e-9:
            target = self._approach(p, self.approach_target)
        v = (target - p) / self.dt
        speed = np.linalg.norm(v)
        if speed > self.vmax:
            v *= self.vmax / speed
        q_now = frames.rotvec_to_quat(rv)
        q_err = frames.quat_multiply(self.quat[nxt], frames.quat_conjugate(q_now))
        w = frames.quat_to_rotvec(q_err) / self.dt
        rate = np.linalg.norm(w)
        if rate > self.wmax:
            w *= self.wmax / rate
        opening = self.config.grip_opening if self.close[nxt] else FINGER_OPEN
        g = 2.0 * opening / FINGER_OPEN - 1.0
        a = np.concatenate([v / self.vmax, w / self.wmax, [g]])
        return np.arctanh(np.clip(a, -math.tanh(ATANH_LIMIT), math.tanh(ATANH_LIMIT)))

    def _approach(self, p: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Rise to the clearance height, move across above the goal, then descend."""
        c = self.config
        safe_z = goal[2] + c.clearance
        if np.linalg.norm(p[:2] - goal[:2]) <= c.near:
            return goal
        if p[2] < safe_z - 0.01:
            return np.array([p[0], p[1], safe_z])
        return np.array([goal[0], goal[1], safe_z])


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
    teacher = DemoTracker(reward, cfg, env.config.control_hz, env.config.max_linear_speed,
                          env.config.max_angular_speed)
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
