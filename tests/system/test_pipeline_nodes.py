"""The three nodes as separate processes over real DDS, driven through the full chain
(estimate -> rollout -> IK -> simulated Panda), with the bag and the report checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from real2sim_bringup.bag import read_bag
from real2sim_bringup.demo import DemoOptions, run_demo

from .report_checks import FAIL_BG, PASS_GREEN, check_links_and_paths, colour_fraction, screenshot

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    opts = DemoOptions(out=out, max_videos=1, timeout=400,
                       node_params={"perception": ["optim.iterations:=25"]})
    return run_demo(opts)


@pytest.mark.ros
def test_full_chain_over_dds(demo_run):
    s = demo_run
    assert [e["success"] for e in s["estimates"]] == [True], s["estimates"]
    assert s["rollout"]["success"] and s["rollout"]["waypoints"] == 121
    ex = s["execution"]
    assert ex["success"], ex["message"]
    assert ex["max_position_error"] < 1e-3
    assert ex["feedback_messages"] > 2 and "done" in ex["stages"]
    run = Path(s["run_dir"])
    assert (run / "estimates" / s["videos"][0] / "states_aligned.csv").is_file()
    assert (run / "execution" / "joint_trajectory.csv").is_file()
    assert (run / "execution" / "execution.mp4").stat().st_size > 10_000
    assert json.loads((run / "summary.json").read_text())["action"] == "push_left_to_right"


@pytest.mark.ros
def test_bag_holds_the_topics_with_decodable_messages(demo_run):
    from rclpy.serialization import deserialize_message
    from real2sim_core.topics import RECORDED_TOPICS, topic_types

    content = read_bag(demo_run["bag"])
    assert set(content) == set(RECORDED_TOPICS), set(RECORDED_TOPICS) ^ set(content)
    types = topic_types()
    for topic, msgs in content.items():
        assert msgs[0][0] == RECORDED_TOPICS[topic]
        deserialize_message(msgs[-1][2], types[topic])
    traj = deserialize_message(content["/real2sim/state_trajectory"][0][2],
                               types["/real2sim/state_trajectory"])
    assert traj.aligned and traj.action == "push_left_to_right" and len(traj.frames) > 10
    joints = deserialize_message(content["/joint_states"][-1][2], types["/joint_states"])
    assert list(joints.name)[:2] == ["panda_joint1", "panda_joint2"]


@pytest.mark.ros
def test_report_renders_in_headless_chromium(demo_run, tmp_path):
    report = Path(demo_run["report"])
    text = check_links_and_paths(report, forbidden=[Path(demo_run["run_dir"]).resolve()])
    assert "Execution on the simulated Panda" in text and "execution/execution.mp4" in text
    assert "all stages passed" in text and 'class="failure"' not in text
    for pic in ("report/plan_3d.png", "report/joints.png", "report/execution_poster.png",
                f"estimates/{demo_run['videos'][0]}/silhouettes.gif"):
        assert f'"{pic}"' in text, pic
    img = screenshot(report, tmp_path / "report.png", height=2000)
    assert colour_fraction(img[:300], PASS_GREEN, tol=40) > 0.001  # the passed stage cards
    assert colour_fraction(img[:300], FAIL_BG, tol=6) == 0.0  # and nothing in red


def test_demo_refuses_a_bad_example(tmp_path):
    from real2sim_core import InputError

    with pytest.raises(InputError, match="not an example folder"):
        run_demo(DemoOptions(example=tmp_path, out=tmp_path / "o"))
    with pytest.raises(KeyError, match="unknown action 'wave'"):
        run_demo(DemoOptions(action="wave", out=tmp_path / "o"))
