"""`real2sim benchmark` / `real2sim rollout` smoke runs and bad-input handling."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from real2sim_core.cli import main as cli_main
from real2sim_core.errors import InputError, UnknownNameError
from real2sim_core.plan import read_plan_json
from real2sim_policy.benchmark import resolve_spec, run_benchmark, wilson_interval
from real2sim_policy.env import GripperEnv
from real2sim_policy.policies import POLICIES, Policy, make_policy
from real2sim_policy.rollout import load_start_states, rollout_columns, run_rollout

# a rollout CSV is a states CSV (time, camera, objects, hand) plus the gripper opening
SINGLE = ["time", "cdis", "cazi", "cele", "o0szx", "o0szy", "o0szz", "o0posx", "o0posy",
          "o0posz", "o0rot0", "o0rot1", "o0rot2", "hposx", "hposy", "hposz", "hazi", "hele",
          "touch", "opening"]
DOUBLE = SINGLE[:13] + ["o1szx", "o1szy", "o1szz", "o1posx", "o1posy", "o1posz", "o1rot0",
                        "o1rot1", "o1rot2"] + SINGLE[13:]


def _rows(path):
    """The header and data rows of a rollout CSV (without its ``#`` metadata lines)."""
    with path.open() as f:
        return [r for r in csv.reader(f) if not r[0].startswith("#")]


def test_benchmark_cli_smoke(tmp_path, capsys, data_dir):
    out = tmp_path / "bm"
    rc = cli_main(["benchmark", "--action", "put_behind", "--policy", "scripted", "--spec",
                   "easy", "--limit", "4", "--workers", "2", "--out", str(out), "--quiet"])
    assert rc == 0
    assert "success 4/4" in capsys.readouterr().out
    files = sorted(p.name for p in (out / "rollouts").iterdir())
    assert files == ["0.csv", "1.csv", "2.csv", "3.csv"]
    rows = _rows(out / "rollouts" / "0.csv")
    assert rows[0] == DOUBLE and list(rollout_columns(2)) == DOUBLE
    assert len(rows) == 122  # header + k = 0..120
    first = np.array(rows[1], dtype=float)
    start = load_start_states(data_dir / "benchmark/benchmark_easy.csv")[0][1]
    hand = DOUBLE.index("hposx")
    np.testing.assert_allclose(first[hand:hand + 3], start.hand_pos, atol=1e-3)  # settled
    s = json.loads((out / "summary.json").read_text())
    assert s["num_starts"] == 4 and s["success_rate"] == 1.0
    lo, hi = s["success_ci95"]
    assert lo < 1.0 == hi and (lo, hi) == pytest.approx(wilson_interval(4, 4))
    assert {"hand_ok_rate", "object_ok_rate", "failure_counts", "timing", "results"} <= set(s)
    assert (out / "marginals.png").stat().st_size > 1000
    assert (out / "success_ratio.png").is_file()


def test_benchmark_idle_single_object_columns(tmp_path, capsys):
    out = tmp_path / "idle"
    assert cli_main(["benchmark", "--action", "pull_left_to_right", "--policy", "idle",
                     "--spec", "hard", "--limit", "2", "--workers", "1", "--out", str(out),
                     "--quiet", "--no-plots"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["successes"] == 0 and s["failure_counts"]
    assert all("never moves" in r["reason"] for r in s["results"])
    assert all(r["failed_reason"] and "never moves" in r["failed_reason"]
               and r["failed_reason"] in r["reason"] for r in s["results"])
    assert _rows(out / "rollouts" / "1.csv")[0] == SINGLE
    assert not (out / "marginals.png").exists()


def test_rollout_cli_writes_a_plan(tmp_path, capsys):
    plan_path = tmp_path / "plan.json"
    assert cli_main(["rollout", "--action", "pick_up", "--policy", "scripted", "--spec", "easy",
                     "--start", "2", "--out", str(plan_path), "--csv",
                     str(tmp_path / "r.csv")]) == 0
    plan = read_plan_json(plan_path)
    assert plan.num_waypoints == 121 and plan.frame_id == "real2sim_aligned"
    assert plan.action == "pick_up"
    assert plan.openings.max() <= 0.0751 and plan.times[-1] == pytest.approx(10.0)
    assert "success" in capsys.readouterr().out
    assert cli_main(["rollout", "--action", "pick_up", "--spec", "easy", "--start", "5000",
                     "--out", str(plan_path)]) == 2
    assert "outside the spec's 1000 start states" in capsys.readouterr().err


def test_bad_spec_files(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(",hazi,hele,hposx\n0,0.1,0.2,0.3\n")
    rc = cli_main(["benchmark", "--action", "pick_up", "--spec", str(bad), "--out",
                   str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "missing column(s) hposy, hposz, o0posx" in err and "Traceback" not in err
    bad.write_text(
        ",hazi,hele,hposx,hposy,hposz,o0posx,o0posy,o0posz,o0hei,o0rad,o1hei,o1rad\n"
        "0,0.1,0.2,0.0,0.0,0.1,0,0,0.03,0.06,oops,0.06,0.04\n")
    with pytest.raises(InputError, match=r"line 2, column 'o0rad': 'oops' is not a number"):
        load_start_states(bad)
    with pytest.raises(InputError, match="neither easy nor hard nor an existing CSV"):
        resolve_spec("medium")


def test_unknown_names(tmp_path, capsys):
    assert cli_main(["benchmark", "--action", "dance", "--out", str(tmp_path), "--quiet"]) == 2
    assert "unknown action 'dance'; known actions:" in capsys.readouterr().err
    with pytest.raises(UnknownNameError, match="unknown policy 'clever'; known policys: .*idle"):
        make_policy("clever", "pick_up")
    with pytest.raises(UnknownNameError, match="unknown policy file type '.pt'"):
        make_policy(str(tmp_path / "model.pt"), "pick_up")
    with pytest.raises(InputError, match="does not exist"):
        make_policy(str(tmp_path / "model.zip"), "pick_up")


def test_policy_file_for_another_action_is_refused(tmp_path):
    model = tmp_path / "policy.zip"
    model.write_bytes(b"not a model")
    (tmp_path / "policy.json").write_text(json.dumps({"action": "put_onto"}))
    with pytest.raises(InputError, match="trained for 'put_onto', not for 'pick_up'"):
        make_policy(str(model), "pick_up")
    (tmp_path / "policy.json").write_text(json.dumps({"action": "pick_up"}))
    with pytest.raises(InputError, match="cannot load as a stable-baselines3 PPO model"):
        make_policy(str(model), "pick_up")


class _NaNPolicy(Policy):
    name = "nan_after_5"

    def __init__(self, action=None):
        self.k = 0

    def reset(self, env):
        self.k = 0

    def act(self, obs, env):
        self.k += 1
        return np.full(7, np.nan) if self.k > 5 else np.zeros(7)


def test_nan_actions_fail_the_rollout_not_the_run(tmp_path, easy_starts):
    ro = run_rollout(GripperEnv("pick_up"), _NaNPolicy(), easy_starts[0][1], seed=0)
    assert ro.steps == 5 and "non-finite action" in ro.error
    assert ro.hand_pos.shape == (121, 3) and np.isfinite(ro.hand_pos).all()
    res = ro.evaluate()
    assert not res.success and res.reason.startswith("rollout error: step 5: the policy")
    POLICIES["nan_after_5"] = _NaNPolicy
    try:
        r = run_benchmark("pick_up", "nan_after_5", "easy", tmp_path / "nan", limit=3,
                          progress=False)
    finally:
        del POLICIES["nan_after_5"]
    s = r.summary
    assert s["num_starts"] == 3 and s["successes"] == 0 and s["rollout_errors"] == 3
    assert s["failure_counts"] == {"rollout error": 3}
    assert len(list((tmp_path / "nan" / "rollouts").iterdir())) == 3


def test_an_sb3_ppo_model_plugs_in(tmp_path, easy_starts):
    """An (untrained) SB3 PPO model saved as .zip loads through the policy registry."""
    from stable_baselines3 import PPO

    env = GripperEnv("pick_up")
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=16, device="cpu", seed=0)
    model.save(tmp_path / "policy.zip")
    (tmp_path / "policy.json").write_text(json.dumps({"action": "pick_up"}))
    policy = make_policy(str(tmp_path / "policy.zip"), "pick_up")
    ro = run_rollout(env, policy, easy_starts[0][1], seed=0)
    assert ro.steps == 120 and not ro.error


def test_rollout_csv_is_a_states_csv_with_the_opening(tmp_path):
    """A rollout CSV reads back as the same rollout (any states reader reads it too)."""
    from real2sim_core.trajectory import read_states_csv
    from real2sim_policy.rollout import read_rollout_csv

    env = GripperEnv("put_onto")
    try:
        ro = run_rollout(env, make_policy("scripted", "put_onto"), seed=3)
    finally:
        env.close()
    path = ro.to_csv(tmp_path / "r.csv")
    back = read_rollout_csv(path)
    assert back.trajectory.allclose(ro.trajectory) and back.steps == ro.steps == 120
    np.testing.assert_array_equal(back.opening, ro.opening)
    assert read_states_csv(path).allclose(ro.trajectory)
    assert back.evaluate().success == ro.evaluate().success
    assert ro.trajectory.touch.max() == 1.0  # the hand holds object 1 at the start
    np.testing.assert_array_equal(ro.radii, env.radii)


def test_start_result_verdicts():
    from real2sim_policy.benchmark import StartResult, Verdict

    def res(success=False, hand_ok=True, object_ok=True, error=""):
        return StartResult(0, "0", success, hand_ok, object_ok, "why", error, 120, 0.1)

    assert res(success=True).verdict is Verdict.SUCCESS
    assert res(error="NaN action").verdict is Verdict.ROLLOUT_ERROR
    assert res(hand_ok=False, object_ok=False).verdict is Verdict.HAND_AND_OBJECT_FAILED
    assert res(hand_ok=False).verdict is Verdict.HAND_FAILED
    assert res(object_ok=False).verdict.value == "object check failed"
