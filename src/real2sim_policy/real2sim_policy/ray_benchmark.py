"""``real2sim benchmark --ray``: the start states split into slices, one Ray task each.

Every rollout is the one the single-process benchmark runs (same start state, same seed
``seed + index``, its own fresh reset), so the per-rollout results and CSVs are the same; only
the order in which they finish differs, and the summary sorts them back. The slices run on a
local Ray started for the run, or on a cluster joined with ``--address``.
"""

from __future__ import annotations

import time
from pathlib import Path

from real2sim_core.actions import get_action
from real2sim_core.errors import Real2SimError
from real2sim_core.sweep.session import ray_session

from .benchmark import (
    BenchmarkConfig,
    BenchmarkResult,
    StartResult,
    benchmark_starts,
    finish_benchmark,
    run_start_slice,
)
from .env_config import EnvConfig
from .policies import make_policy
from .quiet import quiet_stdout

__all__ = ["run_benchmark_ray", "slices"]

#: slices per CPU of the cluster: small enough to balance uneven rollouts across workers
SLICES_PER_CPU = 2


def slices(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ``(first, stop)`` ranges covering ``0 .. n - 1`` (none empty)."""
    parts = max(1, min(parts, n))
    edges = [round(k * n / parts) for k in range(parts + 1)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _slice_task(action, policy, spec, first, stop, out_dir, limit, config, env_config):
    with quiet_stdout():
        return run_start_slice(action, policy, spec, first, stop, out_dir, limit=limit,
                               config=config, env_config=env_config)


def run_benchmark_ray(action, policy: str, spec, out_dir, *, limit: int | None = None,
                      config: BenchmarkConfig | None = None,
                      env_config: EnvConfig | None = None, address: str | None = None,
                      num_cpus: int | None = None, num_slices: int | None = None,
                      max_retries: int = 2, progress: bool = True) -> BenchmarkResult:
    """:func:`~.benchmark.run_benchmark` with the start states split across Ray workers.

    Args:
        address: ``None`` = a local Ray for this run (``num_cpus`` CPUs), else a cluster
            address (``auto``, ``HOST:PORT``).
        num_slices: Ray tasks (default: two per CPU of the cluster).
        max_retries: re-runs of a slice whose worker was lost.

    Raises:
        InputError / UnknownNameError: bad action, policy, spec or address (nothing started).
    """
    name = get_action(action).name
    cfg = config or BenchmarkConfig()
    _, starts = benchmark_starts(spec, limit)
    make_policy(policy, name)  # a bad policy fails here, before Ray starts
    out = Path(out_dir)
    (out / "rollouts").mkdir(parents=True, exist_ok=True)
    # policy / spec paths as absolute paths: workers may run in another directory
    pol = policy if policy in ("idle", "scripted") else str(Path(policy).resolve())
    spc = spec if str(spec) in ("easy", "hard") else str(Path(spec).resolve())
    t0 = time.perf_counter()
    with ray_session(address, num_cpus) as ray:
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        parts = slices(len(starts), num_slices or SLICES_PER_CPU * cpus)
        task = ray.remote(_slice_task).options(num_cpus=1, max_retries=max_retries)
        refs = [task.remote(name, pol, spc, a, b, str(out.resolve()), limit, cfg, env_config)
                for a, b in parts]
        size = {r: b - a for r, (a, b) in zip(refs, parts)}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(starts), desc=f"{name} [{policy}] on Ray", unit="rollout",
                       dynamic_ncols=True)
        results: list[StartResult] = []
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for r in done:
                try:
                    results += ray.get(r)
                except Exception as e:  # noqa: BLE001 - one line, not a Ray traceback
                    lines = str(e).strip().splitlines()
                    raise Real2SimError(f"a benchmark slice failed on Ray: {type(e).__name__}: "
                                        f"{lines[-1] if lines else ''}") from None
                if bar:
                    bar.update(size[r])
        if bar:
            bar.close()
    wall = time.perf_counter() - t0
    return finish_benchmark(name, policy, spec, out, results, wall, cpus, limit=limit,
                            config=cfg)
