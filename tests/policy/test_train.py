"""`real2sim train`: curriculum, demonstrations, the warm-start teacher, PPO runs with real SB3
and pybullet (tiny budgets), checkpoints/resume and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from real2sim_core.cli import main as cli_main
from real2sim_core.config import ConfigError
from real2sim_core.errors import InputError
from real2sim_policy.demos import load_demos
from real2sim_policy.env import EnvConfig, GripperEnv, StartState
from real2sim_policy.policies import make_policy
from real2sim_policy.reward import DemoReward, RewardConfig
from real2sim_policy.rollout import run_rollout
from real2sim_policy.train import train_policy
from real2sim_policy.train_config import CurriculumConfig, PPOConfig, TrainConfig, curriculum_at
from real2sim_policy.training_env import TrainingEnv
from real2sim_policy.warmstart import DemoTracker, WarmStartConfig

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "models" / "demos"


def _tiny(**kw) -> TrainConfig:
    base = dict(updates=2, envs=1, envs_per_process=1, validation_starts=2, validation_every=1,
                checkpoint_every=1,
                ppo=PPOConfig(episodes_per_update=1, epochs=1, minibatches=1),
                warm_start=WarmStartConfig(iterations=1, episodes=1, epochs=1, value_epochs=1))
    base.update(kw)
    return TrainConfig(**base)


def test_curriculum_follows_spec_and_stretches():
    c = CurriculumConfig()
    assert curriculum_at(0, 1000, c) == pytest.approx((0.01, 0.005))
    assert curriculum_at(100, 1000, c) == pytest.approx((0.41, 0.005))
    assert curriculum_at(248, 1000, c)[0] == pytest.approx(1.0)  # 0.01 + 0.004 * 248 > 1
    assert curriculum_at(600, 1000, c)[1] == pytest.approx(0.005 + 0.0005 * 100)
    assert curriculum_at(1000, 1000, c)[1] == pytest.approx(0.25)
    # a 100-update run walks the same schedule 10x faster
    assert curriculum_at(10, 100, c) == pytest.approx(curriculum_at(100, 1000, c))
    assert curriculum_at(60, 100, c) == pytest.approx(curriculum_at(600, 1000, c))


def test_load_demos_reads_folders_and_checks_them(tmp_path):
    demos = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")
    assert len(demos) >= 3 and all(d.num_objects == 1 for d in demos)
    with pytest.raises(InputError, match="2-object action"):
        load_demos([DEMOS / "push_left_to_right"], "put_behind")
    with pytest.raises(InputError, match="not of 'pull_left_to_right'"):
        load_demos([DEMOS / "push_left_to_right"], "pull_left_to_right")
    with pytest.raises(InputError, match="no such file or folder"):
        load_demos([tmp_path / "missing"], "push_left_to_right")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no \\*.csv"):
        load_demos([tmp_path / "empty"], "push_left_to_right")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,hposx\n0,zero\n")
    with pytest.raises(InputError):
        load_demos([bad], "push_left_to_right")
    assert all(d.aligned and d.phase is not None and d.num_frames >= 2 for d in demos)


def _write_demo(path, demo):
    from real2sim_core.trajectory import write_states_csv

    return write_states_csv(demo, path)


def _replace(demo, **meta):
    import dataclasses

    return dataclasses.replace(demo.copy(), **meta)


@pytest.mark.parametrize("case,match", [
    ("no_phase", "no detectable action phase"),
    ("one_frame", "1 action-phase frame"),
    ("other_action", "is a demonstration of 'pick_up', not of 'push_left_to_right'"),
    ("raw_frame", "not in the aligned frame"),
])
def test_bad_demonstrations_are_refused_naming_the_file(tmp_path, capsys, case, match):
    """A demonstration without an action phase, with fewer than 2 phase frames, or of another
    action stops `real2sim train` before anything starts, with one line naming the file."""
    good = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")[0]
    folder = tmp_path / "demos"
    folder.mkdir()
    for i, d in enumerate(load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")):
        _write_demo(folder / f"ok{i}.csv", d)
    if case == "no_phase":  # the estimator found no phase: the whole video, no '# phase:'
        bad = _replace(good, phase=None)
    elif case == "one_frame":
        bad = _replace(good.slice(0, 1), phase=(good.phase[0], good.phase[0] + 1))
    elif case == "other_action":
        bad = load_demos([DEMOS / "pick_up"], "pick_up")[0]
    else:
        bad = _replace(good, aligned=False)
    path = _write_demo(folder / "zz_bad.csv", bad)
    with pytest.raises(InputError, match=match) as err:
        load_demos([folder], "push_left_to_right")
    assert str(path) in str(err.value)
    out = tmp_path / "run"
    rc = cli_main(["train", "--action", "push_left_to_right", "--states", str(folder),
                   "--out", str(out), "--updates", "1", "--quiet"])
    msg = capsys.readouterr().err
    assert rc == 2 and str(path) in msg and "Traceback" not in msg
    assert len(msg.strip().splitlines()) == 1
    assert not out.exists()  # refused before training started


def test_training_env_exposes_privileged_obs_and_wide_actions():
    demos = load_demos([DEMOS / "put_behind"], "put_behind")
    from real2sim_policy.env import SamplerConfig

    env = TrainingEnv("put_behind", demos, EnvConfig(), SamplerConfig(), RewardConfig())
    obs, _ = env.reset(seed=0)
    assert obs.shape == (24,) and env.observation_space.contains(obs)
    assert env.action_space.high[0] == 5.0  # SB3's clipping must not cut the pre-tanh action
    assert obs[8 + 8 + 7] == pytest.approx(env.unwrapped.radii[1])  # object 1 radius slot
    env.set_curriculum(1.0, 0.2)
    env.reset(seed=1)
    assert env.unwrapped.sampler.scale == 1.0 and env.unwrapped.sampler.std == 0.2
    _, r, *_ = env.step(np.zeros(7))
    assert r > 0.0  # the demonstrations' reward is wired in
    env.close()


def test_teacher_tracks_the_demonstrations_per_step_mean():
    """The warm-start teacher is the demonstrations' per-step mean hand pose and grip, seen
    through the 8 observation values only, and the hand follows it in the env."""
    demos = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")
    reward = DemoReward(demos, "push_left_to_right")
    teacher = DemoTracker(reward)
    np.testing.assert_allclose(teacher.pos, reward.hand_pos.mean(axis=1))
    np.testing.assert_allclose(teacher.ele, reward.hand_ele.mean(axis=1))
    np.testing.assert_allclose(teacher.grip, (reward.touch > 0.5).mean(axis=1))
    # grip: open where no demonstration touches, closed where all do (tanh(a[6]) = +-1)
    obs = np.zeros(8)
    none = np.flatnonzero(teacher.grip[1:] == 0.0)
    if len(none):
        obs[0] = none[0] / 12.0 / 10.0
        assert math.tanh(teacher.act(obs)[6]) > 0.99

    class Teacher:
        def reset(self, env):
            pass

        def act(self, obs, env):
            return teacher.act(obs)

    env = GripperEnv("push_left_to_right", EnvConfig())
    p0 = teacher.pos[1]
    start = StartState([p0[0], p0[1], max(p0[2], 0.06)], teacher.azi[1], teacher.ele[1],
                       [0.0, 0.0, 0.035], 0.07, 0.045)
    ro = run_rollout(env, Teacher(), start, seed=0)
    env.close()
    # where the target moves slower than the speed limit, the hand is on it one step later
    err = np.linalg.norm(ro.hand_pos[40:80] - teacher.pos[40:80], axis=1)
    assert np.median(err) < 0.02, err


def test_warm_start_holds_no_task_knowledge():
    """The warm start reads nothing but the demonstrations: no action names, no branch on the
    action, no constants of the start-state randomisation (guard for METHOD-clean learning)."""
    import ast

    import real2sim_policy.warmstart as ws
    from real2sim_core.actions import action_names

    tree = ast.parse(Path(ws.__file__).read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    attrs, words = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute):
            attrs.add(n.attr)
        if isinstance(n, ast.Name):
            words.add(n.id)
        elif isinstance(n, ast.Attribute):
            words.add(n.attr)
        elif isinstance(n, ast.arg):
            words.add(n.arg)
        elif isinstance(n, ast.alias):
            words.add(n.asname or n.name)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            words.update(n.value.split())
    tokens = {t for w in words for t in w.lower().replace(".", "_").split("_") if t}
    task_words = {t for name in action_names() for t in name.split("_")} - {"to", "of", "up"}
    assert not tokens & task_words, f"warmstart.py names actions: {sorted(tokens & task_words)}"
    assert not words & set(action_names())
    # no branch on the action or its geometry, no look at the objects or the start sampler
    banned_attrs = {"action", "spec_action", "name", "kind", "relation", "direction",
                    "num_objects", "manipulated_object", "obj_pos", "obj_quat", "heights",
                    "radii", "sampler", "object_poses", "privileged_observation"}
    assert not attrs & banned_attrs, sorted(attrs & banned_attrs)
    banned_words = {"onto_height", "min_separation", "carry", "hold_until_release", "clearance",
                    "grasp_reach", "SamplerConfig", "FINGER_OPEN", "height_min", "radius_max"}
    assert not words & banned_words, sorted(words & banned_words)
    assert set(WarmStartConfig.__dataclass_fields__) == {
        "iterations", "episodes", "epochs", "batch_size", "learning_rate", "scale_min",
        "scale_max", "std_min", "std_max", "action_noise", "value_epochs",
        "grip_outside_window"}


def test_teacher_holds_the_gripper_outside_the_window_only_when_asked():
    """``grip_outside_window``: ``clamp`` repeats the first action-phase frame's touch before
    the window (the pull demonstrations touch from their first frame: closed from t = 0);
    ``hold`` commands the observed opening there and follows the touch fraction inside."""
    demos = load_demos([DEMOS / "pull_left_to_right"], "pull_left_to_right")
    reward = DemoReward(demos, "pull_left_to_right")
    assert reward.touch[0].min() > 0.5  # every demonstration touches in its first frame
    clamp = DemoTracker(reward)
    hold = DemoTracker(reward, grip_outside_window="hold", max_opening=0.075)
    np.testing.assert_array_equal(hold.hold, ~reward.inside)
    assert not clamp.hold.any()
    k_before, k_inside = 10, int(np.flatnonzero(reward.inside)[5])
    for k, opening in [(k_before, 0.075), (k_before, 0.03), (k_inside, 0.075)]:
        obs = np.zeros(8)
        obs[0], obs[7] = (k - 1) / 12.0 / 10.0, opening  # acts for step k
        g_clamp = math.tanh(clamp.act(obs)[6])
        g_hold = math.tanh(hold.act(obs)[6])
        assert g_clamp == pytest.approx(1.0 - 2.0 * clamp.grip[k], abs=0.01)
        if k == k_before:  # the command that keeps the opening: 0.0375 (tanh + 1) = opening
            assert 0.0375 * (g_hold + 1.0) == pytest.approx(opening, abs=0.001)
        else:
            assert g_hold == pytest.approx(g_clamp)
    assert clamp.grip[k_before] == 1.0  # clamp: closed before the window
    with pytest.raises(ConfigError, match="grip_outside_window"):
        WarmStartConfig(grip_outside_window="open")


def test_mirror_demos_trains_on_both_sides_or_explains(tmp_path):
    """train.mirror_demos: the flipped demonstrations join the reward, the two-object starts'
    anchors and the recorded demonstration list; a push (left/right in its label) and reward
    'single' are refused before anything runs."""
    demos = load_demos([DEMOS / "put_in_front_of"], "put_in_front_of")
    out = tmp_path / "m"
    train_policy("put_in_front_of", demos, out, _tiny(updates=1, mirror_demos=True),
                 progress=False)
    ids = [d["video_id"] for d in json.loads((out / "policy.json").read_text())["demonstrations"]]
    assert ids == [d.video_id for d in demos] + [d.video_id + "~mirrored" for d in demos]
    pushes = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")
    with pytest.raises(InputError, match="shows push_right_to_left"):
        train_policy("push_left_to_right", pushes, tmp_path / "p", _tiny(mirror_demos=True),
                     progress=False)
    with pytest.raises(InputError, match="reward 'single'"):
        train_policy("put_in_front_of", demos[:1], tmp_path / "s", _tiny(mirror_demos=True),
                     reward_config=RewardConfig(reduction="single"), progress=False)
    assert not (tmp_path / "p").exists() and not (tmp_path / "s").exists()


def test_train_tiny_run_writes_a_loadable_policy_and_resumes(tmp_path):
    demos = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")
    out = tmp_path / "run"
    res = train_policy("push_left_to_right", demos, out, _tiny(init="track"), progress=False,
                       command="test")
    info = json.loads((out / "policy.json").read_text())
    assert info["action"] == "push_left_to_right" and info["updates"] == 2
    assert info["env_steps"] == 2 * 120 and len(info["history"]) == 2
    assert info["warm_start"]["samples"] == 120 and "val_success" in info["warm_start"]
    assert 0.0 <= info["final_validation_success"] <= 1.0
    assert (out / "training.png").stat().st_size > 1000
    assert any((out / "tb").rglob("events.out.tfevents.*"))
    ck = json.loads((out / "checkpoints" / "state.json").read_text())
    assert ck["update"] == 1 and (out / "checkpoints" / ck["checkpoint"]).is_file()
    # the shipped loader takes it, refuses another action, and it rolls out deterministically
    pol = make_policy(str(res.policy_path), "push_left_to_right")
    with pytest.raises(InputError, match="trained for 'push_left_to_right'"):
        make_policy(str(res.policy_path), "pull_left_to_right")
    env = GripperEnv("push_left_to_right")
    a = run_rollout(env, pol, seed=3)
    b = run_rollout(env, pol, seed=3)
    env.close()
    np.testing.assert_allclose(a.hand_pos, b.hand_pos)
    # resume from the update-1 checkpoint and run to 3 updates
    res2 = train_policy("push_left_to_right", demos, out, _tiny(updates=3, init="track"),
                        resume=True, progress=False)
    assert [h["update"] for h in res2.info["history"]] == [1, 2, 3]
    assert res2.info["env_steps"] == 3 * 120
    # wall time counts across the resume: never below what the checkpoint had recorded
    elapsed = [h["elapsed_s"] for h in res2.info["history"]]
    assert elapsed == sorted(elapsed) and res2.info["wall_s"] >= round(ck["elapsed_s"], 1)
    # a resume whose command differs from the checkpoint's run is refused with the difference
    with pytest.raises(InputError, match=r"does not match this command: train\.ppo\.epochs: "
                       r"checkpoint 1, this run 2"):
        train_policy("push_left_to_right", demos, out,
                     _tiny(updates=4, init="track",
                           ppo=PPOConfig(episodes_per_update=1, epochs=2, minibatches=1)),
                     resume=True, progress=False)
    with pytest.raises(InputError, match=r"demonstrations.*checkpoint"):
        train_policy("push_left_to_right", demos[:-1], out, _tiny(updates=4, init="track"),
                     resume=True, progress=False)

    with pytest.raises(InputError, match="reward.reduction: checkpoint 'mean', this run 'max'"):
        train_policy("push_left_to_right", demos, out, _tiny(updates=4, init="track"),
                     resume=True, progress=False, reward_config=RewardConfig(reduction="max"))
    with pytest.raises(InputError, match="beyond this command's 1 updates"):
        train_policy("push_left_to_right", demos, out, _tiny(updates=1, init="track"),
                     resume=True, progress=False)


def test_resume_cli_refuses_a_different_command(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--action", "pull_left_to_right", "--states",
            str(DEMOS / "pull_left_to_right"), "--out", str(out), "--envs", "1",
            "--episodes-per-update", "1", "--epochs", "1", "--quiet",
            "--set", "train.validation_starts=1", "--set", "train.checkpoint_every=1",
            "--set", "train.ppo.minibatches=1"]
    assert cli_main([*base, "--updates", "2"]) == 0
    info = json.loads((out / "policy.json").read_text())
    assert info["command"].startswith("real2sim train --action pull_left_to_right")
    assert "--quiet" in info["command"]
    git = info["git"]
    assert (git["commit"] is None and git["why"]) or len(git["commit"]) == 40
    capsys.readouterr()
    rc = cli_main([*base, "--updates", "3", "--resume", "--seed", "5"])
    err = capsys.readouterr().err
    assert rc == 2 and "does not match this command" in err and "train.seed: checkpoint 0, " \
        "this run 5" in err and len(err.strip().splitlines()) == 1
    assert cli_main([*base, "--updates", "3", "--resume"]) == 0
    assert json.loads((out / "policy.json").read_text())["history"][-1]["update"] == 3


def test_corrupt_checkpoint_and_mismatched_demos_fail_before_training(tmp_path):
    demos = load_demos([DEMOS / "push_left_to_right"], "push_left_to_right")
    with pytest.raises(InputError, match="no checkpoint to resume"):
        train_policy("push_left_to_right", demos, tmp_path / "none", _tiny(), resume=True,
                     progress=False)
    ck = tmp_path / "c" / "checkpoints"
    ck.mkdir(parents=True)
    (ck / "state.json").write_text(json.dumps({"update": 1, "checkpoint": "update_00001.zip"}))
    (ck / "update_00001.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="records no run settings"):  # an older version's
        train_policy("push_left_to_right", demos, tmp_path / "c", _tiny(), resume=True,
                     progress=False)
    from real2sim_policy.checkpoints import run_signature
    from real2sim_policy.env import SamplerConfig

    sig = run_signature("push_left_to_right", demos, _tiny(), EnvConfig(), SamplerConfig(),
                        RewardConfig())
    (ck / "state.json").write_text(json.dumps({"update": 1, "checkpoint": "update_00001.zip",
                                               "run": sig}))
    with pytest.raises(InputError, match="corrupt or incompatible checkpoint"):
        train_policy("push_left_to_right", demos, tmp_path / "c", _tiny(), resume=True,
                     progress=False)
    with pytest.raises(InputError, match="needs 2"):
        train_policy("put_behind", demos, tmp_path / "x", _tiny(), progress=False)
    with pytest.raises(InputError, match="no demonstrations"):
        train_policy("push_left_to_right", [], tmp_path / "y", _tiny(), progress=False)


def test_train_cli_bad_input_is_one_line(tmp_path, capsys):
    rc = cli_main(["train", "--action", "push_sideways", "--states", str(DEMOS),
                   "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "push_sideways" in err and "Traceback" not in err
    rc = cli_main(["train", "--action", "put_onto", "--states",
                   str(DEMOS / "pull_left_to_right"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "2-object action" in err
    assert not (tmp_path / "o").exists()  # nothing started


def test_train_cli_runs_and_rollout_uses_the_policy(tmp_path, capsys):
    out = tmp_path / "cli"
    cfg = tmp_path / "policy.yaml"
    cfg.write_text("real2sim_policy:\n  ros__parameters:\n    train:\n      validation_starts: 1\n"
                   "      warm_start: {iterations: 1, episodes: 1, epochs: 1, value_epochs: 1}\n"
                   "      ppo: {minibatches: 1}\n")
    rc = cli_main(["train", "--action", "pull_left_to_right", "--states",
                   str(DEMOS / "pull_left_to_right"), "--out", str(out), "--updates", "1",
                   "--envs", "1", "--envs-per-process", "2", "--episodes-per-update", "1",
                   "--epochs", "1", "--init", "track", "--reward", "max", "--config", str(cfg),
                   "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "reward max" in text and f"wrote {out}/policy.zip" in text
    info = json.loads((out / "policy.json").read_text())
    assert info["reward"] == "max" and info["command"].startswith("real2sim train")
    assert info["envs"] == 2 and "--envs-per-process 2" in info["command"]
    assert info["env_steps"] == 120 and info["collect_s"] > 0 and info["update_s"] > 0
    plan = tmp_path / "plan.json"
    rc = cli_main(["rollout", "--action", "pull_left_to_right", "--policy",
                   str(out / "policy.zip"), "--spec", "hard", "--start", "5", "--out",
                   str(plan)])
    assert rc == 0 and json.loads(plan.read_text())["waypoints"]


def test_rollout_start_accepts_a_pose(tmp_path, capsys):
    from real2sim_policy.jobs import parse_start
    from real2sim_policy.rollout import load_start_states

    starts = load_start_states(REPO / "data/benchmark/benchmark_easy.csv")
    label, s = parse_start("hposx=0.1, hposy=-0.05,hazi=0.5", starts)
    assert label == "pose" and s.hand_pos[:2] == pytest.approx([0.1, -0.05])
    assert s.hand_azi == 0.5 and s.hand_pos[2] == starts[0][1].hand_pos[2]
    assert parse_start("3", starts)[0] == starts[3][0]
    for bad, msg in (("hposq=1", "not KEY=VALUE"), ("hposx=abc", "not a number"),
                     ("5000", "outside"), ("o0rad=0.2", "does not fit")):
        with pytest.raises(InputError, match=msg):
            parse_start(bad, starts)
    plan = tmp_path / "p.json"
    assert cli_main(["rollout", "--action", "push_left_to_right", "--policy", "scripted",
                     "--start", "hposx=-0.1,hposy=0.0,hposz=0.08,hazi=0,hele=0.3",
                     "--out", str(plan)]) == 0
    assert "start pose: success" in capsys.readouterr().out


@pytest.mark.slow
def test_train_with_env_processes(tmp_path):
    """Worker processes (spawn, 2 x 2 envs), the METHOD network, a few updates end to end."""
    demos = load_demos([DEMOS / "pull_right_to_left"], "pull_right_to_left")
    cfg = TrainConfig(updates=3, envs=2, envs_per_process=2, validation_starts=4,
                      validation_every=1, checkpoint_every=0,
                      ppo=PPOConfig(episodes_per_update=4, epochs=2))
    res = train_policy("pull_right_to_left", demos, tmp_path / "r", cfg, progress=False)
    assert res.info["env_steps"] == 3 * 4 * 120
    assert res.info["final_curriculum"]["scale"] == pytest.approx(1.0)  # stretched schedule
    assert [h["update"] for h in res.info["history"]] == [1, 2, 3]


SHIPPED = sorted(p.parent.name for p in (REPO / "models").glob("*/policy.zip"))


@pytest.mark.slow
@pytest.mark.parametrize("action", SHIPPED)
def test_shipped_policy_matches_its_reported_hard_success(action, tmp_path):
    """The first 100 hard starts of each shipped policy agree with results/ exactly
    (rollouts are deterministic: the policy's mean action, seeded friction)."""
    from real2sim_policy.benchmark import BenchmarkConfig, run_benchmark

    summary = REPO / "results" / action / "hard" / "summary.json"
    if not summary.is_file():
        pytest.skip(f"no benchmark results for {action}")
    reported = json.loads(summary.read_text())["results"][:100]
    res = run_benchmark(action, str(REPO / "models" / action / "policy.zip"), "hard",
                        tmp_path / "b", limit=100,
                        config=BenchmarkConfig(workers=2, write_rollouts=False, plots=False),
                        progress=False)
    got = [r["success"] for r in res.summary["results"]]
    assert got == [r["success"] for r in reported]


def test_resume_signature_tolerates_settings_added_later_at_their_default():
    """A checkpoint written before a setting existed matches a run that keeps the setting at
    its default (the older code's behaviour) and differs from one that changes it."""
    from real2sim_policy.checkpoints import signature_differences

    now = {"action": "put_next_to", "reward": {"reduction": "mean", "resolve_overlap": False},
           "env": {"max_finger_opening": 0.075}}
    saved = {"action": "put_next_to", "reward": {"reduction": "mean"}, "env": {}}
    assert signature_differences(saved, now) == []
    now["reward"]["resolve_overlap"] = True
    now["env"]["max_finger_opening"] = 0.04
    assert signature_differences(saved, now) == [
        "env.max_finger_opening: checkpoint '<absent>', this run 0.04",
        "reward.resolve_overlap: checkpoint '<absent>', this run True"]
    # a key no setting defines is still a difference
    assert "extra: checkpoint '<absent>', this run 1" in \
        signature_differences(saved, {**now, "extra": 1})


def test_teacher_tracks_the_objects_centre_with_hand_at_object():
    """With ``reward.hand_at_object`` the teacher's fingertip targets are the centres of the
    demonstrations' own estimated boxes where they touch, not the estimated fingertips."""

    demos = load_demos([DEMOS / "pick_up"], "pick_up")
    tied = DemoReward(demos, "pick_up", RewardConfig(hand_at_object=True))
    teacher = DemoTracker(tied)
    np.testing.assert_allclose(teacher.pos, tied.hand_targets().mean(axis=1))
    k = int(np.flatnonzero(tied.inside & tied.tied.all(axis=1))[0])
    centres = tied.obj_pos[k, :, 0].copy()  # bottom-measured: raise by half the box
    centres[:, 2] += tied.obj_height[k, :, 0] / 2
    np.testing.assert_allclose(teacher.pos[k], centres.mean(axis=0))
    plain = DemoTracker(DemoReward(demos, "pick_up"))
    np.testing.assert_allclose(plain.pos, tied.hand_pos.mean(axis=1))
    assert np.linalg.norm(plain.pos[k] - teacher.pos[k]) > 0.03
