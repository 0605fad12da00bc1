"""The held-object statistics of the Something-Else evaluation (what its checks do not judge):
the largest per-frame step in the aligned phase, the drop over a put's release and the
fingertip's depth inside the held object."""

from __future__ import annotations

import numpy as np
import pytest
from real2sim_core.trajectory import ALIGN_SCALE, StateTrajectory
from real2sim_perception.evaluation import format_table, held_object_stats

T = 10


def _put(hand_offset):
    """Object 1 (a 4 cm cube) carried 1 cm per frame along x, jumping 5 cm between frames 6
    and 7, held in frames 2-6 (lifted 4 cm) and put down on the table from frame 7."""
    x = np.cumsum(np.full(T, 0.01))
    x[7:] += 0.05
    z = np.where((np.arange(T) >= 2) & (np.arange(T) <= 6), 0.06, 0.02)
    o1 = np.stack([x, np.full(T, 0.1), z], 1)
    o0 = np.tile([0.0, 0.0, 0.05], (T, 1))
    touch = ((np.arange(T) >= 2) & (np.arange(T) <= 6)).astype(float)
    return StateTrajectory(times=np.arange(T) / 12.0, hand_pos=o1 + hand_offset,
                           hand_azi=np.zeros(T), hand_ele=np.zeros(T),
                           obj_pos=np.stack([o0, o1], 1), obj_rot=np.zeros((T, 2, 3)),
                           obj_size=np.full((T, 2, 3), 0.04), touch=touch,
                           action="put_behind")


def test_held_object_stats_measure_step_drop_and_fingertip_depth():
    stats = held_object_stats(_put([0.0, 0.0, 0.0]), "put_behind", (0, T))
    # the release frame: 5 cm jump + 1 cm carry along x, 4 cm down
    assert stats["max_step_m"] == pytest.approx(np.hypot(0.06, 0.04) * ALIGN_SCALE)
    assert stats["release_drop_m"] == pytest.approx(0.04)  # frame 5 (held) -> frame 7 (down)
    # the fingertip at the cube's centre: the 4 cm sphere reaches 4 + 2 cm into it
    assert stats["fingertip_depth_m"] == pytest.approx(0.06, abs=1e-5)
    # held on the cube's side (centre 2 cm + 4 cm radius away): not inside at all
    stats = held_object_stats(_put([-0.06, 0.0, 0.0]), "put_behind", (0, T))
    assert stats["fingertip_depth_m"] == pytest.approx(0.0, abs=1e-5)
    # the phase cut: while held (frames 2-6) the largest step is the 1 cm carry
    assert held_object_stats(_put([0.0, 0.0, 0.0]), "put_behind", (2, 7))["max_step_m"] \
        == pytest.approx(0.01 * ALIGN_SCALE)


def test_format_table_reports_the_held_object_medians():
    recs = [{"action": "put_behind", "video_id": str(i),
             "B": {"success": True, "plausible": True, "passed": True},
             "held": {"max_step_m": s, "release_drop_m": 0.01, "fingertip_depth_m": 0.02}}
            for i, s in enumerate((0.05, 0.07, 0.30))]
    text = format_table(recs)
    assert ("held object (not judged above), medians: largest per-frame step in the aligned B "
            "phase 0.070 m (3 videos); put: drop over the release 0.010 m (3 videos); "
            "fingertip depth inside it while touching 0.020 m (3 videos)") in text
