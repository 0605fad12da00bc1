"""The one demonstration check (train_policy, the CLI and the node share it), the node's
demonstration store, and config overrides validated by the schema."""

from __future__ import annotations

import numpy as np
import pytest
from real2sim_core.actions import ACTIONS, get_action
from real2sim_core.config import ConfigError
from real2sim_core.errors import InputError
from real2sim_core.metrics import evaluate_trajectory
from real2sim_core.trajectory import StateTrajectory
from real2sim_policy.config import PolicyPackageConfig
from real2sim_policy.demos import (
    DemonstrationStore,
    check_demonstrations,
    load_demos,
    with_mirrored,
)
from real2sim_policy.jobs import with_overrides


def _traj(video_id: str, action="push_left_to_right", frames=3, objects=1) -> StateTrajectory:
    t = np.arange(frames) / 12.0
    return StateTrajectory(times=t, hand_pos=np.zeros((frames, 3)), hand_azi=np.zeros(frames),
                           hand_ele=np.zeros(frames), obj_pos=np.zeros((frames, objects, 3)),
                           obj_rot=np.zeros((frames, objects, 3)),
                           obj_size=np.full((frames, objects, 3), 0.05), touch=np.zeros(frames),
                           action=action, video_id=video_id, aligned=True)


def test_check_demonstrations_names_the_offending_ones():
    a, b = _traj("a"), _traj("b")
    assert check_demonstrations([a, b], "push_left_to_right", "mean").name == "push_left_to_right"
    with pytest.raises(InputError, match="no demonstrations of put_onto"):
        check_demonstrations([], "put_onto")
    with pytest.raises(InputError, match=r"'a', 'b' have 1 object\(s\); put_onto needs 2"):
        check_demonstrations([a, b], "put_onto")
    with pytest.raises(InputError, match=r"'short' have fewer than 2 frames"):
        check_demonstrations([a, _traj("short", frames=1)], "push_left_to_right")
    with pytest.raises(InputError, match=r"exactly one demonstration, got 2 \('a', 'b'\)"):
        check_demonstrations([a, b], "push_left_to_right", "single")


def test_store_keeps_rejects_and_explains():
    store = DemonstrationStore()
    assert store.add(_traj("a")) == 1
    with pytest.raises(InputError, match="needs at least 2"):
        store.add(_traj("one", frames=1))
    store.reject("one", "push_left_to_right", "too short")
    store.reject("x", "put_onto", "wrong objects")
    assert [d.video_id for d in store.for_action("push left to right")] == ["a"]
    with pytest.raises(InputError) as err:
        store.for_action("put_onto", "/topic", " (hint)")
    msg = str(err.value)
    assert "no demonstrations of put_onto received on /topic" in msg
    assert "kept: 1 of push_left_to_right" in msg and "rejected: x: wrong objects" in msg
    assert "one:" not in msg and msg.endswith("there (hint) first")
    store.add(_traj("one"))  # a good one of the same video replaces the rejection
    assert "one" not in store.rejected and len(store.kept) == 2


def test_overrides_are_validated_by_the_schema():
    cfg = with_overrides(PolicyPackageConfig(), {"train.updates": 3, "reward.reduction": "max"})
    assert cfg.train.updates == 3 and cfg.reward.reduction == "max"
    with pytest.raises(ConfigError, match="updates = -1"):
        with_overrides(cfg, {"train.updates": -1})
    with pytest.raises(ConfigError, match="median"):
        with_overrides(cfg, {"reward.reduction": "median"})
    assert with_overrides(cfg, {"train.collection": "lockstep"}).train.collection == "lockstep"
    with pytest.raises(ConfigError, match="collection = 'async' is not allowed"):
        with_overrides(cfg, {"train.collection": "async"})
    with pytest.raises(InputError, match="unknown setting.*train.speed"):
        with_overrides(cfg, {"train.speed": 1})
    with pytest.raises(ConfigError, match="parameter action = 'fly'"):
        PolicyPackageConfig(action="fly")
    with pytest.raises(ConfigError, match="parameter policy = 'clever'.*unknown policy"):
        PolicyPackageConfig(policy="clever")


def test_mirrored_demonstrations_are_judged_like_the_originals(repo_dir):
    """Each shipped demonstration flipped left-right gets the benchmark verdict of the original
    under the flipped label (``ActionSpec.x_mirror``): the flip keeps what the label says."""
    verdicts = []
    for name in ACTIONS:
        for d in load_demos([repo_dir / "models" / "demos" / name], name):
            a = evaluate_trajectory(d, name)
            b = evaluate_trajectory(d.mirrored_x(), get_action(name).x_mirror)
            assert (a.success, a.hand_ok, a.object_ok) == (b.success, b.hand_ok, b.object_ok), (
                name, d.video_id, a.reason, b.reason)
            verdicts.append(a.success)
    assert any(verdicts) and not all(verdicts)  # both kinds of verdict are compared


def test_with_mirrored_adds_the_flipped_demonstrations_or_explains():
    a, b = _traj("a", "put_onto", objects=2), _traj("b", "put_onto", objects=2)
    out = with_mirrored([a, b], "put_onto")
    assert [d.video_id for d in out] == ["a", "b", "a~mirrored", "b~mirrored"]
    with pytest.raises(InputError, match="flipped video of push_left_to_right shows "
                                         "push_right_to_left"):
        with_mirrored([_traj("c")], "push_left_to_right")
