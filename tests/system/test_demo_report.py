"""The run report for a person, and a demo that always reports: a node killed mid-run or a node
that exits at start-up still gives summary.json, report.html (failure in red, with its reason)
and the failed stage on the console; a benchmark folder gets its marginals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from real2sim_bringup.demo import DemoOptions, run_demo
from real2sim_bringup.pipeline_report import judge_stages, write_benchmark_report
from real2sim_bringup.report import Page, Stage, scrub_paths, write_page

from .report_checks import (
    FAIL_BG,
    FAIL_RED,
    PASS_GREEN,
    check_links_and_paths,
    colour_fraction,
    screenshot,
)

REPO = Path(__file__).resolve().parents[2]
FAST_ESTIMATE = "perception:optim.iterations:=25"


def _pids_of(module: str, marker: str) -> list[int]:
    """PIDs of python processes running ``-m module`` whose command line holds ``marker``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmd]
        if module in args and any(marker in a for a in args):
            out.append(int(d.name))
    return out


@pytest.mark.ros
def test_demo_with_the_executor_killed_mid_run_writes_summary_and_report(tmp_path):
    out = tmp_path / "runs"
    cmd = [str(Path(sys.executable).with_name("real2sim")), "demo", "--out", str(out),
           "--max-videos", "1", "--param", FAST_ESTIMATE]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300
        plans = []
        while not plans and time.monotonic() < deadline and proc.poll() is None:
            plans = list(out.glob("*/rollout/plan.json"))
            time.sleep(0.2)
        assert plans, "the demo never reached the execute stage"
        time.sleep(1.0)  # the goal is sent; the IK and the motion take several seconds
        pids = _pids_of("panda_executor.executor_node", str(out))
        assert len(pids) == 1, pids
        os.kill(pids[0], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    console = stdout + stderr
    assert proc.returncode == 1, console[-3000:]
    assert "FAILED at the execute stage" in stdout, stdout[-3000:]
    assert "the execute stage failed: the executor node was killed by signal SIGKILL" in stderr
    run = plans[0].parents[1]
    s = json.loads((run / "summary.json").read_text())
    assert s["failed_stage"] == "execute"
    assert "executor node was killed by signal SIGKILL during the execution" in s["failure"]
    assert [st["verdict"] for st in s["stages"]] == ["passed", "passed", "passed", "failed"]
    assert s["nodes"]["executor"]["exit_description"] == "was killed by signal SIGKILL"
    report = run / "report.html"
    text = check_links_and_paths(report, forbidden=[tmp_path])
    assert 'class="failure"' in text and "executor node was killed by signal SIGKILL" in text
    assert "logs/executor.log" in text
    img = screenshot(report, tmp_path / "killed.png", height=900)
    top = img[:400]  # headline: the failed stage card and the red failure box
    assert colour_fraction(top, FAIL_BG, tol=6) > 0.02
    assert colour_fraction(top, FAIL_RED, tol=40) > 0.002


@pytest.mark.ros
def test_demo_with_a_node_that_exits_at_start_up_reports_it(tmp_path):
    lines: list[str] = []
    s = run_demo(DemoOptions(out=tmp_path, max_videos=1, timeout=60,
                             node_params={"executor": ["ik.max_iterations:=0"]}),
                 log=lines.append)
    run = Path(s["run_dir"])
    assert s["failed_stage"] == "start"
    assert "the executor node exited with code" in s["failure"], s["failure"]
    assert "at start-up" in s["failure"] and "max_iterations" in s["failure"]
    assert [st["verdict"] for st in s["stages"]] == ["failed", "skipped", "skipped", "skipped"]
    assert any("start" in ln and "FAILED" in ln and "executor" in ln for ln in lines), lines
    assert json.loads((run / "summary.json").read_text())["failed_stage"] == "start"
    text = check_links_and_paths(run / "report.html", forbidden=[tmp_path])
    assert "not run: the start stage failed" in text and "max_iterations" in text


def test_benchmark_folder_report_shows_the_marginals(tmp_path):
    bench = tmp_path / "bench"
    shutil.copytree(REPO / "results" / "push_left_to_right" / "hard", bench)
    r = subprocess.run([str(Path(sys.executable).with_name("real2sim")), "report", str(bench)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = check_links_and_paths(bench / "report.html", forbidden=[tmp_path])
    assert 'src="marginals.png"' in text and 'src="success_ratio.png"' in text
    rate = json.loads((bench / "summary.json").read_text())["success_rate"]
    assert f"{100 * rate:.1f} %" in text
    assert "benchmark_hard.csv" in text  # the spec by name, never the machine's path
    img = screenshot(write_benchmark_report(bench), tmp_path / "bench.png", height=900)
    assert colour_fraction(img[:300], PASS_GREEN, tol=40) > 0.001


def test_benchmark_report_names_the_failed_checks(tmp_path):
    """Rows name their failed checks by ``failed_reason``; rows of older files without it show
    the failed part of ``reason``."""
    bench = tmp_path / "bench"
    bench.mkdir()
    new = {"row": "0", "success": False, "hand_ok": True, "object_ok": False, "error": "",
           "reason": "hand: NEW_HAND_OK; object: NEW_OBJ_BAD",
           "failed_reason": "object: NEW_OBJ_BAD"}
    old = {"row": "1", "success": False, "hand_ok": False, "object_ok": True, "error": "",
           "reason": "hand: OLD_HAND_BAD; object: OLD_OBJ_OK"}
    (bench / "summary.json").write_text(json.dumps(
        {"action": "pick_up", "spec": "benchmark_easy.csv", "num_starts": 2, "successes": 0,
         "success_rate": 0.0, "failure_counts": {}, "results": [new, old]}))
    text = write_benchmark_report(bench).read_text()
    assert "NEW_OBJ_BAD" in text and "NEW_HAND_OK" not in text
    assert "OLD_HAND_BAD" in text and "OLD_OBJ_OK" not in text


def test_report_command_refuses_a_folder_that_is_not_a_run(tmp_path):
    r = subprocess.run([str(Path(sys.executable).with_name("real2sim")), "report",
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "neither a demo run folder nor a benchmark folder" in r.stderr
    assert "Traceback" not in r.stderr


def test_paths_are_scrubbed_and_a_page_with_an_absolute_path_is_refused(tmp_path):
    run = tmp_path / "run"
    msg = f"32 frames, fit ok; wrote {run}/estimates/3694. See {tmp_path}/elsewhere/x.log"
    s = scrub_paths(msg, run)
    assert s == "32 frames, fit ok; wrote estimates/3694. See .../elsewhere/x.log"
    assert scrub_paths("recorded /real2sim/plan and /joint_states", run) == \
        "recorded /real2sim/plan and /joint_states"
    page = Page(title="t", stages=[Stage("start", "failed", f"no file {tmp_path}/a")])
    with pytest.raises(ValueError, match="absolute path"):
        write_page(page, run / "report.html")


def test_stages_after_a_failure_are_not_run_with_the_reason():
    s = {"action": "push_left_to_right", "videos": ["1"], "nodes_ready": True,
         "estimates": [{"video_id": "1", "success": True, "message": "ok", "fit_ok": False}],
         "rollout": {"success": False, "message": "rollout refused: row 9 is outside",
                     "check_passed": False}}
    st = {x.name: x for x in judge_stages(s)}
    assert st["start"].verdict == "passed"
    assert st["estimate"].verdict == "failed" and "fit flagged" in st["estimate"].detail
    assert st["rollout"].verdict == "failed" and "row 9" in st["rollout"].detail
    assert st["execute"].verdict == "skipped"
    assert st["execute"].detail == "not run: there is no plan (the rollout stage failed)"


class _RolloutAnswers:
    """The rollout side of the demo's DDS client: answers (success, check passed) per row,
    refuses rows beyond them as the policy node does."""

    def __init__(self, checks):
        self.checks, self.asked, self.last_plan = checks, [], None

    def rollout(self, action, spec, row, timeout=0.0):
        self.asked.append(row)
        if row >= len(self.checks):
            return {"success": False, "check_passed": False,
                    "message": f"rollout refused: row {row} is outside {spec}"}
        ok = self.checks[row]
        return {"success": True, "check_passed": ok, "waypoints": 121,
                "message": "policy policy.zip: completed; check "
                           + ("passed: fine" if ok else "failed: object: final x = -0.005 m")}


def _rollout_stage(tmp_path, checks, row=None):
    from real2sim_bringup.demo import PipelineRun

    from real2sim_core import get_action

    lines = []
    run = PipelineRun(DemoOptions(row=row, example=tmp_path, search_rows=4),
                      get_action("push_left_to_right"), ["1"], tmp_path, lines.append)
    client = _RolloutAnswers(checks)
    run.rollout(client)
    return run.summary, client.asked, lines


def test_demo_starts_from_the_first_row_whose_plan_passes_in_simulation(tmp_path):
    summary, asked, lines = _rollout_stage(tmp_path, [False, False, True, True])
    assert asked == [0, 1, 2]
    assert summary["start_state"]["row"] == 2
    assert summary["start_state"]["failed_rows"] == [0, 1]
    assert "row 0: action check failed in simulation (object: final x = -0.005 m)" in lines[0]
    summary.update(action="push_left_to_right", videos=["1"], nodes_ready=True,
                   estimates=[{"video_id": "1", "success": True, "message": "ok"}])
    st = {x.name: x for x in judge_stages(summary)}
    assert st["rollout"].verdict == "passed"
    assert st["rollout"].detail == ("121 waypoints, action check passed in simulation from row "
                                    "2 (rows 0, 1 failed the action check in simulation)")


def test_demo_row_given_is_not_searched_and_no_passing_row_fails_the_stage(tmp_path):
    summary, asked, _ = _rollout_stage(tmp_path, [False, True], row=0)
    assert asked == [0] and summary["start_state"]["failed_rows"] == []
    assert not summary["rollout"]["check_passed"]
    # none of the spec's rows passes: the search ends at the spec's end, which is the failure
    summary, asked, _ = _rollout_stage(tmp_path, [False, False])
    assert asked == [0, 1, 2] and summary["start_state"]["failed_rows"] == [0, 1]
    assert "row 2 is outside" in summary["rollout"]["message"]
