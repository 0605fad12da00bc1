"""The gripper env: API checkers, determinism, forced gripper, termination, bad actions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pybullet as pb
import pytest
from real2sim_core.config import ConfigError
from real2sim_policy.env import (
    FINGER_OPEN,
    EnvConfig,
    GripperEnv,
    NonFiniteActionError,
    SamplerConfig,
    StartState,
)

from real2sim_core import frames


@pytest.mark.parametrize("action", ["push_left_to_right", "put_onto"])
def test_gymnasium_and_sb3_env_checkers(action):
    from gymnasium.utils.env_checker import check_env as gym_check
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = GripperEnv(action)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the checkers warn on soft problems
        gym_check(env, skip_render_check=True)
        sb3_check(env, warn=True)
    env.close()


def _run(env, seed, n=30):
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(n):
        obs, *_ = env.step(rng.uniform(-1, 1, 7))
        out.append(obs)
    return np.array(out), info["privileged"], env.object_poses()[0]


def test_deterministic_under_seed():
    a, b = GripperEnv("put_behind"), GripperEnv("put_behind")
    ra, rb = _run(a, 7), _run(b, 7)
    for x, y in zip(ra, rb):
        np.testing.assert_array_equal(x, y)
    rc = _run(a, 8)
    assert not np.array_equal(ra[0], rc[0])
    ra2 = _run(a, 7)  # same env, reset again with the same seed
    np.testing.assert_array_equal(ra[0], ra2[0])


def test_observation_and_privileged_layout():
    env = GripperEnv("put_onto")
    st = StartState([0.05, -0.05, 0.15], 0.3, 0.5, [0, 0, 0.035], 0.07, 0.045, 0.06, 0.042)
    obs, info = env.reset(seed=0, options={"start": st})
    assert obs.shape == (8,) and obs.dtype == np.float32
    assert obs[0] == 0.0
    np.testing.assert_allclose(obs[1:4], st.hand_pos, atol=1e-6)
    q = frames.gripper_quat_from_hand_angles(0.3, 0.5)
    np.testing.assert_allclose(obs[4:7], frames.quat_to_rotvec(q), atol=1e-5)
    assert obs[7] == pytest.approx(0.042, abs=1e-6)  # closed on the held object
    priv = info["privileged"]
    assert priv.shape == (16,)
    np.testing.assert_allclose(priv[[6, 7, 14, 15]], [0.07, 0.045, 0.06, 0.042], atol=1e-6)
    np.testing.assert_allclose(priv[8:11], st.hand_pos, atol=1e-6)  # held at the fingertip
    az, el = frames.hand_angles_from_gripper_quat(env.hand_pose()[1])
    assert float(az) == pytest.approx(0.3, abs=1e-6) and float(el) == pytest.approx(0.5, abs=1e-6)


def test_velocity_commands_and_forced_gripper():
    cfg = EnvConfig()
    env = GripperEnv("push_left_to_right", cfg)
    st = StartState([0.3, 0.3, 0.3], 0.0, 0.3, [0, 0, 0.04], 0.08, 0.045)
    env.reset(seed=0, options={"start": st})
    a = np.zeros(7)
    a[0] = math.atanh(0.5)  # 0.15 m/s along x
    a[6] = -10.0  # close
    for _ in range(12):
        env.step(a)
    p, _ = env.hand_pose()
    np.testing.assert_allclose(p, [0.45, 0.3, 0.3], atol=2e-3)
    assert env.opening() < 0.002
    while env.time < cfg.action_end + 0.5:
        env.step(a)
    assert env.opening() == pytest.approx(FINGER_OPEN, abs=1e-3)  # forced open after 7 s

    pick = GripperEnv("pick_up")
    pick.reset(seed=0, options={"start": st})
    b = np.zeros(7)
    b[6] = 10.0  # open, but forced closed after the window
    for _ in range(cfg.horizon):
        *_, trunc, _ = pick.step(b)
    assert trunc and pick.opening() < 0.002


def test_training_mode_terminates_on_table_contact():
    env = GripperEnv("push_left_to_right", EnvConfig(training=True))
    st = StartState([0.3, 0.3, 0.05], 0.0, 0.0, [0, 0, 0.04], 0.08, 0.045)
    env.reset(seed=0, options={"start": st})
    a = np.zeros(7)
    a[2] = -3.0
    terminated = False
    for _ in range(12):
        _, r, terminated, truncated, _ = env.step(a)
        if terminated:
            break
    assert terminated and not truncated
    ev = GripperEnv("push_left_to_right")  # evaluation mode never terminates early
    ev.reset(seed=0, options={"start": st})
    assert not any(ev.step(a)[2] for _ in range(12))


def test_training_mode_terminates_when_the_hand_presses_an_object_into_the_table():
    """The kinematic hand coming down on a cylinder's top presses it into the table with far
    more than the Panda's 40 N: training ends the episode; with the limit off it goes on
    (and the hand drives the cylinder through the table: what the limit keeps PPO from)."""
    st = StartState([0.0, 0.0, 0.11], 0.0, 0.0, [0, 0, 0.04], 0.08, 0.045)
    a = np.zeros(7)
    a[2], a[6] = -1.0, -10.0  # down, fingers closed
    env = GripperEnv("push_left_to_right", EnvConfig(training=True))
    env.reset(seed=0, options={"start": st})
    ends = [env.step(a)[2] for _ in range(3)]
    assert any(ends)  # within three steps of coming down
    assert env.press_force() > EnvConfig().max_press_force
    off = GripperEnv("push_left_to_right", EnvConfig(training=True, max_press_force=0.0))
    off.reset(seed=0, options={"start": st})
    assert not any(off.step(a)[2] for _ in range(3))
    assert off.object_poses()[0][0, 2] < 0.02  # squeezed down into the table


def test_a_push_from_the_side_adds_no_downward_force():
    env = GripperEnv("push_left_to_right", EnvConfig(training=True))
    env.reset(seed=0, options={"start": StartState([-0.09, 0.0, 0.05], 0.0, 0.0, [0, 0, 0.04],
                                                   0.08, 0.045)})
    a = np.zeros(7)
    a[0], a[6] = 1.0, -10.0  # along +x, fingers closed
    forces = []
    for _ in range(20):
        _, _, terminated, _, _ = env.step(a)
        assert not terminated
        forces.append(env.press_force())
    assert env.object_poses()[0][0, 0] > 0.2     # pushed along
    assert max(forces) < 1.0


def test_sampler_is_collision_free_and_follows_adr():
    env = GripperEnv("put_next_to", sampler=SamplerConfig(scale=1.0, std=0.1))
    for seed in range(5):
        env.reset(seed=seed)
        assert not env._colliding()
        s = env.start_state
        assert 0.04 <= s.obj0_height <= 0.10 and 0.04 <= s.obj0_radius <= 0.05
    env.reset(seed=0, options={"sampler_scale": 0.0, "sampler_std": 0.0})
    s = env.start_state
    assert s.hand_azi == pytest.approx(math.pi / 2) and s.hand_ele == 0.0


@pytest.mark.parametrize("action", ["push_left_to_right", "put_onto"])
def test_table_probe_matches_the_built_world(action):
    """The reset's table test on the previous world's hand (no build, no settle) decides as
    the built and settled world does, so resets draw the same starts as building every try."""
    env = GripperEnv(action, EnvConfig(training=True), SamplerConfig(scale=1.0, std=0.1))
    env.reset(seed=1)
    c = env.client
    rejected = 0
    for _ in range(50):
        s = env.sample_start()
        probe = env._hand_touches_table_at(s)
        env._build(s, 0.02)
        assert probe == (len(c.getClosestPoints(env._hand, env._plane, 0.0)) > 0)
        assert env._colliding() or not probe
        rejected += probe
    assert 10 <= rejected <= 40  # both outcomes were tested
    env.close()


def test_bad_actions_and_config_are_refused_with_messages():
    env = GripperEnv("pick_up")
    env.reset(seed=0)
    with pytest.raises(NonFiniteActionError, match="non-finite action"):
        env.step([0, 0, float("nan"), 0, 0, 0, 0])
    with pytest.raises(ValueError, match="7 values"):
        env.step([0, 0, 0])
    with pytest.raises(ConfigError, match=r"EnvConfig.substeps = 0 .*allowed \[1, 1000\]"):
        EnvConfig(substeps=0)
    with pytest.raises(KeyError, match="unknown action 'juggle'; known actions: "):
        GripperEnv("juggle")


def test_fast_rotation_helpers_match_core_frames():
    from real2sim_policy.env import fast_elevation, fast_rotvec

    rng = np.random.default_rng(3)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        np.testing.assert_allclose(fast_rotvec(q), frames.quat_to_rotvec(q), atol=1e-6)
        _, el = frames.hand_angles_from_gripper_quat(q)
        assert fast_elevation(q) == pytest.approx(float(el), abs=1e-9)


def test_an_env_starts_and_stops_its_physics_server_without_printing(capfd):
    """pybullet's C side writes to the process's stdout; a training run builds 14 envs and
    should not print a line per env."""
    env = GripperEnv("push_left_to_right")
    env.reset(seed=0)
    env.step(np.zeros(7, dtype=np.float32))
    cid = env.client.id
    env.close()
    env.close()  # idempotent
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    with pytest.raises(pb.error, match="[Nn]ot connected"):
        pb.getNumBodies(physicsClientId=cid)
