"""Demonstration rewards (METHOD section 6) on hand-made demonstrations with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from real2sim_core.errors import InputError
from real2sim_core.trajectory import Camera, StateTrajectory
from real2sim_policy.env import GripperEnv, StartState
from real2sim_policy.reward import DemoReward, RewardConfig, RewardTerm

from real2sim_core import frames


def _demo(offset=(0.0, 0.0, 0.0), touch_frames=(10, 30), n=40, action="push_left_to_right",
          aligned=True, camera=None):
    camera = camera or Camera(0.0, 0.0, 0.0)
    t = np.arange(n) / 12.0
    x = np.linspace(0.0, 0.2, n)
    obj_pos = np.stack([x, np.zeros(n), np.full(n, 0.04)], axis=-1)[:, None]
    hand = obj_pos[:, 0] + np.array([-0.05, 0.0, 0.0]) + np.asarray(offset)
    touch = np.zeros(n)
    touch[touch_frames[0]:touch_frames[1]] = 1
    return StateTrajectory(
        times=t, hand_pos=hand, hand_azi=np.zeros(n), hand_ele=np.full(n, 0.3),
        obj_pos=obj_pos, obj_rot=np.zeros((n, 1, 3)), obj_size=np.full((n, 1, 3), 0.08),
        touch=touch, action=action, aligned=aligned, camera=camera,
    )


def _matching_states(rew: DemoReward, d: int = 0, radius=0.045):
    """Sim states equal to demonstration ``d``'s targets at every control step."""
    k = np.arange(1, rew.horizon + 1)
    heights = np.array([0.08])
    obj = rew.obj_pos[k, d].copy()
    obj[..., 2] += heights / 2
    return dict(steps=k, hand_pos=rew.hand_pos[k, d], hand_azi=rew.hand_azi[k, d],
                hand_ele=rew.hand_ele[k, d], opening=np.full(len(k), radius - 0.005),
                obj_pos=obj, obj_quat=rew.obj_quat[k, d], heights=heights,
                radii=np.array([radius]))


def test_demo_equal_to_rollout_gives_the_maximum_reward():
    rew = DemoReward([_demo()], config=RewardConfig(reduction="single"))
    r = rew.reduce(rew.per_demo(**_matching_states(rew)))
    c = rew.config
    active = rew.grip_active[1:, 0]
    expected = (c.obj_pos.s + c.hand_pos.s + c.hand_angles.s + c.obj_rot.s
                + c.gripper.s * active) / rew.horizon
    np.testing.assert_allclose(r, expected, rtol=1e-12)
    assert r.max() == pytest.approx(rew.max_step_reward())
    # the gripper term counts only inside [3, 7] s and where the demo touches
    assert active.any() and not active[rew.times[1:] < 3.0].any()
    assert not active[rew.times[1:] > 7.0].any()
    # any deviation lowers it
    s = _matching_states(rew)
    s["hand_pos"] = s["hand_pos"] + [0.0, 0.1, 0.0]
    r2 = rew.reduce(rew.per_demo(**s))
    drop = c.hand_pos.s * (1 - math.exp(-0.5 * c.hand_pos.b * 0.01)) / rew.horizon
    np.testing.assert_allclose(r - r2, drop, rtol=1e-9)


def test_mean_versus_max_over_demonstrations():
    demos = [_demo(), _demo(offset=(0.0, 0.0, 0.1))]
    mean = DemoReward(demos, config=RewardConfig(reduction="mean"))
    mx = DemoReward(demos, config=RewardConfig(reduction="max"))
    s = _matching_states(mean, d=0)
    per = mean.per_demo(**s)
    assert per.shape == (mean.horizon, 2)
    np.testing.assert_allclose(mean.reduce(per), per.mean(axis=1))
    np.testing.assert_allclose(mx.reduce(mx.per_demo(**s)), per[:, 0])
    # inside the window the second demo's hand is 0.1 m higher: only its hand term differs
    k = (mean.times[1:] >= 3.0) & (mean.times[1:] <= 7.0)
    c = mean.config
    gap = c.hand_pos.s * (1 - math.exp(-0.5 * c.hand_pos.b * 0.01)) / mean.horizon
    np.testing.assert_allclose(per[k, 0] - per[k, 1], gap, rtol=1e-9)


def test_action_phase_retiming_and_hand_target_after_the_window():
    """The action-phase frames (and only they) fill [3 s, 7 s]: the first phase frame holds
    before the window, the last one at 7 s; after it the hand target is the object + 0.2 m."""
    demo = _demo(n=40)
    rew = DemoReward([demo])
    np.testing.assert_allclose(rew.hand_pos[0, 0], demo.hand_pos[0])
    np.testing.assert_allclose(rew.hand_pos[36, 0], demo.hand_pos[0])  # 3 s: phase start
    np.testing.assert_allclose(rew.obj_pos[0, 0, 0], demo.obj_pos[0, 0] - [0, 0, 0.04])
    k7 = 84
    np.testing.assert_allclose(rew.obj_pos[k7, 0, 0], demo.obj_pos[-1, 0] - [0, 0, 0.04],
                               atol=1e-12)
    # 5 s is the middle of the phase whatever its length or its times in the video
    later = demo.copy(times=demo.times + 2.5)
    rew2 = DemoReward([later])
    np.testing.assert_allclose(rew2.hand_pos[60, 0], rew.hand_pos[60, 0])
    np.testing.assert_allclose(rew.hand_pos[60, 0, 0], 0.1 - 0.05, atol=1e-12)
    np.testing.assert_allclose(rew.hand_pos[k7 + 1:, 0], rew.obj_pos[k7 + 1:, 0, 0] + [0, 0, 0.2])


def test_whole_raw_videos_and_single_frames_are_refused():
    raw = _demo(aligned=False, camera=Camera(2.0, math.pi / 2, 0.3))
    with pytest.raises(InputError, match="not in the aligned frame.*action-phase"):
        DemoReward([raw])
    one = _demo().slice(0, 1)
    with pytest.raises(InputError, match="1 action-phase frame"):
        DemoReward([_demo(), one])


def test_reward_in_the_env_and_config_checks():
    rew = DemoReward([_demo()])
    env = GripperEnv("push_left_to_right", reward_fn=rew)
    st = StartState([-0.05, 0.0, 0.04], 0.0, 0.3, [0, 0, 0.04], 0.08, 0.045)
    env.reset(seed=0, options={"start": st})
    total = sum(env.step(np.zeros(7))[1] for _ in range(12))
    assert 0 < total < 12 * rew.max_step_reward()
    with pytest.raises(InputError, match="exactly one demonstration"):
        DemoReward([_demo(), _demo()], config=RewardConfig(reduction="single"))
    with pytest.raises(InputError, match="is of action 'pick_up'"):
        DemoReward([_demo(), _demo(action="pick_up")])
    with pytest.raises(ValueError, match=r"RewardConfig.reduction = 'sum' is not allowed"):
        RewardConfig(reduction="sum")
    with pytest.raises(ValueError, match=r"RewardTerm.b = -1.0"):
        RewardTerm(0.5, -1.0)


def test_object_rotation_term_uses_the_squared_quaternion_angle():
    rew = DemoReward([_demo()])
    s = _matching_states(rew)
    tilt = frames.rotvec_to_quat(np.array([0.2, 0.0, 0.0]))
    s["obj_quat"] = np.broadcast_to(tilt, s["obj_quat"].shape)
    r = rew.per_demo(**s)[:, 0]
    base = rew.per_demo(**_matching_states(rew))[:, 0]
    c = rew.config.obj_rot
    np.testing.assert_allclose(base - r, c.s * (1 - math.exp(-0.5 * c.b * 0.04)) / 120,
                               rtol=1e-9)


def _two_object_demo(final_xy, bottom, action="put_next_to", n=24, size=0.08):
    """Object 1 carried from (0.2, 0) to ``final_xy`` with its bottom ending at ``bottom``;
    object 0 (size ``size``) stands at the origin."""
    t = np.arange(n) / 12.0
    o1 = np.stack([np.linspace(0.2, final_xy[0], n), np.linspace(0.0, final_xy[1], n),
                   np.linspace(0.1, bottom + size / 2, n)], axis=-1)
    o0 = np.tile([0.0, 0.0, size / 2], (n, 1))
    return StateTrajectory(
        times=t, hand_pos=o1 + [0.0, 0.0, 0.03], hand_azi=np.zeros(n), hand_ele=np.full(n, 1.2),
        obj_pos=np.stack([o0, o1], axis=1), obj_rot=np.zeros((n, 2, 3)),
        obj_size=np.full((n, 2, 3), size), touch=np.ones(n), action=action, aligned=True,
        camera=Camera(0.0, 0.0, 0.0))


def _final_object_reward(rew, obj1_xyz, heights, radii):
    """Per-demo reward of the last step with object 0 at the origin and object 1 at
    ``obj1_xyz`` (its centre), everything else at the demonstration's targets."""
    k = rew.horizon
    return rew.per_demo([k], rew.hand_pos[k, :1], rew.hand_azi[k, :1], rew.hand_ele[k, :1],
                        [0.04], [[[0.0, 0.0, heights[0] / 2], obj1_xyz]],
                        [rew.obj_quat[k, 0]], np.array(heights), np.array(radii))[0, 0]


@pytest.mark.parametrize("final_xy, bottom, expected", [
    # placed 5 cm left of the other cylinder: moved out sideways until the two touch (0.09 m)
    ((-0.05, 0.0), 0.0, (-0.09, 0.0, 0.0)),
    # estimated 2 mm above a box top the simulated cylinder exceeds by 2 cm: lifted onto it
    ((0.01, 0.0), 0.082, (0.01, 0.0, 0.10)),
    # already clear of it: unchanged
    ((-0.12, 0.03), 0.0, (-0.12, 0.03, 0.0)),
])
def test_resolve_overlap_moves_the_target_out_of_the_other_cylinder(final_xy, bottom, expected):
    heights, radii = [0.10, 0.07], [0.045, 0.045]
    demo = _two_object_demo(final_xy, bottom)
    on = DemoReward([demo], config=RewardConfig(reduction="single", resolve_overlap=True))
    off = DemoReward([demo], config=RewardConfig(reduction="single"))
    k = on.horizon
    target = on._resolve_overlap(on.obj_pos[[k]], heights, radii)[0, 0, 1]
    np.testing.assert_allclose(target, expected, atol=1e-9)
    # the reward is the largest with object 1 at the resolved target (centre = bottom + h/2) ...
    at = np.array(expected) + [0.0, 0.0, heights[1] / 2]
    r_at = _final_object_reward(on, at, heights, radii)
    assert r_at == pytest.approx(_final_object_reward(off, np.array(final_xy + (bottom,))
                                                      + [0.0, 0.0, heights[1] / 2],
                                                      heights, radii))
    # ... and only there: the unresolved target pays less when it was moved
    raw = np.array(final_xy + (bottom + heights[1] / 2,))
    moved = not np.allclose(expected, final_xy + (bottom,))
    assert (_final_object_reward(on, raw, heights, radii) < r_at) == moved
    # the other object's target and one-object actions are left alone
    np.testing.assert_allclose(on._resolve_overlap(on.obj_pos[[k]], heights, radii)[0, 0, 0],
                               on.obj_pos[k, 0, 0])


def test_resolve_overlap_uses_each_rows_own_sizes():
    """(K, N) heights and radii (several envs at once): each row is resolved for its cylinders."""
    rew = DemoReward([_two_object_demo((-0.05, 0.0), 0.0)],
                     config=RewardConfig(reduction="single", resolve_overlap=True))
    k = rew.horizon
    t = rew._resolve_overlap(rew.obj_pos[[k, k]], np.array([[0.1, 0.07], [0.1, 0.07]]),
                             np.array([[0.04, 0.04], [0.05, 0.05]]))
    np.testing.assert_allclose(t[:, 0, 1, 0], [-0.08, -0.10])
    assert RewardConfig().resolve_overlap is False  # METHOD's reward by default


def test_hand_at_object_ties_the_fingertip_to_the_simulated_objects_centre():
    """``hand_at_object``: where the demonstration touches, up to the window's end, the hand's
    target is the manipulated object's target raised by half the *simulated* height (METHOD 2's
    tie); elsewhere, and after the window (object + dz), the demonstration's fingertip stays."""
    demo = _demo(offset=(0.0, 0.0, 0.12), touch_frames=(0, 40))  # fingertip 12 cm above
    off = DemoReward([demo], config=RewardConfig(reduction="single"))
    on = DemoReward([demo], config=RewardConfig(reduction="single", hand_at_object=True))
    assert RewardConfig().hand_at_object is False and not off.tied.any()
    np.testing.assert_array_equal(on.tied[:, 0], on.times <= 7.0 + 1e-9)
    np.testing.assert_allclose(off.hand_targets(), off.hand_pos)
    # what the demonstrations tell (the teacher's targets): their own box's centre (0.08 m)
    targets = on.hand_targets()[:, 0]
    centre = on.obj_pos[:, 0, 0] + [0.0, 0.0, 0.04]
    np.testing.assert_allclose(on.obj_height, 0.08)
    np.testing.assert_allclose(targets[on.tied[:, 0]], centre[on.tied[:, 0]])
    np.testing.assert_allclose(targets[~on.tied[:, 0]], off.hand_pos[~on.tied[:, 0], 0])
    np.testing.assert_allclose(on.hand_pos, off.hand_pos)  # the estimate itself is kept

    def hand_reward(rew, k, fingertip, heights):
        """Reward of step k with everything but the fingertip at the demo's targets."""
        obj = rew.obj_pos[[k], 0].copy()
        obj[..., 2] += heights / 2
        return rew.per_demo([k], fingertip, rew.hand_azi[[k], 0], rew.hand_ele[[k], 0],
                            [0.04], obj, rew.obj_quat[[k], 0], heights, [0.045])[0, 0]

    k = 60  # inside the window, touching
    for h in (0.04, 0.10):  # each episode's own height
        heights = np.array([h])
        at_centre = on.obj_pos[k, 0, 0] + [0.0, 0.0, h / 2]
        assert hand_reward(on, k, at_centre, heights) > hand_reward(on, k, on.hand_pos[k, 0],
                                                                    heights)
        assert hand_reward(on, k, at_centre, heights) == pytest.approx(
            hand_reward(off, k, off.hand_pos[k, 0], heights))
    k = on.horizon  # after the window: the object + dz, as without the setting
    assert hand_reward(on, k, on.hand_pos[k, 0], np.array([0.06])) == pytest.approx(
        hand_reward(off, k, off.hand_pos[k, 0], np.array([0.06])))


def test_hand_at_object_follows_the_resolved_target():
    """With ``resolve_overlap`` the tied fingertip goes where the carried object's target was
    moved to (the hand holds that object)."""
    demo = _two_object_demo((-0.05, 0.0), 0.0)
    rew = DemoReward([demo], config=RewardConfig(reduction="single", resolve_overlap=True,
                                                 hand_at_object=True))
    k = 84  # the window's end: tied, the target resolved sideways
    heights, radii = np.array([0.07, 0.07]), np.array([0.045, 0.045])
    resolved = rew._resolve_overlap(rew.obj_pos[[k]], heights, radii)[0, 0, 1]
    assert resolved[0] < -0.05
    centre = resolved + [0.0, 0.0, 0.035]
    hand = rew.hand_pos[k, 0] + [0.0, 0.02, 0.0]  # 2 cm off the estimate's fingertip
    for fingertip, best in ((centre, True), (hand, False)):
        r = rew.per_demo([k], fingertip, rew.hand_azi[[k], 0], rew.hand_ele[[k], 0], [0.04],
                         [[[0.0, 0.0, 0.035], centre]], rew.obj_quat[[k], 0], heights,
                         radii)[0, 0]
        assert (r == pytest.approx(rew.max_step_reward())) == best


def test_other_object_term_has_its_own_length_scale():
    """``other_obj_pos``: the still object of a two-object action has its own term; METHOD's
    default equals ``obj_pos``; a sharp one makes a 1 cm shove cost what it costs a put."""
    demo = _two_object_demo((-0.2, 0.0), 0.0)
    heights, radii = [0.07, 0.07], [0.045, 0.045]
    k = 84
    carried = demo.obj_pos[-1, 1] - [0.0, 0.0, 0.04] + [0.0, 0.0, 0.035]  # at its target

    def reward(rew, shove, miss=0.0):
        return rew.per_demo([k], rew.hand_pos[[k], 0], rew.hand_azi[[k], 0],
                            rew.hand_ele[[k], 0], [0.04],
                            [[[shove, 0.0, 0.035], carried + [miss, 0.0, 0.0]]],
                            rew.obj_quat[[k], 0], heights, radii)[0, 0]

    method = DemoReward([demo], config=RewardConfig(reduction="single"))
    assert RewardConfig().other_obj_pos == RewardConfig().obj_pos
    sharp = DemoReward([demo], config=RewardConfig(
        reduction="single", other_obj_pos=RewardTerm(0.5, 10000.0)))
    h = method.horizon
    assert (reward(method, 0.0) - reward(method, 0.01)) * h == pytest.approx(0.0025, abs=1e-4)
    assert (reward(sharp, 0.0) - reward(sharp, 0.01)) * h == pytest.approx(0.197, abs=1e-3)
    assert reward(sharp, 0.0) == pytest.approx(reward(method, 0.0))
    assert sharp.max_step_reward() == pytest.approx(method.max_step_reward())
    # the carried object keeps obj_pos: missing its target by 1 cm costs the same in both
    assert reward(sharp, 0.0) - reward(sharp, 0.0, 0.01) == pytest.approx(
        reward(method, 0.0) - reward(method, 0.0, 0.01))
    one = DemoReward([_demo()], config=RewardConfig(
        reduction="single", other_obj_pos=RewardTerm(0.5, 10000.0)))
    r_one = one.reduce(one.per_demo(**_matching_states(one)))
    assert r_one.max() == pytest.approx(one.max_step_reward())
    assert one.max_step_reward() == pytest.approx(DemoReward([_demo()]).max_step_reward())
