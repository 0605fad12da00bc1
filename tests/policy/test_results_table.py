"""scripts/make_results.py: the comparisons table (a)-(e) and the legacy mark, from the files
that `real2sim train` and `real2sim benchmark` write."""

from __future__ import annotations

import json
from pathlib import Path

from tests.scripts_module import load_script

REPO = Path(__file__).resolve().parents[2]


def _module():
    return load_script("make_results")


def _policy(path: Path, commit: str | None):
    path.mkdir(parents=True)
    info = {"demonstrations": [{}], "reward": "mean", "updates": 1000, "env_steps": 8_400_000,
            "wall_s": 3600.0, "command": "real2sim train ..."}
    if commit:
        info["git"] = {"commit": commit, "dirty": False}
    (path / "policy.json").write_text(json.dumps(info))


def _summary(path: Path, successes: int):
    path.mkdir(parents=True)
    rate = successes / 1000
    (path / "summary.json").write_text(json.dumps({
        "success_rate": rate, "success_ci95": [rate - 0.03, rate + 0.03],
        "failure_counts": {"object check failed": 1000 - successes}}))


def test_comparison_columns_single_videos_and_legacy_marks(tmp_path):
    a = "push_left_to_right"
    _policy(tmp_path / "models" / a, "1" * 40)
    _policy(tmp_path / "models" / a / "warm", "1" * 40)
    _policy(tmp_path / "models" / a / "max", None)  # trained before commits were recorded
    _policy(tmp_path / "models" / a / "video3694", "1" * 40)
    for name, k in ((a, 571), (f"{a}_warm", 552), (f"{a}_max", 971),
                    (f"{a}_video3694", 333)):
        _summary(tmp_path / "results" / name / "hard", k)
    assert _module().main(["--repo", str(tmp_path)]) == 0
    text = (tmp_path / "results" / "README.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith(f"| {a} |")]
    # the comparisons table has 8 columns, the main table 11
    row = next(line for line in rows if line.count("|") == 9)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # action, (a), (b), (c), (d) like (b), (d) like (c), paper C, paper baseline
    assert cells[1].startswith("**55.2**") and cells[2].startswith("**57.1**")
    assert cells[3] == "—" and cells[4].startswith("**97.1**") and cells[4].endswith("†")
    assert cells[5] == "—" and cells[6:] == ["85", "0"]
    single = next(line for line in text.splitlines() if line.startswith(f"| {a} | 3694 |"))
    assert "**33.3**" in single and "**57.1**" in single
    # the legacy baseline is marked in the main table too, the retrained policy is not
    main = next(line for line in rows if line.count("|") == 12)
    assert "**57.1** (54–60) |" in main and "**97.1** (94–100) †" in main
