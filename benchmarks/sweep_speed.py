#!/usr/bin/env python
"""Speed-up of a local 2-worker Ray sweep over the sequential loop on the same jobs, and the
planning table of the README ("Sweeps on Ray") from measured per-job costs.

1. The same jobs (default: 4 Something-Else estimates at the configured 400 iterations, 2 short
   trainings, 2 scripted benchmarks of 200 starts; one CPU each) run one after another (what
   ``scripts/estimate_demos.sh`` / ``train_models.sh`` do) and as a sweep on a local Ray with
   2 CPUs. Prints both wall times and the ratio (target >= 1.8x on 2 cores).
2. Per-job costs in core-seconds: an estimate (measured in step 1, per video at the default
   configuration), a training at the shipped settings and a 1000-start benchmark (from the
   shipped runs' own records: ``models/*/policy.json``, ``results/*/*/summary.json``), and a
   training at the paper's schedule (8.4 M environment steps, METHOD 9, at the env-step rate
   those runs measured). Prints the planning table for the paper's study on N-node clusters.

    flock /work/notes/heavy.lock .venv/bin/python benchmarks/sweep_speed.py [--estimates 4]
        [--iterations 0] [--trainings 2] [--starts 200] [--cpus-per-node 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: the paper's study (METHOD 9 / the paper): 9 actions x 6 videos
PAPER_VIDEOS = 54
#: single-video policies: every video, with states of Real2Sim setups A and C
PAPER_SINGLE = 108
#: multi-video policies: 9 actions x (setup A, setup C, the max-reward baseline)
PAPER_MULTI = 27
#: benchmarks per policy: easy and hard, 1000 start states each
BENCH_PER_POLICY = 2
#: environment steps of one policy at the paper's schedule (METHOD 9)
PAPER_ENV_STEPS = 8.4e6


def _grid(n_est: int, iterations: int, n_train: int, starts: int) -> str:
    est = textwrap.dedent(f"""
        estimate:
          - actions: [push_left_to_right, pull_left_to_right, put_behind, pick_up]
            limit: {max(1, math.ceil(n_est / 4))}
            iterations: {iterations}
        """) if n_est else ""
    train = textwrap.dedent(f"""
        train:
          - actions: [push_left_to_right]
            demos: models/demos/{{action}}
            seeds: {list(range(n_train))}
            updates: 2
            episodes_per_update: 4
            epochs: 2
            envs: 1
            init: none
        """) if n_train else ""
    bench = textwrap.dedent(f"""
        benchmark:
          - action: push_left_to_right
            policies: [scripted]
            specs: [easy, hard]
            limit: {starts}
        """) if starts else ""
    head = textwrap.dedent("""
        sweep:
          max_retries: 1
          resources:
            estimate: {cpus: 1, memory_gb: 2}
            train: {cpus: 1, memory_gb: 3}
            benchmark: {cpus: 1, memory_gb: 2}
        """)
    return head + est + train + bench


def _recorded_costs() -> dict:
    """Core-seconds per training (shipped settings) and per 1000-start benchmark, and the
    env-step rate, from the shipped runs' own records."""
    train_cs, rates = [], []
    for f in glob.glob(str(REPO / "models" / "*" / "policy.json")) + \
            glob.glob(str(REPO / "models" / "*" / "max" / "policy.json")):
        d = json.loads(Path(f).read_text())
        envs = (d.get("config") or {}).get("envs", 1)
        if d.get("wall_s"):
            train_cs.append(d["wall_s"] * envs)
        if d.get("env_steps") and d.get("wall_s"):
            rates.append(d["env_steps"] / (d["wall_s"] * envs))  # env steps per core-second
    bench_cs = []
    for f in glob.glob(str(REPO / "results" / "*" / "*" / "summary.json")):
        d = json.loads(Path(f).read_text())
        t = d.get("timing", {})
        if d.get("num_starts") and t.get("wall_s"):
            bench_cs.append(t["wall_s"] * t.get("workers", 1) * 1000.0 / d["num_starts"])
    return {"train_shipped_core_s": statistics.median(train_cs) if train_cs else None,
            "env_steps_per_core_s": statistics.median(rates) if rates else None,
            "benchmark_1000_core_s": statistics.median(bench_cs) if bench_cs else None,
            "n_train_records": len(train_cs), "n_bench_records": len(bench_cs)}


def _fmt_h(seconds: float) -> str:
    h = seconds / 3600.0
    return f"{h:.1f} h" if h >= 1 else f"{seconds / 60:.0f} min"


def planning_table(est_core_s: float, rec: dict, cpus_per_node: int,
                   nodes=(1, 4, 16, 64)) -> str:
    """Markdown table: core-hours and wall time on N-node clusters for the paper's study."""
    paper_train_core_s = PAPER_ENV_STEPS / rec["env_steps_per_core_s"]
    policies = PAPER_SINGLE + PAPER_MULTI
    rows = [
        (f"estimate the Something-Something subset ({PAPER_VIDEOS} videos, 400 iterations)",
         PAPER_VIDEOS, est_core_s, 1),
        (f"train {policies} policies ({PAPER_SINGLE} single-video + {PAPER_MULTI} multi-video), "
         "shipped settings (warm start + short PPO, models/README.md)", policies,
         rec["train_shipped_core_s"], 2),
        (f"train {policies} policies, the paper's schedule (8.4 M env steps each)", policies,
         paper_train_core_s, 2),
        (f"benchmark {policies} policies x easy + hard (1000 starts each)",
         policies * BENCH_PER_POLICY, rec["benchmark_1000_core_s"], 1),
    ]
    head = ("| job set | jobs | core-s per job | core-hours | "
            + " | ".join(f"wall, {n} node{'s' if n > 1 else ''} x {cpus_per_node} cores"
                         for n in nodes) + " |")
    lines = [head, "|" + "---|" * (4 + len(nodes))]
    for name, n, cs, cpus in rows:
        total = n * cs
        walls = []
        for nn in nodes:
            slots = max(1, (nn * cpus_per_node) // cpus)  # jobs running at once
            waves = math.ceil(n / slots)
            walls.append(_fmt_h(waves * cs / cpus))
        lines.append(f"| {name} | {n} | {cs:,.0f} | {total / 3600:,.1f} | "
                     + " | ".join(walls) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--estimates", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=0, help="0: the configured 400")
    ap.add_argument("--trainings", type=int, default=2)
    ap.add_argument("--starts", type=int, default=200, help="start states per benchmark")
    ap.add_argument("--cpus-per-node", type=int, default=2, help="for the planning table")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args(argv)

    from real2sim_core.sweep.grid import expand, load_grid
    from real2sim_core.sweep.runner import run_sequential, run_sweep

    os.chdir(REPO)
    work = Path(tempfile.mkdtemp(prefix="r2s_sweep_speed_"))
    try:
        g = work / "grid.yaml"
        g.write_text(_grid(args.estimates, args.iterations, args.trainings, args.starts))
        seq_jobs = expand(load_grid(g), work / "seq")
        ray_jobs = expand(load_grid(g), work / "ray")
        load0 = os.getloadavg()[0]
        seq = run_sequential(seq_jobs, work / "seq", progress=False)
        par = run_sweep(ray_jobs, work / "ray", num_cpus=2, progress=False)
        load1 = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = seq["failed"] + par["failed"]
    if bad:
        print("jobs failed: " + "; ".join(f"{f['id']}: {f['reason']}" for f in bad),
              file=sys.stderr)
        return 1
    kinds = {}
    for r in seq["jobs"]:
        kinds.setdefault(r["kind"], []).append(r["wall_s"])
    speedup = seq["wall_s"] / par["wall_s"]
    print(f"{len(seq_jobs)} jobs: " + ", ".join(
        f"{len(v)} {k} (mean {statistics.mean(v):.1f} s)" for k, v in kinds.items()))
    print(f"sequential loop: {seq['wall_s']:.1f} s; Ray sweep, 2 CPUs (incl. Ray start): "
          f"{par['wall_s']:.1f} s; speed-up {speedup:.2f}x (target >= 1.8x); load average "
          f"{load0:.1f} before, {load1:.1f} after")
    rec = _recorded_costs()
    out = {"jobs": len(seq_jobs), "sequential_s": seq["wall_s"], "ray_s": par["wall_s"],
           "speedup": speedup, "per_kind_mean_s": {k: statistics.mean(v)
                                                   for k, v in kinds.items()},
           "recorded": rec, "loadavg": [load0, load1]}
    if "estimate" in kinds and rec["env_steps_per_core_s"]:
        if args.iterations:
            print("(planning table skipped: it needs the default 400 iterations)")
        else:
            est = statistics.mean(kinds["estimate"])
            print(f"\nper-job costs: estimate {est:.0f} core-s (measured above), training "
                  f"(shipped settings) {rec['train_shipped_core_s']:.0f} core-s and benchmark "
                  f"(1000 starts) {rec['benchmark_1000_core_s']:.0f} core-s (medians of "
                  f"{rec['n_train_records']} / {rec['n_bench_records']} shipped runs), "
                  f"{rec['env_steps_per_core_s']:.0f} env steps per core-s\n")
            table = planning_table(est, rec, args.cpus_per_node)
            print(table)
            out["planning_table"] = table
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
