"""Estimator, phase, config and CLI on synthetic ground truth (small budgets)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest
import torch
from real2sim_core.cli import main as cli_main
from real2sim_core.config import ConfigError
from real2sim_core.trajectory import align, read_states_csv
from real2sim_perception.config import PerceptionConfig, load_perception_config
from real2sim_perception.errors import MaskShapeError
from real2sim_perception.estimator import EstimateResult, estimate
from real2sim_perception.inputs import MaskSequence
from real2sim_perception.mask_folder import write_mask_folder
from real2sim_perception.phase import (
    detect_phase,
    estimate_phase,
    parse_frame_range,
    phase_iou,
)
from real2sim_perception.synthetic import SyntheticConfig, generate, position_errors


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _small_cfg(iterations=30, height=30) -> PerceptionConfig:
    cfg = PerceptionConfig()
    cfg.optim.iterations = iterations
    cfg.render.height = height
    return cfg


SMALL = SyntheticConfig(num_frames=12, image_height=120, image_width=214)


def test_config_yaml_matches_defaults_and_validates():
    assert asdict(load_perception_config()) == asdict(PerceptionConfig())
    cfg = load_perception_config(overrides={"optim.iterations": 7})
    assert cfg.optim.iterations == 7
    with pytest.raises(ConfigError, match="RenderConfig.backend = 'opengl' is not allowed"):
        load_perception_config(overrides={"render.backend": "opengl"})
    with pytest.raises(ConfigError, match="OptimConfig.lr = -1.0 is out of range"):
        load_perception_config(overrides={"optim.lr": -1.0})


def test_estimate_wiring_two_objects():
    gt, seq = generate("put_behind", seed=1, cfg=SMALL)
    calls = []
    res = estimate(seq, "put_behind", _small_cfg(), progress=lambda i, n, v: calls.append(i))
    assert isinstance(res, EstimateResult)
    assert len(calls) == 30 and len(res.history) == 30
    tr = res.trajectory
    assert tr.num_frames == 12 and tr.num_objects == 2 and not tr.aligned
    assert res.aligned.aligned and res.aligned.camera.distance == 0.0
    s, e = res.phase
    assert 0 <= s < e <= 12 and res.aligned.num_frames == e - s
    assert res.aligned.phase == (s, e)  # states_aligned.csv says which frames it holds
    # object 0 rests on the table and, in put actions, has one pose
    np.testing.assert_allclose(tr.obj_pos[:, 0, 2], tr.obj_size[:, 0, 2] / 2, atol=1e-6)
    assert np.ptp(tr.obj_pos[:, 0, 0]) < 1e-6
    # touching frames tie the fingertip rigidly to the manipulated object (one grasp offset)
    t = tr.touch > 0.5
    gap = tr.hand_pos[t] - tr.obj_pos[t, 1]
    bound = 0.5 * tr.obj_size[t, 1] + PerceptionConfig().model.hand_radius
    assert np.all(np.abs(gap) <= bound + 1e-6)
    np.testing.assert_allclose(gap / bound, np.broadcast_to((gap / bound)[:1], gap.shape),
                               atol=1e-5)
    for key in ("total", "silhouette/hand", "silhouette/object0", "silhouette/object1",
                "size_constancy", "interaction", "hand_angle_acc"):
        assert math.isfinite(res.losses[key])
    assert {"fit_ok", "failed_tracks", "iou/hand"} <= set(res.flags)
    assert res.rendered.shape == res.targets.shape == (3, 12, 30, 54)
    assert res.timing["iterations"] == 30


def test_estimate_rejects_wrong_object_count():
    _, seq = generate("push_left_to_right", seed=0, cfg=SMALL)
    with pytest.raises(MaskShapeError, match="needs 2 object track"):
        estimate(seq, "put_onto", _small_cfg(1))
    empty = MaskSequence(masks=np.zeros((2, 4, 20, 30), bool), tracks=("hand", "object0"))
    from real2sim_perception.errors import TrackMissingError

    with pytest.raises(TrackMissingError, match="'hand' is empty in all 4 frames"):
        estimate(empty, "pick_up", _small_cfg(1))


def test_fit_failure_is_flagged():
    gt, seq = generate("push_right_to_left", seed=2, cfg=SMALL)
    res = estimate(seq, "push_right_to_left", _small_cfg(iterations=2))
    # two iterations cannot fit: the quality flag must say so
    cfg = _small_cfg(iterations=2)
    cfg.quality.min_iou = 0.99
    res = estimate(seq, "push_right_to_left", cfg)
    assert res.flags["fit_ok"] is False and res.flags["failed_tracks"]


RECOVERY = SyntheticConfig(num_frames=24, image_height=240, image_width=427)


def _recover(action, seed, iterations, height=48):
    gt, seq = generate(action, seed=seed, cfg=RECOVERY)
    cfg = _small_cfg(iterations, height)
    cfg.render.sigma_px = 1.0
    res = estimate(seq, action, cfg)
    return gt, res


def _displacement(traj, i):
    a = align(traj)
    return a.obj_pos[-1, i] - a.obj_pos[0, i]


def test_recovers_push_direction_displacement_and_elevation():
    """Tolerances: direction sign, displacement within 50 %, camera elevation within 12 deg."""
    gt, res = _recover("push_left_to_right", seed=0, iterations=200)
    d_gt, d_est = _displacement(gt, 0), _displacement(res.trajectory, 0)
    assert d_est[0] > 0
    assert abs(d_est[0] - d_gt[0]) < 0.5 * abs(d_gt[0])
    assert abs(res.trajectory.camera.elevation - gt.camera.elevation) < math.radians(12)
    err = position_errors(gt, res.trajectory)
    assert err["object"] < 1.0 and err["fingertip"] < 1.5


@pytest.mark.slow
@pytest.mark.parametrize("action", ["pull_right_to_left", "push_right_to_left", "pick_up",
                                    "put_in_front_of", "put_next_to"])
def test_recovers_actions_full_budget(action):
    gt, res = _recover(action, seed=3, iterations=400, height=60)
    m = 1 if res.trajectory.num_objects == 2 else 0
    d_gt, d_est = _displacement(gt, m), _displacement(res.trajectory, m)
    assert abs(res.trajectory.camera.elevation - gt.camera.elevation) < math.radians(15)
    if action.startswith(("push", "pull")):
        assert np.sign(d_est[0]) == np.sign(d_gt[0])
        assert abs(d_est[0] - d_gt[0]) < 0.5 * abs(d_gt[0])
    elif action == "pick_up":
        assert d_est[2] > 0.02  # lifted (depth/height ambiguity: not the full lift)
    else:
        a_gt, a_est = align(gt), align(res.trajectory)
        rel_gt = a_gt.obj_pos[-1, 1, :2] - a_gt.obj_pos[-1, 0, :2]
        rel_est = a_est.obj_pos[-1, 1, :2] - a_est.obj_pos[-1, 0, :2]
        ang = math.atan2(rel_est[1], rel_est[0]) - math.atan2(rel_gt[1], rel_gt[0])
        assert abs((ang + math.pi) % (2 * math.pi) - math.pi) < math.radians(60)


def test_phase_estimation_and_iou():
    pos = np.zeros((30, 3))
    pos[10:20, 0] = np.linspace(0, 0.2, 10)
    pos[20:, 0] = 0.2
    touch = np.zeros(30)
    touch[8:21] = 1
    s, e = estimate_phase(pos, touch, 12.0)
    assert s <= 10 and 19 <= e - 1 <= 22
    assert detect_phase(pos, touch, 12.0) == (s, e)
    # nothing touches, nothing moves: no detectable phase (estimate_phase: the whole video)
    still = np.zeros((30, 3))
    assert detect_phase(still, np.zeros(30), 12.0) is None
    assert estimate_phase(still, np.zeros(30), 12.0) == (0, 30)
    assert phase_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert parse_frame_range("16-44") == (15, 44) and parse_frame_range("-") is None


def test_cli_estimate_from_mask_folder(tmp_path, capsys):
    _, seq = generate("pull_left_to_right", seed=4, cfg=SMALL)
    write_mask_folder(seq, tmp_path / "masks")
    out = tmp_path / "out"
    rc = cli_main(["estimate", "--masks", str(tmp_path / "masks"), "--action",
                   "pull_left_to_right", "--out", str(out), "--iterations", "5",
                   "--no-progress"])
    assert rc in (0, 3)
    for f in ("states.csv", "states_aligned.csv", "silhouettes.gif", "top_view.png",
              "summary.json"):
        assert (out / f).is_file(), f
    summary = json.loads((out / "summary.json").read_text())
    assert {"losses", "phase", "timing_s", "fit_ok", "flags"} <= set(summary)
    assert (rc == 0) == summary["fit_ok"]
    raw = read_states_csv(out / "states.csv")
    al = read_states_csv(out / "states_aligned.csv")
    assert not raw.aligned and al.aligned and al.camera.distance == 0.0
    assert raw.phase is None and al.phase == tuple(summary["phase"][k] for k in ("start", "stop"))
    assert al.num_frames == al.phase[1] - al.phase[0]
    assert raw.action == "pull_left_to_right" and raw.num_frames == 12


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    ann = tmp_path / "a.json"
    ann.write_text(json.dumps({"1": []}))
    rc = cli_main(["estimate", "--annotations", str(ann), "--video-id", "2", "--action",
                   "pick_up", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "video id '2' is not in" in err and "Traceback" not in err
    rc = cli_main(["estimate", "--annotations", str(ann), "--video-id", "1", "--action",
                   "pick_up", "--out", str(tmp_path / "o")])
    assert rc == 2 and "empty annotation list" in capsys.readouterr().err
