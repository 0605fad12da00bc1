"""scripts/training_return.py: the reward a shipped policy earns on the training distribution."""

from __future__ import annotations

from pathlib import Path

from tests.scripts_module import load_script

REPO = Path(__file__).resolve().parents[2]
WARM = REPO / "models" / "push_left_to_right" / "warm" / "policy.zip"
RETREAT = 0.2  # its row's sampler.retreat (scripts/train_models.sh: PANDA_HAND)


def _module():
    return load_script("training_return")


def test_same_starts_same_return_and_a_row_per_policy_and_spread(capsys):
    mod = _module()
    a = mod.episode_returns("push_left_to_right", WARM,
                            REPO / "models" / "demos" / "push_left_to_right", 0.005, 2, 7,
                            RETREAT)
    b = mod.episode_returns("push_left_to_right", WARM,
                            REPO / "models" / "demos" / "push_left_to_right", 0.005, 2, 7,
                            RETREAT)
    assert a == b
    ret, early, length, v_first, v_last = a
    assert 0.0 < ret <= 1.0 and 0.0 <= early <= 1.0 and 1 <= length <= 120
    # the warm start fits its critic to Monte-Carlo returns: within 0.5 of the return at the
    # start and of 0 at the end (a diverged critic is off by far more: results/NOTES.md)
    assert abs(v_first - ret) < 0.5 and abs(v_last) < 0.5
    assert mod.main(["--action", "push_left_to_right", "--episodes", "1", "--std", "0.005",
                     "0.1", "--retreat", str(RETREAT), "--", str(WARM)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith(f"| {WARM} |")]
    assert [r.split("|")[2].strip() for r in rows] == ["0.005", "0.1"]


def test_a_policy_of_another_action_is_refused_with_a_message(capsys):
    assert _module().main(["--action", "pick_up", "--episodes", "1", str(WARM)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "pick_up" in err and str(WARM) in err
