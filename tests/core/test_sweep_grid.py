"""The sweep grid: schema validation, expansion into jobs, and the refusals before anything
starts (unknown action, missing demo folder, unknown video, bad address)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from real2sim_core.cli import main
from real2sim_core.config import ConfigError
from real2sim_core.errors import InputError
from real2sim_core.sweep.grid import expand, load_grid
from real2sim_core.sweep.runner import check_fits


def _grid(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "grid.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_full_grid_expands_with_dependencies(tmp_path, repo_dir, monkeypatch):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, """
        sweep:
          max_retries: 3
          resources:
            train: {cpus: 2, memory_gb: 4, timeout_min: 30}
        estimate:
          - actions: [push_left_to_right]
            limit: 2
            iterations: 20
        train:
          - actions: [push_left_to_right]
            demos: estimated
            rewards: [mean, max]
            seeds: [0, 1]
            updates: 2
            benchmark: [easy]
            benchmark_limit: 5
          - actions: [pick_up]
            demos: models/demos/{action}
            per_video: true
            init: track
        benchmark:
          action: pick_up
          policies: [scripted, models/pick_up/policy.zip]
          specs: [easy, hard]
        """)
    grid = load_grid(g)
    assert grid.sweep.max_retries == 3 and grid.sweep.resources.train.cpus == 2.0
    jobs = expand(grid, tmp_path / "out", str(g))
    kinds = [j.kind for j in jobs]
    n_pick = len(list((repo_dir / "models" / "demos" / "pick_up").glob("*.csv")))
    assert kinds.count("estimate") == 2
    assert kinds.count("train") == 2 * 2 + n_pick  # 2 rewards x 2 seeds + one per pick_up video
    assert kinds.count("benchmark") == 4 + 4      # each trained push policy on easy, + 2 x 2
    ids = {j.id: j for j in jobs}
    assert len(ids) == len(jobs)
    ests = [j.id for j in jobs if j.kind == "estimate"]
    t = ids["train/push_left_to_right/max/all/seed1"]
    assert t.deps == ests and t.cpus == 2.0 and t.memory_bytes == 4 * 1024 ** 3
    assert t.timeout_s == 1800.0
    for e in ests:  # trains on the sweep's own estimates
        assert str(tmp_path / "out" / e / "states_aligned.csv") in t.argv
    b = ids["benchmark/train/push_left_to_right/max/all/seed1/easy"]
    assert b.deps == [t.id] and str(Path(t.out_dir) / "policy.zip") in b.argv
    assert "--limit" in b.argv and b.argv[b.argv.index("--limit") + 1] == "5"
    # every job runs a real2sim command into its own folder, dependencies listed first
    order = {j.id: i for i, j in enumerate(jobs)}
    for j in jobs:
        assert j.out_dir == str(tmp_path / "out" / j.id)
        assert all(order[d] < order[j.id] for d in j.deps)
        assert j.argv[0] == j.kind and j.command().startswith(f"real2sim {j.kind} ")


@pytest.mark.parametrize("text, match", [
    ("sweep: {retries: 2}", "unknown key"),
    ("train: [{actions: [pick_up], rewards: [median]}]", "median"),
    ("sweep: {resources: {train: {cpus: 0}}}", "cpus"),
    ("estimate: [{actions: [push_left_to_right], limit: -1}]", "limit"),
    ("- just a list", "expected a mapping"),
    ("estimate: [{actions: [push]]", "not valid YAML"),
])
def test_schema_refuses_bad_grids(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_grid(_grid(tmp_path, text))


@pytest.mark.parametrize("text, match", [
    ("estimate: [{actions: [push_sideways]}]", "unknown action 'push_sideways'"),
    ("train: [{actions: [pick_up], demos: 'no/such/folder/{action}'}]",
     "demonstration folder 'no/such/folder/pick_up'"),
    ("train: [{actions: [pick_up], demos: estimated}]", "estimates no video"),
    ("estimate: [{videos: ['999999999']}]", "video id '999999999' is not in"),
    ("benchmark: [{action: pick_up, policies: [nope.zip]}]", "policy file 'nope.zip' not found"),
    ("benchmark: [{action: pick_up, policies: [scripted], specs: [medium]}]",
     "benchmark spec"),
    ("benchmark: [{action: pick_up, policies: [scripted, scripted]}]", "two jobs write"),
    ("{}", "no jobs"),
])
def test_expand_refuses_bad_inputs(tmp_path, repo_dir, monkeypatch, text, match):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, text)
    with pytest.raises(InputError, match=match):
        expand(load_grid(g), tmp_path / "out", str(g))


def test_cli_bad_grid_is_one_line_and_nothing_starts(tmp_path, capsys, repo_dir, monkeypatch):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, "estimate: [{actions: [push_sideways]}]")
    out = tmp_path / "out"
    assert main(["sweep", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("real2sim sweep: error:") and "push_sideways" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    assert main(["sweep", str(tmp_path / "missing.yaml"), "--out", str(out)]) == 2
    assert "grid file not found" in capsys.readouterr().err


@pytest.mark.parametrize("address, match", [
    ("127.0.0.1:1", "cannot reach a Ray cluster at '127.0.0.1:1'"),
    ("not an address", "is not auto, HOST:PORT"),
])
def test_cli_unreachable_address_is_refused_quickly(tmp_path, capsys, repo_dir, monkeypatch,
                                                    address, match):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, "benchmark: [{action: pick_up, policies: [scripted], limit: 1}]")
    assert main(["sweep", str(g), "--out", str(tmp_path / "out"), "--address", address]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_dry_run_lists_commands(tmp_path, capsys, repo_dir, monkeypatch):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, "benchmark: [{action: pick_up, policies: [scripted], specs: [easy, "
              "hard], limit: 3}]")
    assert main(["sweep", str(g), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 jobs (2 benchmark)" in out
    assert "[todo] benchmark/pick_up/scripted/hard: real2sim benchmark --action pick_up" in out


def test_jobs_larger_than_any_node_are_refused(tmp_path, repo_dir, monkeypatch):
    monkeypatch.chdir(repo_dir)
    g = _grid(tmp_path, """
        sweep: {resources: {benchmark: {cpus: 4, memory_gb: 1}}}
        benchmark: [{action: pick_up, policies: [scripted]}]
        """)
    jobs = expand(load_grid(g), tmp_path / "out")
    nodes = [{"cpus": 2.0, "memory": 8 * 2.0 ** 30}, {"cpus": 1.0, "memory": 30 * 2.0 ** 30}]
    with pytest.raises(InputError, match="declare 4 CPUs but the largest Ray node has 2"):
        check_fits(jobs, nodes)
    for j in jobs:
        j.cpus, j.memory_bytes = 1.0, 40 * 2 ** 30
    with pytest.raises(InputError, match="40.0 GiB of memory but the largest Ray node offers 30"):
        check_fits(jobs, nodes)
