"""Run one sweep job: its ``real2sim`` command in a child process, under its limits.

Runs inside a Ray worker (or in this process for the sequential loop). The child process:

* runs ``python -m real2sim_core.cli ARGV`` with the job's output in ``OUT/<id>/`` and its
  stdout / stderr in ``OUT/<id>/job.log``;
* is killed with its whole process group when it uses more memory than the job declared
  (resident memory of all its processes, polled) or runs past its time limit;
* dies with the worker (``PR_SET_PDEATHSIG``): a lost Ray worker leaves no orphan behind, and
  Ray's retry starts the job again from a clean folder.

A finished job leaves ``OUT/<id>/.sweep_done.json`` (written last, atomically); a re-run skips
such jobs. Each start is counted in ``OUT/<id>/.sweep_attempts``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["DONE_FILE", "LOG_FILE", "ATTEMPTS_FILE", "WORKER_FILE", "is_done", "read_done",
           "run_job", "FLAGGED_RC", "tree_rss"]

DONE_FILE = ".sweep_done.json"
ATTEMPTS_FILE = ".sweep_attempts"
#: the pid of the process (Ray worker) running the job's current attempt
WORKER_FILE = ".sweep_worker"
LOG_FILE = "job.log"
#: ``real2sim estimate`` exit code for a fit flagged as failed (files written)
FLAGGED_RC = 3
_POLL_S = 0.25
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def is_done(out_dir) -> bool:
    return (Path(out_dir) / DONE_FILE).is_file()


def read_done(out_dir) -> dict:
    try:
        return json.loads((Path(out_dir) / DONE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _die_with_parent():  # runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the limits still apply, orphans may not die
        pass


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of process ``pid`` and all its descendants (Linux)."""
    if not os.path.isdir("/proc"):
        return 0
    kids = _children()
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            pass
        todo += kids.get(p, [])
    return total


def _node() -> dict:
    info = {"host": socket.gethostname(), "pid": os.getpid(), "node_id": None}
    try:
        import ray

        if ray.is_initialized():
            ctx = ray.get_runtime_context()
            info["node_id"] = ctx.get_node_id()
            info["node_ip"] = ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - not in a Ray worker
        pass
    return info


def _tail(path: Path, n: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    lines = [ln for ln in lines if not ln.startswith(("Traceback", "File "))]
    return " | ".join(lines[-n:])


def run_job(job: dict, *dep_results: dict) -> dict:
    """Run one job (a :class:`~.grid.Job` as a dict); return its result record.

    ``dep_results`` are the results of the jobs it depends on: if one failed, this job is not
    run. Never raises for a failing job: the record says ``status`` (done, flagged, failed)
    and ``reason``.
    """
    out = Path(job["out_dir"])
    rec = {"id": job["id"], "kind": job["kind"], "command": "real2sim " + " ".join(job["argv"]),
           "out_dir": str(out), **_node()}
    bad = [d for d in dep_results if d.get("status") == "failed"]
    if bad:
        return {**rec, "status": "failed", "reason": "not run: it needs "
                + ", ".join(d["id"] for d in bad) + ", which failed", "rc": None, "wall_s": 0.0}
    if is_done(out):
        return {**read_done(out), "status": "done", "skipped": True}
    root = out.parents[len(Path(job["id"]).parts) - 1]  # OUT
    if not root.is_dir():
        return {**rec, "status": "failed", "rc": None, "wall_s": 0.0,
                "reason": f"the output folder {root} does not exist on node {rec['host']}: it "
                          "must be on a file system that every node of the cluster mounts"}
    attempts = 1
    try:
        attempts += int((out / ATTEMPTS_FILE).read_text())
    except (OSError, ValueError):
        pass
    if out.exists():  # what an earlier, unfinished attempt left
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ATTEMPTS_FILE).write_text(str(attempts))
    (out / WORKER_FILE).write_text(str(os.getpid()))
    env = dict(os.environ)
    threads = str(max(1, int(job["cpus"])))
    env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, PYTHONUNBUFFERED="1")
    log = out / LOG_FILE
    t0 = time.perf_counter()
    peak = 0
    reason = None
    with open(log, "w") as logf:
        logf.write(f"# {rec['command']}\n# host {rec['host']} attempt {attempts}\n")
        logf.flush()
        proc = subprocess.Popen([sys.executable, "-m", "real2sim_core.cli", *job["argv"]],
                                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True, preexec_fn=_die_with_parent)
        try:
            while proc.poll() is None:
                time.sleep(_POLL_S)
                rss = tree_rss(proc.pid)
                peak = max(peak, rss)
                if job["memory_bytes"] and rss > job["memory_bytes"]:
                    reason = (f"exceeded its memory limit: {rss / 2**30:.2f} GiB used, "
                              f"{job['memory_bytes'] / 2**30:.2f} GiB declared (raise "
                              f"sweep.resources.{job['kind']}.memory_gb)")
                elif job["timeout_s"] and time.perf_counter() - t0 > job["timeout_s"]:
                    reason = (f"ran past its time limit of {job['timeout_s'] / 60:.1f} min "
                              f"(raise sweep.resources.{job['kind']}.timeout_min)")
                if reason:
                    _kill_group(proc)
                    break
        finally:
            if proc.poll() is None:
                _kill_group(proc)
    rc = proc.returncode
    wall = time.perf_counter() - t0
    rec.update(rc=rc, wall_s=round(wall, 3), peak_rss_gb=round(peak / 2**30, 3),
               attempt=attempts, log=str(log))
    if reason is None and rc not in (0, FLAGGED_RC):
        if rc is not None and rc < 0:
            reason = f"killed by signal {signal.Signals(-rc).name}"
        else:
            reason = f"exit code {rc}"
        detail = _tail(log)
        if detail:
            reason += f": {detail}"
    if reason is not None:
        return {**rec, "status": "failed", "reason": reason}
    rec["status"] = "flagged" if rc == FLAGGED_RC else "done"
    if rc == FLAGGED_RC:
        rec["reason"] = "the estimate's fit is flagged as failed (see summary.json)"
    tmp = out / (DONE_FILE + ".tmp")
    tmp.write_text(json.dumps(rec, indent=1))
    os.replace(tmp, out / DONE_FILE)
    return rec


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
