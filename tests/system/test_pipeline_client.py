"""``pipeline_client`` (what the launch files run) against the three nodes as processes: the
same chain, bag, summary and report as ``real2sim demo``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from real2sim_bringup.bag import read_bag
from real2sim_bringup.demo import DemoOptions, start_nodes, stop_nodes


@pytest.mark.slow  # ~60 s: the same chain as tests/system/test_pipeline_nodes.py (default)
@pytest.mark.ros
def test_pipeline_client_runs_the_chain_on_running_nodes(tmp_path):
    opts = DemoOptions(out=tmp_path, node_params={"perception": ["optim.iterations:=25"]})
    procs: dict = {}
    start_nodes(opts, tmp_path / "nodes", dict(os.environ), procs)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "real2sim_bringup.pipeline_client", "--max-videos", "1",
             "--timeout", "400", "--out", str(tmp_path / "runs"), "--ros-args", "-r",
             "__node:=ignored_by_the_client"],
            capture_output=True, text=True, timeout=900)
    finally:
        stop_nodes(procs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("pipeline_client:   estimate : ") and "fit ok" in ln
               for ln in lines)
    assert any(ln.startswith("pipeline_client:   execute  : passed") for ln in lines)
    run = next((tmp_path / "runs").iterdir())
    s = json.loads((run / "summary.json").read_text())
    assert s["failed_stage"] == "" and s["execution"]["success"]
    assert [st["verdict"] for st in s["stages"]] == ["passed"] * len(s["stages"])
    assert (run / "report.html").is_file()
    # the client pointed the executor's out_dir (a run-time parameter) at the run folder
    assert (run / "execution" / "joint_trajectory.csv").is_file()
    assert (run / "execution" / "summary.json").is_file()
    content = read_bag(run / "bag")
    for topic in ("/real2sim/state_trajectory", "/real2sim/plan", "/joint_states",
                  "/real2sim/executed_trajectory"):
        assert content.get(topic), f"{topic} not recorded"


@pytest.mark.ros
def test_pipeline_client_names_the_failed_stage_and_still_writes_the_report(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "real2sim_bringup.pipeline_client", "--timeout", "3",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "start    : FAILED: servers not available after 3 s" in proc.stdout
    assert "pipeline_client: the start stage failed: servers not available after 3 s" \
        in proc.stderr
    run = next(Path(tmp_path).iterdir())
    s = json.loads((run / "summary.json").read_text())
    assert s["failed_stage"] == "start" and (run / "report.html").is_file()
    assert [st["verdict"] for st in s["stages"]][0] == "failed"
