"""Run a sweep's jobs as Ray tasks (or one after another), resumably, and summarise them.

Each job is one Ray task declaring its CPUs and memory; a job that depends on others (a
training on this sweep's estimates, a benchmark of a trained policy) gets their results as
task arguments, so Ray starts it when they are done. Ray re-runs a task whose worker or node
was lost, up to ``max_retries`` times; a job that fails on its own (bad video, exit code,
memory or time limit) is not retried, is recorded with its reason, and the others go on.
Jobs already finished in the output tree are skipped.

Outputs: ``OUT/<job id>/`` per job, ``OUT/sweep_summary.json`` (per-kind counts, every job's
record, the failed jobs with reason and command) and ``OUT/sweep_grid.yaml`` (a copy of the
grid the last run used).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import InputError
from .execute import is_done, read_done, run_job
from .grid import JOB_KINDS, Job

__all__ = ["run_sweep", "run_sequential", "check_fits", "SUMMARY_FILE", "summarise"]

SUMMARY_FILE = "sweep_summary.json"


def check_fits(jobs: list[Job], nodes: list[dict]) -> None:
    """Refuse (before anything starts) a job no single node of the cluster can hold.

    Raises:
        InputError: naming the job kind, what it declares and the largest node.
    """
    if not nodes:
        raise InputError("the Ray cluster has no live node")
    max_cpu = max(n["cpus"] for n in nodes)
    max_mem = max(n["memory"] for n in nodes)
    for kind in JOB_KINDS:
        ks = [j for j in jobs if j.kind == kind]
        if not ks:
            continue
        cpus = max(j.cpus for j in ks)
        mem = max(j.memory_bytes for j in ks)
        if cpus > max_cpu:
            raise InputError(f"{kind} jobs declare {cpus:g} CPUs but the largest Ray node has "
                             f"{max_cpu:g}; lower sweep.resources.{kind}.cpus")
        if mem > max_mem:
            raise InputError(f"{kind} jobs declare {mem / 2**30:.1f} GiB of memory but the "
                             f"largest Ray node offers {max_mem / 2**30:.1f} GiB; lower "
                             f"sweep.resources.{kind}.memory_gb")


def _counts(records: dict[str, dict], jobs: list[Job]) -> dict:
    out = {k: {"total": 0, "done": 0, "skipped": 0, "flagged": 0, "failed": 0}
           for k in JOB_KINDS}
    for j in jobs:
        c = out[j.kind]
        c["total"] += 1
        r = records.get(j.id)
        if r is None:
            continue
        if r.get("skipped"):
            c["skipped"] += 1
        elif r["status"] == "failed":
            c["failed"] += 1
        else:
            c["done"] += 1
            c["flagged"] += r["status"] == "flagged"
    return {k: v for k, v in out.items() if v["total"]}


def _postfix(counts: dict) -> str:
    parts = []
    for k, c in counts.items():
        s = f"{k} {c['done'] + c['skipped']}/{c['total']}"
        if c["failed"]:
            s += f" ({c['failed']} failed)"
        parts.append(s)
    return ", ".join(parts)


def summarise(jobs: list[Job], records: dict[str, dict], out_dir, rerun: str,
              wall_s: float, mode: str) -> dict:
    """The sweep summary (also written to ``OUT/sweep_summary.json``)."""
    failed = [{"id": j.id, "reason": records[j.id].get("reason", "?"),
               "command": j.command(), "log": records[j.id].get("log")}
              for j in jobs if j.id in records and records[j.id]["status"] == "failed"]
    not_run = [j.id for j in jobs if j.id not in records]
    nodes = sorted({r["node_id"] for r in records.values()
                    if r.get("node_id") and not r.get("skipped") and r["status"] != "failed"})
    summary = {
        "mode": mode,
        "wall_s": round(wall_s, 3),
        "counts": _counts(records, jobs),
        "failed": failed,
        "not_run": not_run,
        "nodes": nodes,
        "rerun": rerun if (failed or not_run) else None,
        "jobs": [records.get(j.id, {"id": j.id, "kind": j.kind, "status": "not run"})
                 for j in jobs],
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(out / SUMMARY_FILE)
    return summary


def _bar(total: int, progress: bool, desc: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="job", dynamic_ncols=True)


def _skip_done(jobs: list[Job], records: dict[str, dict]) -> list[Job]:
    todo = []
    for j in jobs:
        if is_done(j.out_dir):
            records[j.id] = {**read_done(j.out_dir), "skipped": True}
        else:
            todo.append(j)
    return todo


def run_sequential(jobs: list[Job], out_dir, *, progress: bool = True,
                   rerun: str = "") -> dict:
    """Run the jobs one after another in this process (the loop a shell script would run)."""
    t0 = time.perf_counter()
    records: dict[str, dict] = {}
    todo = _skip_done(jobs, records)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    bar = _bar(len(jobs), progress, "sweep (sequential)")
    if bar:
        bar.update(len(jobs) - len(todo))
    for j in todo:
        deps = [records[d] for d in j.deps]
        records[j.id] = run_job(asdict(j), *deps)
        if bar:
            bar.set_postfix_str(_postfix(_counts(records, jobs)), refresh=False)
            bar.update(1)
    if bar:
        bar.close()
    return summarise(jobs, records, out_dir, rerun, time.perf_counter() - t0, "sequential")


def _ray_failure(ray, err: Exception, job: Job, records: dict, max_retries: int) -> dict:
    exc = ray.exceptions
    bad_deps = [d for d in job.deps if records.get(d, {}).get("status") == "failed"]
    if bad_deps:
        reason = f"not run: it needs {', '.join(bad_deps)}, which failed"
    elif isinstance(err, getattr(exc, "OutOfMemoryError", ())):
        reason = ("killed by Ray's memory monitor (the node ran out of memory); raise "
                  f"sweep.resources.{job.kind}.memory_gb so fewer such jobs share a node")
    elif isinstance(err, (getattr(exc, "WorkerCrashedError", ()),
                          getattr(exc, "NodeDiedError", ()),
                          getattr(exc, "ActorDiedError", ()),
                          getattr(exc, "LocalRayletDiedError", ()))):
        reason = (f"its Ray worker or node was lost {max_retries + 1} time(s) "
                  f"({type(err).__name__}); sweep.max_retries = {max_retries}")
    elif isinstance(err, getattr(exc, "TaskCancelledError", ())):
        reason = "cancelled"
    else:
        first = str(err).strip().splitlines()
        reason = f"{type(err).__name__}: {first[-1] if first else ''}"
    return {"id": job.id, "kind": job.kind, "status": "failed", "reason": reason,
            "command": job.command(), "out_dir": job.out_dir}


def run_sweep(jobs: list[Job], out_dir, *, address: str | None = None,
              num_cpus: int | None = None, max_retries: int = 2, progress: bool = True,
              rerun: str = "", temp_dir: str | None = None) -> dict:
    """Run ``jobs`` as Ray tasks on a local Ray (``address=None``) or a cluster; see the
    module docstring. Returns the summary.

    Raises:
        InputError: an unreachable address or a job no node can hold (nothing has started).
    """
    from .session import node_capacity, ray_session

    t0 = time.perf_counter()
    records: dict[str, dict] = {}
    todo = _skip_done(jobs, records)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    if not todo:
        return summarise(jobs, records, out_dir, rerun, time.perf_counter() - t0, "ray")
    with ray_session(address, num_cpus, temp_dir) as ray:
        check_fits(todo, node_capacity(ray))
        remote = ray.remote(run_job)
        refs: dict = {}
        by_ref: dict = {}
        for j in todo:  # dependencies come first in the job list
            dep_args = [refs[d] if d in refs else records[d] for d in j.deps]
            ref = remote.options(num_cpus=j.cpus, memory=j.memory_bytes,
                                 max_retries=max_retries, retry_exceptions=False,
                                 name=j.id).remote(asdict(j), *dep_args)
            refs[j.id] = ref
            by_ref[ref] = j
        index = {j.id: i for i, j in enumerate(jobs)}
        bar = _bar(len(jobs), progress, "sweep")
        if bar:
            bar.update(len(jobs) - len(todo))
            bar.set_postfix_str(_postfix(_counts(records, jobs)))
        pending = list(by_ref)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
                for ref in sorted(done, key=lambda r: index[by_ref[r].id]):
                    j = by_ref[ref]
                    try:
                        records[j.id] = ray.get(ref)
                    except Exception as e:  # noqa: BLE001 - a Ray error becomes the job's reason
                        records[j.id] = _ray_failure(ray, e, j, records, max_retries)
                    if bar:
                        bar.set_postfix_str(_postfix(_counts(records, jobs)), refresh=False)
                        bar.update(1)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            if bar:
                bar.close()
            summary = summarise(jobs, records, out_dir, rerun, time.perf_counter() - t0,
                                "ray" if address is None else f"ray {address}")
    return summary
