"""The paper's benchmark (appendix B): roll a policy out from every start state and judge it.

Outputs in ``DIR``:

* ``rollouts/<row>.csv``: one file per start state, a states CSV plus the gripper ``opening``
  (:func:`~.rollout.rollout_columns`, one row per control time k / 12 s, k = 0..120, aligned
  frame);
* ``summary.json``: success rate with a 95 % Wilson interval, hand / object check rates, the
  per-start results and failure reasons, reason counts, and timing;
* ``marginals.png`` (success / failure histograms over each start-state parameter) and
  ``success_ratio.png`` (success fraction per bin).

Each start's result is a :class:`StartResult` whose :attr:`StartResult.verdict` is a
:class:`Verdict`. Rollouts run in worker processes (``spawn`` context: safe with pybullet and
on every platform); each worker builds its env and policy once and writes its own CSVs.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import check_range
from real2sim_core.errors import InputError
from real2sim_core.resources import resource_file

from .env_config import EnvConfig, StartState
from .policies import env_config_for_policy, make_policy
from .quiet import quiet_env
from .rollout import START_COLUMNS, load_start_states, run_rollout

__all__ = ["BenchmarkConfig", "BenchmarkResult", "StartResult", "Verdict", "run_benchmark",
           "resolve_spec", "wilson_interval", "SPEC_NAMES", "benchmark_starts",
           "run_start_slice", "finish_benchmark"]

SPEC_NAMES = ("easy", "hard")


@dataclass
class BenchmarkConfig:
    """Benchmark run settings.

    Attributes:
        workers: worker processes (1 = run in this process).
        chunksize: start states handed to a worker at a time.
        write_rollouts: write ``rollouts/<row>.csv``.
        plots: write the marginal histograms.
        bins: histogram bins per parameter.
        seed: base seed; start ``i`` resets with ``seed + i`` (table friction).
    """

    workers: int = 1
    chunksize: int = 4
    write_rollouts: bool = True
    plots: bool = True
    bins: int = 20
    seed: int = 0

    def __post_init__(self):
        check_range(self, "workers", 1, 256)
        check_range(self, "chunksize", 1, 10000)
        check_range(self, "bins", 1, 1000)


class Verdict(str, Enum):  # noqa: UP042 - str values: the summary's JSON keys
    """How one rollout of a benchmark ended (the keys of ``summary["failure_counts"]``)."""

    SUCCESS = "success"
    ROLLOUT_ERROR = "rollout error"
    HAND_AND_OBJECT_FAILED = "hand and object checks failed"
    HAND_FAILED = "hand check failed"
    OBJECT_FAILED = "object check failed"


@dataclass
class StartResult:
    """The result of the rollout from one start state.

    Attributes:
        index: 0-based position in the spec. row: the spec's row label.
        success / hand_ok / object_ok: the METHOD section 8 checks. reason: their explanation.
        error: "" or why the rollout ended early. steps: control steps taken.
        seconds: wall time of the rollout. failed_reason: only the checks that failed
        (:attr:`~real2sim_core.metrics.MetricResult.failed_reason`; "" on success).
    """

    index: int
    row: str
    success: bool
    hand_ok: bool
    object_ok: bool
    reason: str
    error: str
    steps: int
    seconds: float
    failed_reason: str = ""

    @property
    def verdict(self) -> Verdict:
        if self.success:
            return Verdict.SUCCESS
        if self.error:
            return Verdict.ROLLOUT_ERROR
        if not self.hand_ok and not self.object_ok:
            return Verdict.HAND_AND_OBJECT_FAILED
        return Verdict.HAND_FAILED if not self.hand_ok else Verdict.OBJECT_FAILED


@dataclass
class BenchmarkResult:
    """Summary of one benchmark run (also written as ``summary.json``) and the per-start
    results."""

    summary: dict
    out_dir: Path
    results: list[StartResult]

    @property
    def success_rate(self) -> float:
        return float(self.summary["success_rate"])


def resolve_spec(spec) -> Path:
    """``easy`` / ``hard`` -> the benchmark CSV of the bundled ``data/benchmark/``; else a CSV
    path.

    The data directory is found by :func:`real2sim_core.resources.data_dir` (the repository's
    ``data/``, the installed share directory, or ``$REAL2SIM_DATA``).

    Raises:
        InputError: an unknown spec name that is not an existing file.
    """
    s = str(spec)
    if s in SPEC_NAMES:
        return resource_file("data", "benchmark", f"benchmark_{s}.csv")
    p = Path(s)
    if not p.is_file():
        raise InputError(f"benchmark spec {s!r} is neither {' nor '.join(SPEC_NAMES)} nor an "
                         "existing CSV file")
    return p


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


# --- workers ---------------------------------------------------------------------------------

_W: dict = {}


def _init_worker(action: str, policy_spec: str, env_config: EnvConfig, out_dir: str | None):
    _W["env"] = quiet_env(action, env_config)
    _W["policy"] = make_policy(policy_spec, action)
    _W["out"] = Path(out_dir) if out_dir else None


def _run_one(job: tuple[int, str, StartState, int]) -> StartResult:
    i, label, start, seed = job
    t0 = time.perf_counter()
    ro = run_rollout(_W["env"], _W["policy"], start, seed=seed)
    res = ro.evaluate()
    if _W["out"] is not None:
        ro.to_csv(_W["out"] / f"{label}.csv")
    return StartResult(i, label, res.success, res.hand_ok, res.object_ok, res.reason, ro.error,
                       ro.steps, time.perf_counter() - t0, res.failed_reason)


# --- the run ---------------------------------------------------------------------------------


def run_benchmark(action, policy: str, spec, out_dir, *, limit: int | None = None,
                  config: BenchmarkConfig | None = None, env_config: EnvConfig | None = None,
                  progress: bool = True) -> BenchmarkResult:
    """Roll ``policy`` out from the start states of ``spec`` and write the outputs to ``out_dir``.

    Args:
        action: action name. policy: ``idle``, ``scripted`` or a policy file.
        spec: ``easy``, ``hard`` or a benchmark CSV path. out_dir: output directory.
        limit: use only the first ``limit`` start states.
        config: run settings. env_config: simulation settings (evaluation mode is forced).
        progress: show a tqdm progress bar.

    Raises:
        InputError / UnknownNameError: bad action, policy or spec (before any rollout starts).
    """
    spec_action = get_action(action)
    cfg = config or BenchmarkConfig()
    env_cfg = _evaluation_config(env_config, policy)
    path, starts = benchmark_starts(spec, limit)
    make_policy(policy, spec_action.name)  # fail fast on a bad policy name/file, in this process
    out = Path(out_dir)
    roll_dir = out / "rollouts"
    roll_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(i, label, st, cfg.seed + i) for i, (label, st) in enumerate(starts)]
    init_args = (spec_action.name, str(policy), env_cfg,
                 str(roll_dir) if cfg.write_rollouts else None)
    results: list[StartResult] = []
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=f"{spec_action.name} [{policy}]", unit="rollout",
                   dynamic_ncols=True)
    workers = min(cfg.workers, max(1, len(jobs)))
    if workers == 1:
        _init_worker(*init_args)
        for job in jobs:
            results.append(_run_one(job))
            if bar:
                bar.update(1)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=init_args) as pool:
            for r in pool.imap_unordered(_run_one, jobs, chunksize=cfg.chunksize):
                results.append(r)
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    wall = time.perf_counter() - t0
    return _finish(spec_action, str(policy), path, starts, out, results, wall, workers, cfg)


def _evaluation_config(env_config: EnvConfig | None, policy) -> EnvConfig:
    """``env_config`` (default settings when None) in evaluation mode, with the world settings
    ``policy`` was trained in (:func:`~real2sim_policy.policies.env_config_for_policy`)."""
    env_cfg = env_config_for_policy(policy, env_config or EnvConfig())
    if env_cfg.training:
        env_cfg = EnvConfig(**{**env_cfg.__dict__, "training": False})
    return env_cfg


def _finish(spec_action, policy: str, path, starts, out: Path, results: list[StartResult],
            wall: float, workers: int, cfg: BenchmarkConfig) -> BenchmarkResult:
    """Write ``summary.json`` (and the plots) of the per-start ``results``."""
    results = sorted(results, key=lambda r: r.index)
    summary = _summarise(spec_action.name, policy, path, results, wall, workers)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    if cfg.plots and results:
        _plot_marginals(out, starts, results, spec_action.num_objects, cfg.bins, summary)
    return BenchmarkResult(summary, out, results)


def _summarise(action, policy, path, results: list[StartResult], wall, workers) -> dict:
    n = len(results)
    succ = sum(r.success for r in results)
    lo, hi = wilson_interval(succ, n)
    counts: dict[str, int] = {}
    for r in results:
        if r.verdict is not Verdict.SUCCESS:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    steps = sum(r.steps for r in results)
    return {
        "action": action,
        "policy": policy,
        "spec": str(path),
        "num_starts": n,
        "successes": succ,
        "success_rate": succ / n if n else 0.0,
        "success_ci95": [lo, hi],
        "ci_method": "wilson",
        "hand_ok_rate": sum(r.hand_ok for r in results) / n if n else 0.0,
        "object_ok_rate": sum(r.object_ok for r in results) / n if n else 0.0,
        "rollout_errors": sum(bool(r.error) for r in results),
        "failure_counts": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "timing": {"wall_s": wall, "workers": workers, "control_steps": steps,
                   "control_steps_per_s": steps / wall if wall > 0 else 0.0,
                   "mean_rollout_s": float(np.mean([r.seconds for r in results]))
                   if results else 0.0},
        "results": [{k: v for k, v in asdict(r).items()
                     if k in ("row", "success", "hand_ok", "object_ok", "reason", "error",
                              "failed_reason")}
                    for r in results],
    }


def _plot_marginals(out: Path, starts, results, num_objects, bins, summary) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in START_COLUMNS if c not in ("o0posx", "o0posy")]
    if num_objects == 1:
        cols = [c for c in cols if not c.startswith("o1")]
    values = {
        "hazi": [s.hand_azi for _, s in starts], "hele": [s.hand_ele for _, s in starts],
        "hposx": [s.hand_pos[0] for _, s in starts], "hposy": [s.hand_pos[1] for _, s in starts],
        "hposz": [s.hand_pos[2] for _, s in starts], "o0posz": [s.obj0_pos[2] for _, s in starts],
        "o0hei": [s.obj0_height for _, s in starts], "o0rad": [s.obj0_radius for _, s in starts],
        "o1hei": [s.obj1_height for _, s in starts], "o1rad": [s.obj1_radius for _, s in starts],
    }
    ok = np.array([r.success for r in results], dtype=bool)
    n_rows = math.ceil(len(cols) / 2)
    title = (f"{summary['action']} [{summary['policy']}] on {Path(summary['spec']).name}: "
             f"success {100 * summary['success_rate']:.1f} % (n = {summary['num_starts']})")
    fig, axes = plt.subplots(n_rows, 2, figsize=(11, 2.2 * n_rows), squeeze=False)
    fig_r, axes_r = plt.subplots(n_rows, 2, figsize=(11, 2.2 * n_rows), squeeze=False)
    for ax, ax_r, col in zip(axes.ravel(), axes_r.ravel(), cols):
        v = np.asarray(values[col], dtype=float)[: len(ok)]
        edges = np.histogram_bin_edges(v, bins=bins)
        n_ok, _ = np.histogram(v[ok], bins=edges)
        n_bad, _ = np.histogram(v[~ok], bins=edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        width = 0.85 * (edges[1] - edges[0]) if len(edges) > 1 else 1.0
        ax.bar(centres, n_ok, width=width, color="tab:green", alpha=0.6, label="success")
        ax.bar(centres, n_bad, width=width, bottom=n_ok, color="tab:red", alpha=0.6,
               label="failure")
        ax.set_ylabel(col)
        tot = n_ok + n_bad
        ratio = np.divide(n_ok, tot, out=np.zeros(len(tot)), where=tot > 0)
        ax_r.bar(centres, ratio, width=width, color="tab:blue", alpha=0.6)
        ax_r.set_ylim(0, 1)
        ax_r.set_ylabel(col)
    for ax in list(axes.ravel()[len(cols):]) + list(axes_r.ravel()[len(cols):]):
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title + " - counts", fontsize=10)
    fig_r.suptitle(title + " - success fraction per bin", fontsize=10)
    fig.tight_layout()
    fig_r.tight_layout()
    fig.savefig(out / "marginals.png", dpi=80)
    fig_r.savefig(out / "success_ratio.png", dpi=80)
    plt.close(fig)
    plt.close(fig_r)


# --- a benchmark in slices (e.g. one per Ray task), merged afterwards --------------------------


def benchmark_starts(spec, limit: int | None = None):
    """``(path, [(label, StartState), ...])`` of ``spec``, the first ``limit`` of them."""
    path = resolve_spec(spec)
    starts = load_start_states(path)
    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit must be >= 1, got {limit}")
        starts = starts[:limit]
    return path, starts


def run_start_slice(action, policy: str, spec, first: int, stop: int, out_dir, *,
                    limit: int | None = None, config: BenchmarkConfig | None = None,
                    env_config: EnvConfig | None = None) -> list[StartResult]:
    """Roll ``policy`` out from start states ``first .. stop - 1`` of ``spec`` (the rows
    :func:`run_benchmark` numbers the same way, with the same seeds) and write their rollout
    CSVs to ``out_dir/rollouts``; returns their per-start records for
    :func:`finish_benchmark`."""
    name = get_action(action).name
    cfg = config or BenchmarkConfig()
    env_cfg = _evaluation_config(env_config, policy)
    _, starts = benchmark_starts(spec, limit)
    roll_dir = Path(out_dir) / "rollouts"
    roll_dir.mkdir(parents=True, exist_ok=True)
    old = _W.get("env")
    if old is not None:  # a reused worker process (e.g. Ray's): one env at a time
        old.close()
    _init_worker(name, str(policy), env_cfg, str(roll_dir) if cfg.write_rollouts else None)
    return [_run_one((i, starts[i][0], starts[i][1], cfg.seed + i))
            for i in range(first, min(stop, len(starts)))]


def finish_benchmark(action, policy: str, spec, out_dir, results: list[StartResult], wall_s: float,
                     workers: int, *, limit: int | None = None,
                     config: BenchmarkConfig | None = None) -> BenchmarkResult:
    """Write ``summary.json`` (and the plots) of a benchmark run in slices, as
    :func:`run_benchmark` writes them for the same per-start records."""
    path, starts = benchmark_starts(spec, limit)
    return _finish(get_action(action), str(policy), path, starts, Path(out_dir), results, wall_s,
                   workers, config or BenchmarkConfig())
