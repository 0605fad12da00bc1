"""One execution job's backend choice and output files, shared by ``real2sim execute`` (the CLI)
and ``executor_node``.

The output folder of a job holds:

* :data:`JOINT_TRAJECTORY_CSV`: the timed joint trajectory with its IK errors
  (:func:`write_joint_trajectory_csv`);
* :data:`EXECUTED_CSV`: the executed hand/object trajectory in the aligned frame (sim backend,
  :func:`write_executed_csv`);
* :data:`SUMMARY_JSON`: the plan's checks, the backend's result and the action check
  (:func:`write_summary`);
* :data:`VIDEO`: the sim backend's video.

A server of jobs (``executor_node``) also checks the backend name (:func:`check_backend`), reads
the plan's IK errors (:func:`ik_error_max`), the simulated arm's joints during a run
(:func:`commanded_joints`) and reports the result in one line (:func:`result_message`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from real2sim_core.errors import InputError

from real2sim_core import frames

from . import panda
from .backends import BACKENDS, ROS_BACKENDS, ExecutionResult, make_backend
from .executor import ExecutionPlan

__all__ = [
    "JOINT_TRAJECTORY_CSV",
    "EXECUTED_CSV",
    "SUMMARY_JSON",
    "VIDEO",
    "check_out_dir",
    "check_backend",
    "ik_error_max",
    "commanded_joints",
    "result_message",
    "write_plan_trajectory",
    "backend_options",
    "open_backend",
    "BackendPool",
    "job_summary",
    "write_joint_trajectory_csv",
    "write_executed_csv",
    "write_summary",
    "write_results",
]

JOINT_TRAJECTORY_CSV = "joint_trajectory.csv"
EXECUTED_CSV = "executed_trajectory.csv"
SUMMARY_JSON = "summary.json"
VIDEO = "execution.mp4"


def check_out_dir(value: str) -> Path:
    """The output folder ``value`` ("" = the working directory), created if missing.

    Raises:
        InputError: naming the folder and why it cannot be written.
    """
    out = Path(value or ".").expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"out_dir {str(out)!r} cannot be created ({e.strerror or e}); give a "
                         "writable folder") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"out_dir {str(out)!r} is not a writable folder; give a writable "
                         "folder") from None
    return out


def check_backend(name: str) -> str:
    """``name`` when it names a backend.

    Raises:
        InputError: listing the backends.
    """
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}; backends: {', '.join(sorted(BACKENDS))}")
    return name


def ik_error_max(xplan: ExecutionPlan) -> tuple[float, float]:
    """The largest IK position (m) and orientation (rad) errors over the plan's waypoints."""
    ik = xplan.summary()["ik"]["plan_only"]
    return ik["position_error_max_mm"] / 1e3, float(np.radians(ik["orientation_error_max_deg"]))


def commanded_joints(xplan: ExecutionPlan, progress) -> list[float]:
    """The arm's commanded joint positions at a backend's progress report: the main trajectory
    at ``progress.time`` (its start during the move to the start)."""
    t = progress.time if progress.chunk_name != "move_to_start" else 0.0
    main = xplan.main
    return [float(np.interp(t, main.times, main.positions[:, j])) for j in range(7)]


def result_message(backend: str, result: ExecutionResult) -> str:
    """One line on an execution: the backend's message (named when it failed) and the action
    check's reason."""
    text = result.message if result.ok else f"backend {backend}: {result.message}"
    return text + (f"; action check: {result.check['reason']}" if result.check else "")


def backend_options(name: str, out: Path, node=None) -> dict:
    """The keyword arguments backend ``name`` is created with for a job writing into ``out``.

    The ROS backends (:data:`~panda_executor.backends.ROS_BACKENDS`) are handed the node they
    talk through; ``sim`` renders its video into ``out``.

    Raises:
        InputError: a ROS backend without a node (outside ``executor_node``).
    """
    if name in ROS_BACKENDS:
        if node is None:
            raise InputError(f"backend {name!r} runs inside executor_node, next to the "
                             "robot's controllers (e.g. ros2 launch real2sim_bringup "
                             "sim_demo.launch.py); the CLI executes on the sim backend")
        return {"node": node}
    return {"video_path": Path(out) / VIDEO}


def open_backend(name: str, config, out: Path, node=None):
    """Create backend ``name`` for a job writing into ``out`` (see :func:`backend_options`).

    Raises:
        UnknownNameError: listing the known backends.
        InputError: a ROS backend without a node.
    """
    return make_backend(name, config, **backend_options(name, out, node))


class BackendPool:
    """The backends of a server that runs job after job (``executor_node``): a ROS backend is
    created once per name and kept until :meth:`close` (``moveit`` holds the process's one
    ``MoveItPy``); ``sim`` gets a new pybullet world per job, closed after it.

    Args:
        node: the ROS node the ROS backends talk through.
    """

    def __init__(self, node=None):
        self.node = node
        self._kept: dict[str, object] = {}
        self._lock = threading.Lock()

    @contextmanager
    def use(self, name: str, config, out: Path):
        """``with pool.use(name, config, out) as backend:`` one job on backend ``name`` (the
        kept ones get the job's ``config``).

        Raises:
            UnknownNameError: listing the known backends.
        """
        if name not in ROS_BACKENDS:
            backend = open_backend(name, config, out, self.node)
            try:
                yield backend
            finally:
                backend.close()
            return
        with self._lock:
            backend = self._kept.get(name)
            if backend is None:
                backend = self._kept[name] = open_backend(name, config, out, self.node)
        backend.config = config
        yield backend

    def close(self) -> None:
        """Close the kept backends."""
        with self._lock:
            for backend in self._kept.values():
                backend.close()
            self._kept.clear()


def job_summary(xplan: ExecutionPlan, backend: str, result: ExecutionResult | None = None,
                **extra) -> dict:
    """The content of :data:`SUMMARY_JSON`: ``extra`` first, then the plan's checks
    (:meth:`ExecutionPlan.summary`), the backend name and its result (when there is one)."""
    summary = {**extra, **xplan.summary(), "backend": backend}
    if result is not None:
        summary["execution"] = result.to_dict()
    return summary


def write_summary(out: Path, summary: dict) -> Path:
    """Write ``summary`` as :data:`SUMMARY_JSON` into folder ``out``."""
    path = Path(out) / SUMMARY_JSON
    path.write_text(json.dumps(summary, indent=1, default=str))
    return path


def write_results(out: Path, result: ExecutionResult, summary: dict) -> Path:
    """After an execution: :data:`EXECUTED_CSV` (when the backend recorded the run) and
    :data:`SUMMARY_JSON`; returns the summary's path."""
    if "recording" in result.details:
        write_executed_csv(result.details["recording"], Path(out) / EXECUTED_CSV)
    return write_summary(out, summary)


def write_plan_trajectory(xplan: ExecutionPlan, out: Path) -> Path:
    """:data:`JOINT_TRAJECTORY_CSV` into folder ``out`` (:func:`write_joint_trajectory_csv`).

    Raises:
        InputError: the file cannot be written (why).
    """
    path = Path(out) / JOINT_TRAJECTORY_CSV
    try:
        return write_joint_trajectory_csv(xplan, path)
    except OSError as e:
        raise InputError(f"cannot write {path} ({e.strerror or e})") from None


def write_joint_trajectory_csv(plan: ExecutionPlan, path) -> Path:
    """One row per knot: time (s, arm motion only), chunk, plan waypoint, q/qd/qdd, TCP, errors.

    The move to the start comes first, then the approach, then the plan (``segment`` =
    ``plan`` rows carry their ``plan_waypoint``; ``inserted`` rows were added between plan
    waypoints that were far apart); the gripper's own time is not included in ``time``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = panda.ARM_JOINT_NAMES
    header = (["time", "segment", "plan_waypoint", "gripper_closed"]
              + [f"{n}_pos" for n in names] + [f"{n}_vel" for n in names]
              + [f"{n}_acc" for n in names]
              + ["tcp_x", "tcp_y", "tcp_z", "ik_position_error_mm", "ik_orientation_error_deg"])
    closed = np.zeros(len(plan.main), dtype=bool)
    state = False
    events = dict(plan.gripper_events)
    for k in range(len(plan.main)):
        if k in events:
            state = events[k].closed
        closed[k] = state
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        m = plan.move_to_start
        for k in range(len(m)):
            w.writerow([f"{m.times[k]:.4f}", "move_to_start", "", ""]
                       + [f"{v:.6f}" for v in m.positions[k]]
                       + [f"{v:.6f}" for v in m.velocities[k]]
                       + [f"{v:.6f}" for v in m.accelerations[k]] + ["", "", "", "", ""])
        t0 = m.duration
        mt = plan.main
        for k in range(len(mt)):
            pi = int(plan.plan_index[k])
            seg = {-1: "approach", -2: "inserted"}.get(pi, "plan")
            w.writerow([f"{t0 + mt.times[k]:.4f}", seg, pi if pi >= 0 else "", int(closed[k])]
                       + [f"{v:.6f}" for v in mt.positions[k]]
                       + [f"{v:.6f}" for v in mt.velocities[k]]
                       + [f"{v:.6f}" for v in mt.accelerations[k]]
                       + [f"{v:.5f}" for v in plan.tcp.positions[k]]
                       + [f"{plan.ik.position_errors[k] * 1e3:.4f}",
                          f"{math.degrees(plan.ik.orientation_errors[k]):.4f}"])
    return path


def write_executed_csv(recording: dict, path) -> Path:
    """The executed hand/object trajectory (aligned frame, ``sim.record_hz``) as CSV."""
    al = recording["aligned"]
    t = np.asarray(recording["t"])[recording["main_start"]:]
    az, el = frames.hand_angles_from_gripper_quat(al["hand_quat"])
    n_obj = al["obj_pos"].shape[1]
    header = ["time", "hand_x", "hand_y", "hand_z", "hand_azimuth", "hand_elevation"] + [
        f"obj{i}_{c}" for i in range(n_obj) for c in ("x", "y", "z")]
    path = Path(path)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for k in range(len(t)):
            w.writerow([f"{t[k]:.4f}"] + [f"{v:.5f}" for v in al["hand_pos"][k]]
                       + [f"{az[k]:.5f}", f"{el[k]:.5f}"]
                       + [f"{v:.5f}" for v in al["obj_pos"][k].reshape(-1)])
    return path
