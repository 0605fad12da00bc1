"""scripts/train_models.sh holds the exact command of every shipped policy, and policy.json
records it with the git commit (issue: reproducible shipped policies)."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from real2sim_core.cli import build_parser
from real2sim_policy.config import load_policy_config

REPO = Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    out = subprocess.run(["bash", str(REPO / "scripts" / "train_models.sh"), "--list"],
                         capture_output=True, text=True, check=True, timeout=60)
    return [line for line in out.stdout.splitlines() if line.strip()]


def _canonical(command: str):
    """A train command as its parsed arguments (order-free), without --resume/--quiet."""
    words = shlex.split(command)
    assert words[:2] == ["real2sim", "train"], command
    args = vars(build_parser().parse_args(words[1:]))
    for k in ("resume", "quiet", "func"):
        args.pop(k, None)
    return json.dumps(args, sort_keys=True, default=str)


def test_every_listed_command_is_a_valid_training_of_the_paper_schedule():
    rows = _listed()
    outs = [shlex.split(r)[shlex.split(r).index("--out") + 1] for r in rows]
    # 9 actions + 4 max baselines + 9 warm starts alone
    assert len(rows) == 22 and len(set(outs)) == 22
    warm = 0
    for row in rows:
        a = build_parser().parse_args(shlex.split(row)[1:])
        assert Path(REPO / a.states[0]).name == a.action
        cfg = load_policy_config(a.config, {"train.updates": a.updates, "train.envs": a.envs,
                                            "train.init": a.init,
                                            "train.ppo.epochs": a.epochs,
                                            "train.ppo.episodes_per_update":
                                                a.episodes_per_update})
        # METHOD section 7: 1000 updates x 70 episodes, 25 epochs; or the warm start alone
        # (comparison (a): no update, into <action>/warm)
        schedule = (cfg.train.updates, cfg.train.ppo.episodes_per_update, cfg.train.ppo.epochs)
        if a.out.endswith("/warm"):
            warm += 1
            assert schedule == (0, 70, 25) and a.init == "track", row
        else:
            assert schedule == (1000, 70, 25), row
    assert warm == 9


def test_unknown_policy_name_is_refused():
    out = subprocess.run(["bash", str(REPO / "scripts" / "train_models.sh"), "--list", "fly"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "unknown policy 'fly'" in out.stderr


POLICY_JSONS = sorted(REPO.glob("models/**/policy.json"))


@pytest.mark.parametrize("path", POLICY_JSONS, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_policy_json_records_a_listed_command_and_its_commit(path):
    info = json.loads(path.read_text())
    if "git" not in info:
        pytest.skip(f"{path.relative_to(REPO)} predates commit recording (to be retrained with "
                    "scripts/train_models.sh)")
    assert info["git"]["commit"] and len(info["git"]["commit"]) == 40
    assert _canonical(info["command"]) in {_canonical(c) for c in _listed()}
