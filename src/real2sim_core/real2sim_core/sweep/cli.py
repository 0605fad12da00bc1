"""``real2sim sweep GRID --out OUT``: a grid of estimates, trainings and benchmarks on Ray.

Registered in the ``real2sim.commands`` entry-point group (see ``real2sim_core.cli``).
"""

from __future__ import annotations

import shlex
import sys

__all__ = ["register"]


def register(subparsers) -> None:
    """Add ``real2sim sweep``."""
    p = subparsers.add_parser(
        "sweep", help="run a grid of estimates, trainings and benchmarks as Ray tasks",
        description="Run every job of the grid file GRID (estimates of many videos, trainings "
        "of many (action, demos, reward, seed) combinations, benchmarks of many policies) as "
        "Ray tasks with the CPUs and memory the grid declares: on a local Ray started for the "
        "run, or on a cluster (--address). Results go to OUT/<job id>/; finished jobs are "
        "skipped when the sweep is run again; failed jobs are listed with their reason in "
        "OUT/sweep_summary.json. Exit code 0 when every job finished, 1 when some failed, "
        "2 on a bad grid or address (nothing started).",
    )
    p.add_argument("grid", metavar="GRID", help="grid YAML file (see real2sim_core/sweep/grid.py"
                   " or the README's 'Sweeps on Ray')")
    p.add_argument("--out", required=True, metavar="OUT", help="output tree (on a cluster: a "
                   "folder every node mounts)")
    p.add_argument("--address", default=None, metavar="auto|HOST:PORT",
                   help="join an existing Ray cluster (auto: the one `ray start` runs on this "
                   "machine); default: start a local Ray for this run")
    p.add_argument("--num-cpus", type=int, default=None,
                   help="CPUs of the local Ray (default: all of this machine)")
    p.add_argument("--max-retries", type=int, default=None,
                   help="re-runs of a job whose worker or node was lost (default: the grid's "
                   "sweep.max_retries)")
    p.add_argument("--sequential", action="store_true",
                   help="run the jobs one after another in this process, without Ray")
    p.add_argument("--dry-run", action="store_true",
                   help="check the grid and list the jobs (with their commands); run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _rerun_command(args) -> str:
    parts = ["real2sim", "sweep", args.grid, "--out", args.out]
    if args.address:
        parts += ["--address", args.address]
    if args.sequential:
        parts.append("--sequential")
    return " ".join(shlex.quote(x) for x in parts)


def _run(args) -> int:
    from pathlib import Path

    from ..errors import InputError
    from .execute import is_done
    from .grid import expand, load_grid
    from .runner import SUMMARY_FILE, run_sequential, run_sweep

    if args.num_cpus is not None and args.num_cpus < 1:
        raise InputError(f"--num-cpus must be >= 1, got {args.num_cpus}")
    if args.max_retries is not None and args.max_retries < 0:
        raise InputError(f"--max-retries must be >= 0, got {args.max_retries}")
    grid = load_grid(args.grid)
    jobs = expand(grid, args.out, args.grid)
    retries = grid.sweep.max_retries if args.max_retries is None else args.max_retries
    done = sum(is_done(j.out_dir) for j in jobs)
    kinds = {}
    for j in jobs:
        kinds[j.kind] = kinds.get(j.kind, 0) + 1
    print(f"sweep {args.grid}: {len(jobs)} jobs ("
          + ", ".join(f"{n} {k}" for k, n in kinds.items()) + f"), {done} already finished in "
          f"{args.out}")
    if args.dry_run:
        for j in jobs:
            mark = "done" if is_done(j.out_dir) else "todo"
            print(f"[{mark}] {j.id}: {j.command()}")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep_grid.yaml").write_text(Path(args.grid).read_text())
    rerun = _rerun_command(args)
    if args.sequential:
        summary = run_sequential(jobs, out, progress=not args.quiet, rerun=rerun)
    else:
        summary = run_sweep(jobs, out, address=args.address, num_cpus=args.num_cpus,
                            max_retries=retries, progress=not args.quiet, rerun=rerun)
    for kind, c in summary["counts"].items():
        extra = f", {c['flagged']} flagged" if c["flagged"] else ""
        print(f"{kind}: {c['done']} done, {c['skipped']} already done, {c['failed']} failed"
              f"{extra} (of {c['total']})")
    print(f"{summary['wall_s']:.1f} s on {len(summary['nodes'])} node(s); "
          f"summary: {out / SUMMARY_FILE}")
    if summary["failed"] or summary["not_run"]:
        for f in summary["failed"]:
            print(f"FAILED {f['id']}: {f['reason']}", file=sys.stderr)
            print(f"  log: {f['log']}\n  alone: {f['command']}" if f.get("log")
                  else f"  alone: {f['command']}", file=sys.stderr)
        for jid in summary["not_run"]:
            print(f"NOT RUN {jid}", file=sys.stderr)
        print(f"re-run the failed jobs (finished ones are skipped): {rerun}", file=sys.stderr)
        return 1
    return 0
