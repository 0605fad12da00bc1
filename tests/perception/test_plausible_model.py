"""The plausible object model of the estimator (resting / sliding / held), its penalties and
the bad-input warnings; small synthetic videos and few iterations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from real2sim_core.actions import get_action
from real2sim_core.cli import main as cli_main
from real2sim_core.plausibility import check_trajectory, lowest_point
from real2sim_core.trajectory import align, read_states_csv
from real2sim_perception.config import PerceptionConfig, load_perception_config
from real2sim_perception.estimator import estimate
from real2sim_perception.inputs import MaskSequence
from real2sim_perception.mask_folder import write_mask_folder
from real2sim_perception.quality import input_warnings
from real2sim_perception.state_model import StateModel
from real2sim_perception.synthetic import SyntheticConfig, generate

T = 20
SMALL = SyntheticConfig(num_frames=12, image_height=120, image_width=214)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _touch(a, b):
    t = np.zeros(T)
    t[a:b] = 1.0
    return t


def _model(action, touch, cfg=None, rot_std=1.0, seed=0):
    """A state model with large random raw rotations and lifts (what the optimiser may reach)."""
    cfg = cfg or PerceptionConfig()
    spec = get_action(action)
    rng = np.random.default_rng(seed)
    init = StateModel.random_init(T, spec, cfg, rng)
    init["obj_r"] = [rot_std * rng.standard_normal(r.shape) for r in init["obj_r"]]
    init["obj_p"] = [p + 0.3 * rng.standard_normal(p.shape) for p in init["obj_p"]]
    init["lift"] = 0.3 * rng.standard_normal(T)
    model = StateModel(T, spec, cfg, touch, init)
    with torch.no_grad():
        st = {k: v.numpy().astype(float) for k, v in model.states().items()}
    return st


def _lowest(st, i):
    return lowest_point(st["obj_pos"][:, i], st["obj_rot"][:, i], st["obj_size"][:, i])


@pytest.mark.parametrize("action", ["push_left_to_right", "pull_right_to_left"])
def test_pushed_object_slides(action):
    st = _model(action, _touch(6, 14))
    # roll and pitch fixed, lowest corner exactly on the table in every frame
    np.testing.assert_array_equal(st["obj_rot"][:, 0, :2], 0.0)
    np.testing.assert_allclose(_lowest(st, 0), 0.0, atol=1e-6)
    # static before the first and after the last touch; planar motion and yaw in between
    for span in (slice(0, 7), slice(13, T)):
        assert np.ptp(st["obj_pos"][span, 0], axis=0).max() < 1e-7
        assert np.ptp(st["obj_rot"][span, 0, 2]) < 1e-7
    assert np.ptp(st["obj_pos"][6:14, 0, 0]) > 1e-3
    assert np.ptp(st["obj_rot"][6:14, 0, 2]) > 1e-3


def test_picked_object_rests_then_is_held_in_six_dof():
    st = _model("pick_up", _touch(8, T))
    low = _lowest(st, 0)
    np.testing.assert_allclose(low[:8], 0.0, atol=1e-6)  # resting until the first touch
    np.testing.assert_array_equal(st["obj_rot"][:8, 0, :2], 0.0)
    assert (low >= -1e-6).all()  # never below the table
    assert np.abs(st["obj_rot"][8:, 0, :2]).max() > 0.1  # held: may tilt
    assert low[8:].max() > 0.01  # and be lifted


def test_touched_from_the_first_frame_still_starts_on_the_table():
    for action in ("pick_up", "put_behind"):
        st = _model(action, _touch(0, T))
        m = st["obj_pos"].shape[1] - 1
        assert abs(_lowest(st, m)[0]) < 1e-6
        np.testing.assert_array_equal(st["obj_rot"][0, m, :2], 0.0)


def test_phase_is_the_touch_span():
    from real2sim_perception.config import PhaseConfig
    from real2sim_perception.phase import estimate_phase

    pos = np.zeros((30, 3))
    pos[:, 0] = np.linspace(0.0, 0.5, 30)  # moving in every frame
    touch = np.zeros(30)
    touch[[8, 9, 10, 15, 20]] = 1
    assert estimate_phase(pos, touch, 12.0) == (8, 21)
    assert estimate_phase(pos, np.zeros(30), 12.0) == (0, 30)  # no touch: the speed decides
    assert estimate_phase(pos, touch, 12.0, PhaseConfig(touch_span=False)) == (0, 30)


def test_put_static_object_and_release():
    st = _model("put_onto", _touch(5, 12))
    # the static object: one resting pose for the whole video
    assert np.ptp(st["obj_pos"][:, 0], axis=0).max() == 0.0
    np.testing.assert_array_equal(st["obj_rot"][:, 0, :2], 0.0)
    np.testing.assert_allclose(_lowest(st, 0), 0.0, atol=1e-6)
    # the carried object: resting before, held between, released (resting, static) after
    low = _lowest(st, 1)
    np.testing.assert_allclose(low[:5], 0.0, atol=1e-6)
    assert (low >= -1e-6).all()
    after = slice(12, T)
    np.testing.assert_array_equal(st["obj_rot"][after, 1, :2], 0.0)
    assert np.ptp(st["obj_pos"][after, 1], axis=0).max() < 1e-7
    # released onto a support between the table and object 0's top
    assert -1e-6 <= low[-1] <= st["obj_size"][-1, 0, 2] + 1e-6


def _released_bottom(offset_xy, cfg=None):
    """Bottom height after the release of a put's carried object whose centre sits at
    ``offset_xy`` (m) from object 0's centre, and object 0's top."""
    cfg = cfg or PerceptionConfig()
    spec = get_action("put_next_to")
    init = StateModel.random_init(T, spec, cfg, np.random.default_rng(0))
    init["obj_s"][0][:] = 0.0  # object 0: 0.15 m cube (0.3 sigmoid(0))
    init["obj_p"][0][:] = 0.0
    init["obj_r"][0][:] = 0.0
    # raw position of object 1 so that 1.2 tanh(p) = the offset
    xy = np.arctanh(np.asarray(offset_xy) / cfg.model.object_position_range)
    init["obj_p"][1][:, :2] = xy
    model = StateModel(T, spec, cfg, _touch(5, 12), init)
    with torch.no_grad():
        st = {k: v.numpy().astype(float) for k, v in model.states().items()}
    return _lowest(st, 1)[-1], float(st["obj_size"][0, 0, 2])


def test_released_object_rests_on_what_is_beneath_its_centre():
    # centre over object 0's footprint (half width 7.5 cm): on its top, exactly
    bottom, top = _released_bottom([0.02, -0.03])
    assert bottom == pytest.approx(top, abs=1e-6)
    # centre beyond the edge (by more than half the ramp): on the table, exactly
    bottom, _ = _released_bottom([0.09, 0.0])
    assert bottom == pytest.approx(0.0, abs=1e-6)
    # at the edge: half way (the ramp that gives the position a gradient)
    bottom, top = _released_bottom([0.075, 0.0])
    assert bottom == pytest.approx(0.5 * top, rel=1e-4)
    # 3 mm beyond the edge: on the table (the default ramp is 1 mm wide; a 1 cm ramp left
    # such objects hovering at a fifth of object 0's height)
    bottom, _ = _released_bottom([0.078, 0.0])
    assert bottom == pytest.approx(0.0, abs=1e-6)
    # the earlier free support parameter: q = -3 starts 5 % above the table wherever it is
    cfg = PerceptionConfig()
    cfg.model.release_support = "free"
    bottom, top = _released_bottom([0.02, -0.03], cfg)
    assert bottom == pytest.approx(top / (1 + np.exp(3.0)), rel=1e-6)


def test_rigid_size_is_one_size_for_the_whole_video():
    cfg = PerceptionConfig()
    cfg.model.rigid_size = True
    init = StateModel.random_init(T, get_action("put_onto"), cfg, np.random.default_rng(0))
    assert all(s.shape == (1, 3) for s in init["obj_s"])
    st = _model("put_onto", _touch(5, 12), cfg)
    assert np.ptp(st["obj_size"], axis=0).max() == 0.0
    # the default: one size per frame for the carried object (held together by the size
    # constancy loss)
    st = _model("put_onto", _touch(5, 12))
    assert np.ptp(st["obj_size"][:, 1], axis=0).max() > 1e-3


def test_grasp_offset_holds_the_object_at_its_surface():
    cfg = PerceptionConfig()
    assert cfg.model.grasp_offset == "carried"  # put onto carries its object: offset on
    touch = _touch(5, 12)
    spec = get_action("put_onto")
    init = StateModel.random_init(T, spec, cfg, np.random.default_rng(0))
    model = StateModel(T, spec, cfg, touch, init)
    with torch.no_grad():
        model.grasp.copy_(torch.tensor([20.0, 0.0, -20.0]))  # saturated along x and -z
        st = {k: v.numpy().astype(float) for k, v in model.states().items()}
    held = touch > 0.5
    offset = st["hand_pos"][held] - st["obj_pos"][held, 1]
    bound = 0.5 * st["obj_size"][held, 1] + cfg.model.hand_radius
    np.testing.assert_allclose(offset[:, 0], bound[:, 0], rtol=1e-5)
    np.testing.assert_allclose(offset[:, 1], 0.0, atol=1e-7)
    np.testing.assert_allclose(offset[:, 2], -bound[:, 2], rtol=1e-5)
    # frames without touch keep the free fingertip
    np.testing.assert_allclose(st["hand_pos"][~held], st["free_hand_pos"][~held])
    # off (METHOD section 2): the fingertip is the held object's centre
    cfg.model.grasp_offset = "none"
    st = _model("put_onto", touch, cfg)
    np.testing.assert_allclose(st["hand_pos"][held], st["obj_pos"][held, 1])


def test_grasp_offset_by_default_only_for_actions_that_carry_the_object():
    from real2sim_core.config import ConfigError
    from real2sim_perception.state_model import uses_grasp_offset

    carried = {name: uses_grasp_offset("carried", get_action(name)) for name in
               ("push_left_to_right", "pull_right_to_left", "pick_up", "put_behind")}
    assert carried == {"push_left_to_right": False, "pull_right_to_left": False,
                       "pick_up": True, "put_behind": True}
    assert uses_grasp_offset("all", get_action("push_left_to_right"))
    assert not uses_grasp_offset("none", get_action("put_onto"))
    # a push keeps METHOD 2's fingertip at the pushed object's centre by default, even with a
    # saturated raw offset
    cfg = PerceptionConfig()
    spec = get_action("push_left_to_right")
    touch = _touch(5, 12)
    model = StateModel(T, spec, cfg, touch, StateModel.random_init(T, spec, cfg,
                                                                  np.random.default_rng(0)))
    with torch.no_grad():
        model.grasp.copy_(torch.tensor([20.0, 0.0, 20.0]))
        st = {k: v.numpy().astype(float) for k, v in model.states().items()}
    held = touch > 0.5
    np.testing.assert_allclose(st["hand_pos"][held], st["obj_pos"][held, 0])
    with pytest.raises(ConfigError, match="grasp_offset"):
        cfg.model.grasp_offset = "sometimes"
        cfg.model.__post_init__()


def _held_depth(grasp_offset: str) -> tuple[float, float]:
    """Fit a synthetic put onto; the median depth of the fingertip sphere inside the held
    object and the median fingertip-centre distance over the touching frames, m."""
    from real2sim_perception.evaluation import held_object_stats

    _, seq = generate("put_onto", seed=5, cfg=SMALL)
    cfg = PerceptionConfig()
    cfg.model.grasp_offset = grasp_offset
    cfg.optim.iterations = 60
    cfg.render.height = 30
    res = estimate(seq, "put_onto", cfg)
    tr, held = res.trajectory, res.touch > 0.5
    depth = held_object_stats(tr, "put_onto", res.phase, cfg.model.hand_radius)
    gap = np.linalg.norm(tr.hand_pos[held] - tr.obj_pos[held, 1], axis=1)
    return depth["fingertip_depth_m"], float(np.median(gap))


def test_grasp_offset_fit_moves_the_fingertip_out_of_the_held_object():
    depth_centre, gap_centre = _held_depth("none")
    depth_surface, gap_surface = _held_depth("carried")
    assert gap_centre < 1e-6  # METHOD section 2: tied to the centre, a full hand radius deep
    assert depth_centre > 0.04
    assert gap_surface > 0.01  # held off-centre, less deep inside the object
    assert depth_surface < depth_centre - 0.005


def test_box_penetration_depth():
    from real2sim_perception.shapes import cuboid_vertices
    from real2sim_perception.state_model import box_penetration

    size = torch.full((2, 3), 0.1)
    rot = torch.zeros(2, 3)
    a = cuboid_vertices(torch.zeros(2, 3), size, rot)
    # 3 cm into the other box along x (and fully overlapping in y, z); then 1 cm apart
    b = cuboid_vertices(torch.tensor([[0.07, 0.0, 0.0], [0.11, 0.0, 0.0]]), size, rot)
    depth = box_penetration(a, b)
    assert depth[0].item() == pytest.approx(0.03, abs=1e-6)
    assert depth[1].item() == 0.0


def test_unknown_release_support_is_refused():
    from real2sim_core.config import ConfigError

    with pytest.raises(ConfigError, match="ModelConfig.release_support = 'glue' is not allowed"):
        load_perception_config(overrides={"model.release_support": "glue"})


def test_legacy_model_is_still_available():
    cfg = PerceptionConfig()
    cfg.model.plausible_objects = False
    cfg.model.static_untouched = False
    st = _model("push_left_to_right", _touch(6, 14), cfg)
    assert np.abs(st["obj_rot"][:, 0, :2]).max() > 0.1  # free rotation vector
    np.testing.assert_allclose(st["obj_pos"][:, 0, 2], st["obj_size"][:, 0, 2] / 2, rtol=1e-6)
    assert np.ptp(st["obj_pos"][:7, 0, 0]) > 1e-4


@pytest.mark.parametrize("action", ["push_right_to_left", "pick_up", "put_in_front_of"])
def test_estimates_are_plausible(action):
    gt, seq = generate(action, seed=5, cfg=SMALL)
    cfg = PerceptionConfig()
    cfg.optim.iterations = 25
    cfg.render.height = 30
    res = estimate(seq, action, cfg)
    tr = res.trajectory
    m = tr.num_objects - 1
    assert check_trajectory(tr).plausible
    assert check_trajectory(align(tr)).plausible
    low = lowest_point(tr.obj_pos[:, m], tr.obj_rot[:, m], tr.obj_size[:, m])
    assert low.min() > -1e-5
    # the fingertip never below the table: a hand radius above it where free, at the
    # object's centre where touching
    free = tr.touch < 0.5
    assert tr.hand_pos[free, 2].min() >= cfg.model.hand_radius - 1e-6
    assert tr.hand_pos[:, 2].min() >= 0.0
    assert {"hand_table", "hand_object"} <= set(res.losses)
    assert res.flags["warnings"] == [] and not tr.warnings


def _never_released(seq: MaskSequence) -> MaskSequence:
    masks = seq.masks.copy()
    masks[0] |= masks[-1]  # the hand box always covers the object
    return MaskSequence(masks=masks, tracks=seq.tracks, fps=seq.fps, video_id="never")


def test_bad_input_never_separated_object(tmp_path, capsys):
    _, seq = generate("push_left_to_right", seed=6, cfg=SMALL)
    seq = MaskSequence(masks=seq.masks, tracks=seq.tracks, fps=seq.fps, video_id="ok")
    cfg = PerceptionConfig()
    from real2sim_perception.touch import estimate_touch

    assert input_warnings(seq, estimate_touch(seq, cfg.touch), get_action("push_left_to_right"),
                          cfg) == ([], False)
    bad = _never_released(seq)
    write_mask_folder(bad, tmp_path / "masks")
    out = tmp_path / "out"
    rc = cli_main(["estimate", "--masks", str(tmp_path / "masks"), "--action",
                   "push_left_to_right", "--out", str(out), "--iterations", "3",
                   "--no-progress"])
    err = capsys.readouterr().err
    assert "never separated from the hand" in err and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert any("never separated" in w for w in summary["warnings"])
    flags = summary["flags"]
    assert flags["input_ok"] is False
    # a warned input is a good fit only when its result is plausible
    assert summary["fit_ok"] == (flags["plausible"] and not flags["failed_tracks"])
    assert rc == (0 if summary["fit_ok"] else 3)
    for name in ("states.csv", "states_aligned.csv"):
        traj = read_states_csv(out / name)
        assert any("never separated" in w for w in traj.warnings), name


def test_bad_input_object_box_covers_the_frame():
    _, seq = generate("pick_up", seed=7, cfg=SMALL)
    masks = seq.masks.copy()
    masks[1] = True
    bad = MaskSequence(masks=masks, tracks=seq.tracks, fps=seq.fps, video_id="whole")
    cfg = PerceptionConfig()
    cfg.optim.iterations = 2
    cfg.render.height = 30
    res = estimate(bad, "pick_up", cfg)
    assert not res.fit_ok
    assert any("covers 100 % of the frame" in w for w in res.flags["warnings"])
    assert res.trajectory.warnings == res.aligned.warnings
    assert res.trajectory.warnings


def test_object_speed_limit_is_a_loss_term_that_can_be_switched_off():
    _, seq = generate("put_onto", seed=5, cfg=SMALL)
    cfg = PerceptionConfig()
    cfg.optim.iterations = 5
    cfg.render.height = 30
    assert cfg.loss.object_speed == 1000.0  # on by default
    cfg.loss.object_speed = 0.0
    assert "object_speed" not in estimate(seq, "put_onto", cfg).losses  # 0 switches it off
    cfg.loss.object_speed = 1000.0
    cfg.loss.max_object_speed = 1e-3  # every moving frame is over it
    res = estimate(seq, "put_onto", cfg)
    steps = np.linalg.norm(np.diff(res.trajectory.obj_pos[:, 1], axis=0), axis=-1)
    expected = 1000.0 * np.clip(steps * seq.fps - 1e-3, 0.0, None).mean()
    assert res.losses["object_speed"] == pytest.approx(expected, rel=0.05)
