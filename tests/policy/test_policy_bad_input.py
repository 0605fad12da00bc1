"""Bad input to the policy commands, each a real file: a policy zip of another action without
its policy.json, a zip that names no action, an absurd start pose, non-UTF-8 start states and
policy metadata, an unwritable --out for rollout and benchmark."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from real2sim_core.cli import main
from real2sim_core.errors import InputError
from real2sim_policy.env import POSITION_LIMIT, GripperEnv, StartState
from real2sim_policy.policies import (
    ZIP_METADATA_NAME,
    make_policy,
    policy_zip_action,
    stamp_policy_zip,
)
from real2sim_policy.rollout import load_start_states

REPO = Path(__file__).resolve().parents[2]
SHIPPED_PUSH = REPO / "models" / "push_left_to_right" / "policy.zip"


def test_shipped_policies_carry_their_action_inside_the_zip():
    for z in sorted((REPO / "models").glob("**/policy.zip")):
        info = json.loads((z.parent / "policy.json").read_text())
        assert policy_zip_action(z) == info["action"], z


def test_policy_zip_of_another_action_without_policy_json_is_refused(tmp_path, capsys):
    z = tmp_path / "policy.zip"
    shutil.copy(SHIPPED_PUSH, z)  # no policy.json beside it
    with pytest.raises(InputError, match="trained for 'push_left_to_right', not for "
                                         "'pull_left_to_right' \\(from real2sim.json inside"):
        make_policy(str(z), "pull_left_to_right")
    assert make_policy(str(z), "push_left_to_right").action.name == "push_left_to_right"
    rc = main(["rollout", "--action", "pull_left_to_right", "--policy", str(z), "--spec", "easy",
               "--out", str(tmp_path / "plan.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "trained for 'push_left_to_right'" in err and err.count("\n") == 1
    assert not (tmp_path / "plan.json").exists()


def test_a_zip_that_names_no_action_is_refused_until_labelled(tmp_path):
    from stable_baselines3 import PPO

    env = GripperEnv("pick_up")
    z = tmp_path / "model.zip"
    PPO("MlpPolicy", env, n_steps=16, batch_size=16, device="cpu", seed=0).save(z)
    env.close()
    with pytest.raises(InputError, match="cannot tell which action this policy was trained for"):
        make_policy(str(z), "pick_up")
    stamp_policy_zip(z, "pick_up")
    assert policy_zip_action(z) == "pick_up"
    assert make_policy(str(z), "pick_up").model is not None  # SB3 ignores the extra member
    with pytest.raises(InputError, match="trained for 'pick_up', not for 'put_onto'"):
        make_policy(str(z), "put_onto")
    stamp_policy_zip(z, "put_onto")  # re-stamping replaces the record
    with zipfile.ZipFile(z) as f:
        assert f.namelist().count(ZIP_METADATA_NAME) == 1
    assert policy_zip_action(z) == "put_onto"


def test_non_utf8_policy_json_is_named(tmp_path):
    z = tmp_path / "policy.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("data", "{}")
    (tmp_path / "policy.json").write_bytes('{"action": "pick_up", "note": "\u00e9"}'
                                           .encode("latin-1"))
    with pytest.raises(InputError, match=r"policy.json: not UTF-8 text \(byte 0xe9"):
        make_policy(str(z), "pick_up")


def test_absurd_start_pose_is_refused_with_the_allowed_range(tmp_path, capsys):
    rc = main(["rollout", "--action", "push_left_to_right", "--spec", "easy",
               "--start", "hposx=100", "--out", str(tmp_path / "plan.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert (f"--start 'hposx=100': start state: hposx = 100 m is outside "
            f"[-{POSITION_LIMIT:g}, {POSITION_LIMIT:g}] m") in err
    with pytest.raises(InputError, match="hele = 3 rad is outside"):
        StartState([0, 0, 0.1], 0.0, 3.0, [0, 0, 0.05], 0.1, 0.04)


def test_benchmark_row_outside_the_range_names_the_line(tmp_path, easy_starts):
    src = (REPO / "data" / "benchmark" / "benchmark_easy.csv").read_text().splitlines()
    header = src[0].split(",")
    row = src[3].split(",")
    row[header.index("o0posy")] = "-42"
    spec = tmp_path / "spec.csv"
    spec.write_text("\n".join(src[:3] + [",".join(row)]) + "\n")
    with pytest.raises(InputError, match=r"spec.csv: line 4: start state: o0posy = -42 m is "
                                         r"outside \[-5, 5\] m"):
        load_start_states(spec)
    spec.write_bytes(("\n".join(src[:3]) + "\n# r\u00e9sum\u00e9\n").encode("latin-1"))
    with pytest.raises(InputError, match=r"spec.csv: not UTF-8 text \(byte 0xe9"):
        load_start_states(spec)


@pytest.mark.parametrize("command", ["rollout", "benchmark"])
def test_unwritable_out_is_refused_first(tmp_path, capsys, command):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / ("plan.json" if command == "rollout" else "bench")
    args = [command, "--action", "push_left_to_right", "--spec", "easy", "--out", str(out)]
    rc = main(args + (["--limit", "1"] if command == "benchmark" else []))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert str(blocker) in err and "a file of that name exists" in err \
        or "Not a directory" in err, err


def test_benchmark_limit_zero_is_refused(tmp_path, capsys):
    rc = main(["benchmark", "--action", "pick_up", "--limit", "0", "--out", str(tmp_path / "b")])
    assert rc == 2 and "--limit 0: must be >= 1" in capsys.readouterr().err
