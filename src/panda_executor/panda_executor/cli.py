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

from real2sim_core.actions import get_action
from real2sim_core.config import ConfigError, parse_overrides
from real2sim_core.errors import InputError
from real2sim_core.plan import read_plan_json
from real2sim_core.textio import check_writable_dir

from . import job
from .backends import backend_names
from .config import CONFIG_FILE, ExecutorConfig, load_executor_config
from .executor import Executor, ObjectSpec

__all__ = ["register", "run_execute"]


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
    overrides = parse_overrides(args.set, example="ik.damping=0.05")
    if args.backend:
        overrides["backend"] = args.backend
    if args.no_video:
        overrides["sim.video"] = False
    out = check_writable_dir(args.out)  # before anything is computed
    summary = {"plan_file": str(args.plan), "success": False}
    try:
        cfg = load_executor_config(args.config, overrides=overrides or None)
        summary["backend"] = cfg.backend
        job.backend_options(cfg.backend, out)  # refuses the ROS backends (they need the node)
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
        job.write_summary(out, summary)
        raise
    job.write_plan_trajectory(xplan, out)
    summary = job.job_summary(xplan, cfg.backend, plan_file=str(args.plan), success=False)
    try:
        backend = job.open_backend(cfg.backend, cfg, out)
        try:
            res = backend.execute(xplan)
        finally:
            backend.close()
    except Exception as e:  # the run ends here: summary.json still says why
        summary["error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"
        job.write_summary(out, summary)
        raise
    summary["execution"] = res.to_dict()
    summary["success"] = bool(res.ok and (res.check is None or res.check["success"]))
    job.write_results(out, res, summary)
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
    print(f"  wrote {out / job.JOINT_TRAJECTORY_CSV}, {out / job.SUMMARY_JSON}"
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
    p.add_argument("--config", default=CONFIG_FILE,
                   help=f"ROS parameter YAML (section panda_executor), default config/"
                   f"{CONFIG_FILE}")
    p.add_argument("--object-height", nargs="+", type=float, default=None, metavar="H",
                   help="cylinder height(s), m (object 0 [object 1])")
    p.add_argument("--object-radius", nargs="+", type=float, default=None, metavar="R",
                   help="cylinder radius(es), m")
    p.add_argument("--no-video", action="store_true", help="do not render execution.mp4")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. --set ik.damping=0.05 (repeatable)")
    p.set_defaults(func=run_execute)
