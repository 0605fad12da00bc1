"""scripts/teacher_success.py: the warm-start teacher run as the policy on benchmark starts."""

from __future__ import annotations

from pathlib import Path

from tests.scripts_module import load_script

REPO = Path(__file__).resolve().parents[2]
DEMOS = REPO / "models" / "demos" / "pull_left_to_right"


def test_the_teacher_is_judged_on_the_first_rows_for_each_setting(capsys):
    mod = load_script("teacher_success")
    rate, failed = mod.teacher_success("pull_left_to_right", "easy", 3, "hold", DEMOS)
    assert 0.0 <= rate <= 1.0
    assert sum(failed.values()) == round(3 * (1.0 - rate))
    assert set(failed) <= {"hand", "object"}
    assert mod.main(["--action", "pull_left_to_right", "--spec", "easy", "--rows", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("grip_outside_window=")[1].split(":")[0] for ln in lines] == ["clamp",
                                                                                  "hold"]


def test_a_missing_start_state_file_is_refused_with_a_message(capsys, tmp_path):
    missing = tmp_path / "nope.csv"
    assert load_script("teacher_success").main(
        ["--action", "pull_left_to_right", "--spec", str(missing), "--rows", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.csv" in err


def test_the_tied_teacher_lifts_what_the_estimates_teacher_does_not(capsys):
    """``--hand-at-object``: the pick-up teacher whose fingertip follows the estimated object's
    centre while the demonstrations touch lifts the simulated one from easy starts (measured:
    83 of the first 100); following the estimated fingertip it lifts nothing (0 of 100)."""
    mod = load_script("teacher_success")
    demos = REPO / "models" / "demos" / "pick_up"
    plain, _ = mod.teacher_success("pick_up", "easy", 6, "hold", demos)
    tied, _ = mod.teacher_success("pick_up", "easy", 6, "hold", demos, hand_at_object=True)
    assert plain == 0.0 and tied >= 0.5
    assert mod.main(["--action", "pick_up", "--spec", "easy", "--rows", "1",
                     "--grip-outside-window", "hold", "--hand-at-object"]) == 0
    assert "grip_outside_window=hold hand_at_object: success" in capsys.readouterr().out
