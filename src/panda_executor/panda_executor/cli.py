"""``real2sim execute``: run a gripper plan on the Panda (simulated or through MoveIt).

Writes ``DIR/joint_trajectory.csv`` (the timed joint trajectory with its IK errors),
``DIR/executed_trajectory.csv`` (sim: the executed hand/object trajectory, aligned frame),
``DIR/summary.json`` (IK errors, joint-limit margins, velocity/acceleration limit usage, gripper
goals, the backend's result and the action check) and, with the ``sim`` backend,
``DIR/execution.mp4``. Refused plans (unreachable, limits, workspace, NaN, finger openings no
plan can hold, collisions of the arm with the table or the object) exit with code 2 and a
message naming the waypoints, before anything moves; ``DIR/summary.json`` then holds
``"refused": <reason>``. A run whose execution or action check fails exits with 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
from real2sim_core.actions import get_action
from real2sim_core.config import ConfigError
from real2sim_core.errors import InputError
from real2sim_core.plan import read_plan_json
from real2sim_core.textio import check_writable_dir

from . import panda
from .backends import backend_names, make_backend
from .config import ExecutorConfig, load_executor_config
from .executor import ExecutionPlan, Executor, ObjectSpec

__all__ = ["register", "run_execute", "write_joint_trajectory_csv", "parse_overrides"]


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
    from real2sim_core import frames

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


def parse_overrides(items) -> dict:
    """``["ik.damping=0.05", "sim.video=false"]`` -> dotted overrides (values parsed as YAML)."""
    import yaml

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected NAME=VALUE (e.g. ik.damping=0.05)")
        k, v = item.split("=", 1)
        out[k.strip()] = yaml.safe_load(v)
    return out


def _objects(args, n_needed: int, cfg: ExecutorConfig) -> list[ObjectSpec]:
    heights = args.object_height or []
    radii = args.object_radius or []
    n = max(len(heights), len(radii), n_needed)
    objs = []
    for i in range(n):
        h = heights[i] if i < len(heights) else cfg.sim.object_height
        r = radii[i] if i < len(radii) else cfg.sim.object_radius
        if not (0.005 <= h <= 0.5 and 0.005 <= r <= 0.3):
            raise ConfigError(f"object {i}: height {h} m / radius {r} m out of range "
                              "([0.005, 0.5] / [0.005, 0.3] m)")
        objs.append(ObjectSpec(h, r))
    return objs


def run_execute(args: argparse.Namespace) -> int:
    """The ``execute`` command; returns the exit code."""
    overrides = parse_overrides(args.set)
    if args.backend:
        overrides["backend"] = args.backend
    if args.no_video:
        overrides["sim.video"] = False
    out = check_writable_dir(args.out)  # before anything is computed
    summary = {"plan_file": str(args.plan), "success": False}
    try:
        cfg = load_executor_config(args.config, overrides=overrides or None)
        summary["backend"] = cfg.backend
        if cfg.backend != "sim":
            raise InputError(f"backend {cfg.backend!r} runs inside executor_node, next to the "
                             "robot's controllers (e.g. ros2 launch real2sim_bringup "
                             "sim_demo.launch.py); the CLI executes on the sim backend")
        plan = read_plan_json(args.plan)
        if args.action:
            plan.action = get_action(args.action).name
        pose = args.object_pose if args.object_pose is not None else cfg.object_pose
        n_obj = get_action(plan.action).num_objects if plan.action else 1
        objects = _objects(args, n_obj, cfg)
        executor = Executor(cfg)
        xplan = executor.plan_joint_trajectory(plan, pose, objects=objects)  # refuses bad input
    except InputError as e:  # the reason goes into summary.json too; nothing has moved
        summary["refused"] = " ".join(str(e).split())
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        raise
    write_joint_trajectory_csv(xplan, out / "joint_trajectory.csv")
    summary = {"plan_file": str(args.plan), "backend": cfg.backend, "success": False,
               **xplan.summary()}
    kwargs = {"video_path": out / "execution.mp4"} if cfg.backend == "sim" else {}
    try:
        backend = make_backend(cfg.backend, cfg, **kwargs)
        try:
            res = backend.execute(xplan)
        finally:
            backend.close()
    except Exception as e:  # the run ends here: summary.json still says why
        summary["error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        raise
    summary["execution"] = res.to_dict()
    if "recording" in res.details:
        write_executed_csv(res.details["recording"], out / "executed_trajectory.csv")
    summary["success"] = bool(res.ok and (res.check is None or res.check["success"]))
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    ik = xplan.summary()["ik"]["plan_only"]
    print(f"real2sim execute: {plan.num_waypoints} waypoints, IK error max "
          f"{ik['position_error_max_mm']:.3f} mm / {ik['orientation_error_max_deg']:.3f} deg, "
          f"min joint-limit margin {xplan.limit_margins()['min_rad']:.3f} rad, duration "
          f"{xplan.duration:.1f} s")
    for w in xplan.warnings:
        print(f"  warning: {w}")
    print(f"  backend {cfg.backend}: {res.status.value} - {res.message}")
    if res.check is not None:
        verdict = "PASS" if res.check["success"] else "FAIL"
        if not res.ok:
            verdict = f"{verdict} on what was executed, but the execution FAILED"
        print(f"  action check ({res.check['action']}): {verdict} - {res.check['reason']}")
    print(f"  wrote {out / 'joint_trajectory.csv'}, {out / 'summary.json'}"
          + (f", {res.details.get('video')}" if res.details.get("video") else ""))
    return 0 if summary["success"] else 1


def register(subparsers) -> None:
    """Add ``real2sim execute``."""
    p = subparsers.add_parser(
        "execute",
        help="run a gripper plan on the simulated Panda (IK tracking, pybullet)",
        description="Place an aligned-frame gripper plan at the object pose, track it with "
        "numerical IK, time it within the Panda's limits, quantize the gripper and execute it "
        "on the pybullet Panda, judged by the action check (the ros2_control and moveit "
        "backends run inside executor_node).",
    )
    p.add_argument("--plan", required=True, help="gripper plan JSON (real2sim rollout --out)")
    p.add_argument("--action", default=None, help="action name (default: the plan's)")
    p.add_argument("--object-pose", nargs=3, type=float, metavar=("X", "Y", "YAW"),
                   default=None, help="object pose in panda_link0: m, m, rad "
                   "(default: object_pose from the config)")
    p.add_argument("--backend", default=None, choices=backend_names(),
                   help="execution backend (default: the config's, 'sim')")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--config", default="executor.yaml",
                   help="ROS parameter YAML (section panda_executor), default config/"
                   "executor.yaml")
    p.add_argument("--object-height", nargs="+", type=float, default=None, metavar="H",
                   help="cylinder height(s), m (object 0 [object 1])")
    p.add_argument("--object-radius", nargs="+", type=float, default=None, metavar="R",
                   help="cylinder radius(es), m")
    p.add_argument("--no-video", action="store_true", help="do not render execution.mp4")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter, e.g. --set ik.damping=0.05 (repeatable)")
    p.set_defaults(func=run_execute)
