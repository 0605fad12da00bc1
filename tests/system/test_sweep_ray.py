"""``real2sim sweep`` and ``real2sim benchmark --ray`` on real Ray.

Default suite: one local Ray (2 CPUs) for the module: a small sweep with a job that exceeds its
memory and one with a broken policy (both reported with their reason, the rest finishes, a
re-run skips the finished jobs), and the Ray benchmark giving the single-process per-rollout
results. Slow (``make test-slow``): a two-node cluster on this machine runs 3 estimates,
2 short trainings and 2 benchmarks of 20 starts, with one worker killed mid-sweep.
Every test leaves no Ray process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from real2sim_core.cli import main  # noqa: E402
from real2sim_core.sweep.execute import ATTEMPTS_FILE, DONE_FILE, WORKER_FILE  # noqa: E402
from real2sim_core.sweep.session import ray_session  # noqa: E402


def _procs_with(text: str) -> list[str]:
    """Command lines of live processes that mention ``text`` (Ray's own temp dir)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            state = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z":
            found.append(f"{d}: {cmd[:120]}")
    return found


def _assert_no_ray_left(temp_dir: str, wait_s: float = 20.0) -> None:
    deadline = time.monotonic() + wait_s
    while _procs_with(temp_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _procs_with(temp_dir), f"Ray processes left behind: {_procs_with(temp_dir)}"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs, small object store, no dashboard) for this module's fast tests."""
    tmp = tempfile.mkdtemp(prefix="r2s_t_", dir="/tmp")
    try:
        with ray_session(None, num_cpus=2, temp_dir=tmp) as r:
            yield r
        _assert_no_ray_left(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def _summary(out: Path) -> dict:
    return json.loads((out / "sweep_summary.json").read_text())


def test_local_sweep_reports_failures_and_resumes(local_ray, tmp_path, repo_dir, monkeypatch,
                                                  capsys):
    monkeypatch.chdir(repo_dir)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a policy")
    grid = _write(tmp_path / "grid.yaml", f"""
        sweep:
          max_retries: 1
          resources:
            estimate: {{cpus: 1, memory_gb: 0.05}}   # far too little: killed, reported
            benchmark: {{cpus: 1, memory_gb: 2}}
        estimate:
          - videos: ["3694"]
            iterations: 5
        benchmark:
          - action: push_left_to_right
            policies: [scripted]
            specs: [easy, hard]
            limit: 2
          - action: push_left_to_right
            policies: [{broken}]
            limit: 2
        """)
    out = tmp_path / "out"
    rc = main(["sweep", str(grid), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    s = _summary(out)
    assert s["counts"]["benchmark"] == {"total": 3, "done": 2, "skipped": 0, "flagged": 0,
                                        "failed": 1}
    assert s["counts"]["estimate"]["failed"] == 1
    reasons = {f["id"]: f["reason"] for f in s["failed"]}
    assert "exceeded its memory limit" in reasons["estimate/push_left_to_right/3694"]
    assert "sweep.resources.estimate.memory_gb" in reasons["estimate/push_left_to_right/3694"]
    bad = [r for k, r in reasons.items() if "broken" in k]
    assert len(bad) == 1 and "exit code 2" in bad[0] and "broken.zip" in bad[0]
    assert "re-run the failed jobs" in err and s["rerun"].startswith("real2sim sweep ")
    for spec in ("easy", "hard"):
        d = out / "benchmark" / "push_left_to_right" / "scripted" / spec
        assert (d / DONE_FILE).is_file()
        res = json.loads((d / "summary.json").read_text())
        assert res["num_starts"] == 2 and len(list((d / "rollouts").glob("*.csv"))) == 2
    # a re-run skips the finished jobs and tries the failed ones again
    rc = main(["sweep", str(grid), "--out", str(out), "--quiet"])
    s2 = _summary(out)
    assert rc == 1 and s2["counts"]["benchmark"]["skipped"] == 2
    assert s2["counts"]["benchmark"]["failed"] == 1
    est = out / "estimate" / "push_left_to_right" / "3694"
    assert (est / ATTEMPTS_FILE).read_text() == "2"


def test_ray_benchmark_matches_single_process(local_ray, tmp_path):
    from real2sim_policy.benchmark import BenchmarkConfig, run_benchmark
    from real2sim_policy.ray_benchmark import run_benchmark_ray

    cfg = BenchmarkConfig(plots=False)
    one = run_benchmark("pick_up", "scripted", "hard", tmp_path / "one", limit=5, config=cfg,
                        progress=False)
    dist = run_benchmark_ray("pick_up", "scripted", "hard", tmp_path / "ray", limit=5,
                             config=cfg, num_slices=3, progress=False)
    assert dist.summary["results"] == one.summary["results"]
    for key in ("successes", "hand_ok_rate", "object_ok_rate", "failure_counts", "spec"):
        assert dist.summary[key] == one.summary[key]
    files = sorted(p.name for p in (tmp_path / "one" / "rollouts").glob("*.csv"))
    assert len(files) == 5
    assert files == sorted(p.name for p in (tmp_path / "ray" / "rollouts").glob("*.csv"))
    for f in files:
        assert (tmp_path / "one" / "rollouts" / f).read_bytes() == \
            (tmp_path / "ray" / "rollouts" / f).read_bytes()


def test_benchmark_cli_over_ray(local_ray, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["benchmark", "--action", "push_left_to_right", "--policy", "scripted",
                 "--spec", "easy", "--limit", "3", "--ray", "--no-plots", "--quiet",
                 "--out", str(out)]) == 0
    assert "success" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["num_starts"] == 3


# --- slow: a two-node cluster on this machine --------------------------------------------------


@pytest.fixture
def two_node_cluster():
    from ray.cluster_utils import Cluster

    tmp = tempfile.mkdtemp(prefix="r2s_c_", dir="/tmp")
    # Cluster records its address for `ray.init("auto")` in Ray's default folder
    os.makedirs(os.path.dirname(ray._private.utils.get_ray_address_file(None)), exist_ok=True)
    args = dict(num_cpus=1, object_store_memory=80 * 1024 ** 2, include_dashboard=False,
                temp_dir=tmp)
    cluster = Cluster(initialize_head=True, head_node_args=args)
    try:
        cluster.add_node(**args)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
        _assert_no_ray_left(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def _kill_first_training_worker(out: Path, killed: list, stop: threading.Event) -> None:
    """Kill the Ray worker of the first training job once it has run a few seconds."""
    while not stop.is_set():
        for w in sorted(out.glob("train/**/" + WORKER_FILE)):
            if (w.parent / ATTEMPTS_FILE).read_text() == "1" and \
                    time.time() - w.stat().st_mtime > 3:
                pid = int(w.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append((str(w.parent), pid))
                return
        time.sleep(0.2)


@pytest.mark.slow
def test_two_node_sweep_survives_a_killed_worker(two_node_cluster, tmp_path, repo_dir,
                                                 monkeypatch, capsys):
    monkeypatch.chdir(repo_dir)
    grid = _write(tmp_path / "grid.yaml", """
        sweep:
          max_retries: 2
          resources:
            estimate: {cpus: 1, memory_gb: 2}
            train: {cpus: 1, memory_gb: 3}
            benchmark: {cpus: 1, memory_gb: 2}
        estimate:
          - actions: [push_left_to_right]
            limit: 3
            iterations: 20
        train:
          - actions: [push_left_to_right]
            demos: estimated
            rewards: [mean]
            seeds: [0, 1]
            updates: 2
            episodes_per_update: 2
            epochs: 1
            envs: 1
            init: none
            benchmark: [easy]
            benchmark_limit: 20
        """)
    out = tmp_path / "out"
    killed: list = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_training_worker, args=(out, killed, stop),
                              daemon=True)
    killer.start()
    try:
        rc = main(["sweep", str(grid), "--out", str(out), "--quiet",
                   "--address", two_node_cluster.address])
    finally:
        stop.set()
        killer.join()
    captured = capsys.readouterr()
    s = _summary(out)
    assert rc == 0, captured.err
    assert s["counts"] == {
        "estimate": {"total": 3, "done": 3, "skipped": 0, "flagged": s["counts"]["estimate"]
                     ["flagged"], "failed": 0},
        "train": {"total": 2, "done": 2, "skipped": 0, "flagged": 0, "failed": 0},
        "benchmark": {"total": 2, "done": 2, "skipped": 0, "flagged": 0, "failed": 0}}
    assert len(s["nodes"]) == 2, "the jobs ran on one node only"
    assert killed, "no training worker was killed"
    job_dir = Path(killed[0][0])
    done = json.loads((job_dir / DONE_FILE).read_text())
    assert done["attempt"] == 2 and done["pid"] != killed[0][1]
    assert (job_dir / "policy.zip").is_file()
    for b in out.glob("benchmark/**/summary.json"):
        assert json.loads(b.read_text())["num_starts"] == 20
    # the same jobs run sequentially give the same per-rollout results (same seeds)
    seq = tmp_path / "seq"
    rc = main(["sweep", str(grid), "--out", str(seq), "--quiet", "--sequential"])
    assert rc == 0
    for b in out.glob("benchmark/**/summary.json"):
        twin = seq / b.relative_to(out)
        assert json.loads(b.read_text())["results"] == json.loads(twin.read_text())["results"]
