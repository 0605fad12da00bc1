"""scripts/train_models.sh holds the exact command of every shipped policy, and policy.json
records it with the git commit (issue: reproducible shipped policies)."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
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
    # (b) 9 actions, (a) 9 warm starts alone, (c) 4 random inits, (d) 4 + 4 max baselines,
    # (e) 2 single videos
    assert len(rows) == 32 and len(set(outs)) == 32
    kinds = Counter()
    for row in rows:
        a = build_parser().parse_args(shlex.split(row)[1:])
        cfg = load_policy_config(a.config, {"train.updates": a.updates, "train.envs": a.envs,
                                            "train.init": a.init,
                                            "train.ppo.epochs": a.epochs,
                                            "train.ppo.episodes_per_update":
                                                a.episodes_per_update})
        # METHOD section 7: 1000 updates x 70 episodes, 25 epochs; or the warm start alone
        schedule = (cfg.train.updates, cfg.train.ppo.episodes_per_update, cfg.train.ppo.epochs)
        out = Path(a.out)
        assert out.parts[:2] == ("models", a.action), row
        kind = out.name if len(out.parts) == 3 else "proposed"
        if kind.startswith("video"):
            # (e): one demonstration of this action, the single-video reward
            assert len(a.states) == 1 and a.reward == "single", row
            assert Path(a.states[0]) == Path("models/demos", a.action, f"{kind[5:]}.csv"), row
            assert (REPO / a.states[0]).is_file(), row
            kind = "video"
        else:
            assert a.states == [f"models/demos/{a.action}"], row
        kinds[kind] += 1
        expected = {"proposed": ("mean", "track"), "warm": ("mean", "track"),
                    "random": ("mean", "none"), "max": ("max", "track"),
                    "max_random": ("max", "none"), "video": ("single", "track")}[kind]
        assert (a.reward, a.init) == expected, row
        assert schedule == ((0, 70, 25) if kind == "warm" else (1000, 70, 25)), row
    assert kinds == {"proposed": 9, "warm": 9, "random": 4, "max": 4, "max_random": 4,
                     "video": 2}


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
