"""Control steps per second of the gripper env (each step = 10 pybullet substeps at 120 Hz).

Usage: .venv/bin/python benchmarks/sim_throughput.py [--steps N] [--action NAME] [--workers K]

Runs full 120-step episodes with uniformly random actions, single process and with K worker
processes (spawn), and prints control steps/s for both. Target: >= 2000 steps/s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import numpy as np


def _run(args: tuple[str, int, int]) -> tuple[int, float]:
    from real2sim_policy.env import GripperEnv

    action, steps, seed = args
    env = GripperEnv(action)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        _, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 7))
        done += 1
        if term or trunc:
            env.reset()
    dt = time.perf_counter() - t0
    env.close()
    return done, dt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=6000, help="control steps per process")
    p.add_argument("--action", default="put_onto", help="action (two objects is the slower)")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    n, dt = _run((a.action, a.steps, 0))
    print(f"single process: {n / dt:8.0f} control steps/s  ({n} steps in {dt:.2f} s, "
          f"{a.action})")
    ctx = mp.get_context("spawn")
    with ctx.Pool(a.workers) as pool:
        pool.map(_run, [(a.action, 10, i) for i in range(a.workers)])  # warm up imports
        t0 = time.perf_counter()
        res = pool.map(_run, [(a.action, a.steps, i) for i in range(a.workers)])
        wall = time.perf_counter() - t0
    total = sum(r[0] for r in res)
    print(f"{a.workers} workers:     {total / wall:8.0f} control steps/s  ({total} steps in "
          f"{wall:.2f} s wall)")


if __name__ == "__main__":
    main()
