"""env.max_finger_opening: the fingers open no further than set (the Franka hand: 0.04 m a side),
the gripper command and the opening forced after the action window follow it, a held object
wider than it is refused by name, and a policy trained with it carries it to every env that
runs it (benchmark, rollout)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from real2sim_core.cli import main
from real2sim_core.errors import InputError
from real2sim_policy.env import EnvConfig, GripperEnv, StartState
from real2sim_policy.env_config import FINGER_OPEN, POLICY_WORLD_FIELDS
from real2sim_policy.policies import (
    ZIP_METADATA_NAME,
    env_config_for_policy,
    policy_world,
    stamp_policy_zip,
)

PANDA_HAND = 0.04


def _start(two_objects=False, r1=0.045):
    return StartState(np.array([-0.15, 0.0, 0.05]), 0.0, 0.0, np.array([0.0, 0.0, 0.035]),
                      0.07, 0.045, 0.07, r1) if not two_objects else \
        StartState(np.array([0.0, -0.15, 0.06]), 1.5708, 0.0, np.array([0.0, 0.0, 0.035]),
                   0.07, 0.045, 0.07, r1)


@pytest.mark.parametrize("bad", [0.0, -0.01, FINGER_OPEN + 0.001])
def test_the_opening_must_lie_in_the_fingers_travel(bad):
    with pytest.raises(InputError, match="max_finger_opening"):
        EnvConfig(max_finger_opening=bad)


def test_the_fingers_open_no_further_than_set_during_and_after_the_window():
    env = GripperEnv("push_left_to_right", EnvConfig(max_finger_opening=PANDA_HAND))
    try:
        assert env.max_opening == PANDA_HAND
        env.reset(options={"start": _start()})
        assert env.opening() == pytest.approx(PANDA_HAND, abs=1e-3)  # starts wide open
        wide = np.array([0, 0, 0, 0, 0, 0, 5.0])  # tanh ~ 1: the widest command
        closed = np.array([0, 0, 0, 0, 0, 0, -5.0])
        for _ in range(12):
            env.step(closed)
        assert env.opening() < 0.005
        openings = []
        for _ in range(60):
            obs, *_ = env.step(wide)
            openings.append(env.opening())
        assert max(openings) <= PANDA_HAND + 1e-3 and openings[-1] > PANDA_HAND - 2e-3
        assert obs[7] == pytest.approx(env.opening(), abs=1e-6)
        while env.time < env.config.action_end + 1.0:  # after the window: forced open, to 0.04
            env.step(closed)
        assert env.opening() == pytest.approx(PANDA_HAND, abs=2e-3)
    finally:
        env.close()


def test_a_held_object_wider_than_the_opening_is_refused_by_name():
    env = GripperEnv("put_next_to", EnvConfig(max_finger_opening=PANDA_HAND))
    try:
        with pytest.raises(InputError, match=r"radius 0.045 m is wider than the fingers open "
                                             r"\(env.max_finger_opening = 0.04 m"):
            env.reset(options={"start": _start(two_objects=True, r1=0.045)})
        env.reset(options={"start": _start(two_objects=True, r1=0.035)})
        assert env.opening() == pytest.approx(0.035, abs=3e-3)  # holds the narrow one
    finally:
        env.close()


def _zip(tmp_path, world=None, raw=None):
    z = tmp_path / "policy.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("data", "{}")
        if raw is not None:
            f.writestr(ZIP_METADATA_NAME, raw)
    if raw is None:
        stamp_policy_zip(z, "push_left_to_right", world)
    return z


def test_a_policy_carries_its_world_into_every_env_that_runs_it(tmp_path):
    z = _zip(tmp_path, {"max_finger_opening": PANDA_HAND})
    assert policy_world(z) == {"max_finger_opening": PANDA_HAND}
    cfg = env_config_for_policy(str(z), EnvConfig(substeps=7))
    assert cfg.max_finger_opening == PANDA_HAND and cfg.substeps == 7  # the rest is kept
    # a kind, or a zip trained before the record: the default world
    assert policy_world("scripted") == {}
    assert env_config_for_policy("scripted", None).max_finger_opening == FINGER_OPEN
    old = tmp_path / "old"
    old.mkdir()
    assert policy_world(_zip(old)) == {}
    assert set(POLICY_WORLD_FIELDS) == {"max_finger_opening"}


@pytest.mark.parametrize("world, match", [
    ({"max_finger_opening": "wide"}, "is not a finite number"),
    ({"hand_mass": 3.0}, "unknown world setting"),
])
def test_a_bad_world_record_is_named(tmp_path, world, match):
    z = _zip(tmp_path, raw=json.dumps({"action": "push_left_to_right", "world": world}))
    with pytest.raises(InputError, match=match):
        policy_world(z)


def test_the_rollout_command_runs_a_trained_policy_in_its_world(tmp_path, capsys):
    """``real2sim rollout`` of a PPO zip stamped with a 0.04 m world: no waypoint of its plan
    opens wider (the default world would let the same actions open to 0.075 m)."""
    from stable_baselines3 import PPO

    env = GripperEnv("push_left_to_right")
    z = tmp_path / "policy.zip"
    PPO("MlpPolicy", env, n_steps=16, batch_size=16, device="cpu", seed=0,
        policy_kwargs={"log_std_init": 1.0}).save(z)
    env.close()
    stamp_policy_zip(z, "push_left_to_right", {"max_finger_opening": PANDA_HAND})
    out = tmp_path / "plan.json"
    rc = main(["rollout", "--action", "push_left_to_right", "--policy", str(z), "--spec", "easy",
               "--start", "0", "--out", str(out)])
    out_text, err = capsys.readouterr()
    assert rc == 0, err
    assert "note: env.max_finger_opening = 0.04 (recorded with policy.zip; the config has " \
           "0.075)" in out_text
    openings = [w["opening"] for w in json.loads(out.read_text())["waypoints"]]
    assert max(openings) <= PANDA_HAND + 1e-3 and max(openings) > PANDA_HAND / 2
    # and `real2sim benchmark` runs it in that world: its recorded rollouts open no wider
    bench = tmp_path / "bench"
    rc = main(["benchmark", "--action", "push_left_to_right", "--policy", str(z), "--spec",
               "easy", "--limit", "2", "--workers", "1", "--no-plots", "--quiet",
               "--out", str(bench)])
    out_text, err = capsys.readouterr()
    assert rc == 0, err
    assert "note: env.max_finger_opening = 0.04" in out_text
    for csv in sorted((bench / "rollouts").glob("*.csv")):
        lines = [ln for ln in csv.read_text().splitlines() if not ln.startswith("#")]
        col = lines[0].split(",").index("opening")
        widest = max(float(ln.split(",")[col]) for ln in lines[1:])
        assert PANDA_HAND / 2 < widest <= PANDA_HAND + 1e-3, csv


def test_curriculum_starts_back_off_an_object_the_fingers_cannot_straddle():
    """METHOD's first curriculum starts put the fingertip at the object's centre: 0.075 m fingers
    straddle it, 0.04 m fingers overlap it at every draw. With sampler.retreat the hand backs
    off along its axis until it clears the object; without, the reset ends on an overlapping
    start (the last of max_tries draws)."""
    from real2sim_policy.env import SamplerConfig

    from real2sim_core import frames

    early = {"scale": 0.01, "std": 0.005, "max_tries": 5}
    cases = ((FINGER_OPEN, 0.0, False), (PANDA_HAND, 0.0, True), (PANDA_HAND, 0.2, False))
    for opening, retreat, overlaps in cases:
        env = GripperEnv("push_left_to_right", EnvConfig(max_finger_opening=opening),
                         SamplerConfig(**early, retreat=retreat))
        try:
            for seed in range(5):
                env.reset(seed=seed)
                assert env._colliding() == overlaps, (opening, retreat, seed)
                st = env.start_state
                tip, obj = np.asarray(st.hand_pos), np.asarray(st.obj0_pos)
                if retreat:  # moved back along the hand's axis, just clear of the object
                    d = frames.hand_direction(st.hand_azi, st.hand_ele)
                    off = tip - np.array([0.0, 0.0, obj[2]])
                    back = -float(off @ d)
                    assert 0.0 < back <= retreat  # and no further than needed:
                    ahead = env._build(replace(st, hand_pos=tip + 0.005 * d), 0.0, retreat)
                    assert np.allclose(ahead.hand_pos, tip, atol=1e-9)  # backed off one step
                    assert np.linalg.norm(off + back * d) < 0.03  # drawn near the centre
        finally:
            env.close()
