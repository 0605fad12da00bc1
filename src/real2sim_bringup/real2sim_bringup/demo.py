"""``real2sim demo``: the whole chain on the bundled example, with real nodes over real DDS.

Starts the perception, policy and executor nodes as separate processes (plain ``rclpy``, no ROS
installation), then drives them from a client node in this process:

1. ``real2sim/estimate`` for every demonstration video of the example (Something-Else boxes);
2. ``real2sim/rollout``: the policy for the action rolled out in simulation -> gripper plan;
3. ``real2sim/execute``: IK + quantized gripper on the simulated Panda, with feedback.

Every topic of :data:`real2sim_core.topics.RECORDED_TOPICS` is recorded into a rosbag2 (MCAP)
and an HTML report is written next to it.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from real2sim_core import InputError, get_action
from real2sim_core.resources import config_dir, resource_dir

__all__ = ["DemoOptions", "run_demo", "register"]

NODE_MODULES = {
    "perception": "real2sim_perception.perception_node",
    "policy": "real2sim_policy.policy_node",
    "executor": "panda_executor.executor_node",
}


@dataclass
class DemoOptions:
    action: str = "push_left_to_right"
    example: Path | None = None  # None = the bundled examples/<action>/
    out: Path = Path("out") / "demo"  # relative to the working directory
    policy: str = ""            # "" = the policy node's default (shipped model, else scripted)
    spec: str = ""              # "" = the example's start_states.csv (else "easy"/"hard"/CSV)
    row: int = 0
    # The aligned frame's +x (the push direction) along the robot's -y: a sideways push in front
    # of the Panda keeps the wrist away from joint limits (pushing straight away from the base
    # at yaw 0 is refused by IK for most easy-benchmark starts).
    object_pose: tuple[float, float, float] = (0.5, 0.0, -1.5708)
    timeout: float = 600.0
    max_videos: int = 0         # 0 = all videos of the example
    # extra "-p name:=value" parameters per node ("perception", "policy", "executor")
    node_params: dict[str, list[str]] | None = None


def _example_videos(example: Path, action: str) -> list[str]:
    table = example / "videos.csv"
    if not (example / "annotations.json").is_file() or not table.is_file():
        raise InputError(f"{example}: not an example folder (needs annotations.json and "
                         "videos.csv; make one with scripts/make_example.py ACTION)")
    with table.open(newline="") as f:
        ids = [r["video_id"] for r in csv.DictReader(f) if r["action"] == action]
    if not ids:
        raise InputError(f"{table}: no videos of action {action!r}")
    return ids


def _node_env(run_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ROS_DOMAIN_ID", str(random.randint(110, 200)))
    env["ROS_HOME"] = str(run_dir / "ros_home")
    env["ROS_LOG_DIR"] = str(run_dir / "ros_home" / "log")
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE",
                   str(config_dir() / "fastdds_fast_discovery.xml"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start_nodes(opts: DemoOptions, run_dir: Path, env) -> dict[str, subprocess.Popen]:
    procs = {}
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    params = {
        "perception": ["-p", f"out_dir:={run_dir / 'estimates'}"],
        "policy": ["-p", f"action:={opts.action}"]
        + (["-p", f"policy:={opts.policy}"] if opts.policy else []),
        "executor": ["-p", f"out_dir:={run_dir / 'execution'}"],
    }
    cfg_files = {"perception": "perception.yaml", "policy": "policy.yaml",
                 "executor": "executor.yaml"}
    for name, extra in (opts.node_params or {}).items():
        if name not in params:
            raise InputError(f"node_params: unknown node {name!r}; nodes: {', '.join(params)}")
        for item in extra:
            params[name] += ["-p", item]
    for name, module in NODE_MODULES.items():
        cmd = [sys.executable, "-m", module, "--ros-args",
               "--params-file", str(config_dir() / cfg_files[name]), *params[name]]
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        procs[name] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return procs


def _stop_nodes(procs) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def run_demo(opts: DemoOptions) -> dict:
    """Run the chain; returns the summary dict (also written to ``<run>/summary.json``)."""
    spec = get_action(opts.action)
    if opts.example is None:
        opts.example = resource_dir("examples") / spec.name
    videos = _example_videos(Path(opts.example), spec.name)
    if opts.max_videos:
        videos = videos[: opts.max_videos]
    run_dir = Path(opts.out) / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    env = _node_env(run_dir)
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_HOME", "ROS_LOG_DIR",
                                           "ROS_AUTOMATIC_DISCOVERY_RANGE",
                                           "FASTDDS_DEFAULT_PROFILES_FILE")})
    from .client import PipelineClient

    t0 = time.monotonic()
    procs = _start_nodes(opts, run_dir, env)
    summary: dict = {"action": spec.name, "videos": videos, "run_dir": str(run_dir),
                     "ros_domain_id": env["ROS_DOMAIN_ID"]}
    try:
        with PipelineClient(run_dir / "bag", procs=procs) as client:
            client.wait_ready(timeout=min(opts.timeout, 120.0))
            summary["estimates"] = []
            for vid in videos:
                res = client.estimate(spec.name, str(Path(opts.example) / "annotations.json"),
                                      vid, str(run_dir / "estimates" / vid),
                                      timeout=opts.timeout)
                summary["estimates"].append(res)
            start_spec = opts.spec or str(Path(opts.example) / "start_states.csv")
            summary["rollout"] = client.rollout(spec.name, start_spec, opts.row,
                                                timeout=opts.timeout)
            if not summary["rollout"]["success"]:
                raise InputError(f"rollout failed: {summary['rollout']['message']}")
            summary["execution"] = client.execute(client.last_plan, opts.object_pose,
                                                  timeout=opts.timeout)
            summary["bag_topics"] = dict(client.bag_counts())
    finally:
        _stop_nodes(procs)
    summary["wall_time_s"] = round(time.monotonic() - t0, 1)
    from .pipeline_report import write_pipeline_report

    summary["report"] = str(write_pipeline_report(run_dir, summary))
    summary["bag"] = str(run_dir / "bag")
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def _node_params(items) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        node, sep, rest = item.partition(":")
        if not sep or ":=" not in rest:
            raise InputError(f"--param {item!r}: expected NODE:NAME:=VALUE, e.g. "
                             "perception:optim.iterations:=100")
        out.setdefault(node, []).append(rest)
    return out


def _run(args) -> int:
    opts = DemoOptions(action=args.action, example=Path(args.example) if args.example else None, out=Path(args.out),
                       policy=args.policy, spec=args.spec, row=args.row,
                       object_pose=tuple(args.object_pose), timeout=args.timeout,
                       max_videos=args.max_videos, node_params=_node_params(args.param))
    s = run_demo(opts)
    ex = s.get("execution", {})
    print(f"\nreal2sim demo: {s['action']} in {s['wall_time_s']} s")
    print(f"  estimates : {sum(e['success'] for e in s['estimates'])}/{len(s['estimates'])} "
          "videos fitted")
    print(f"  rollout   : check {'passed' if s['rollout']['check_passed'] else 'failed'} "
          f"in simulation ({s['rollout']['message']})")
    print(f"  execution : {'ok' if ex.get('success') else 'refused/failed'}, action check "
          f"{'passed' if ex.get('check_passed') else 'failed'} on the simulated Panda; "
          f"max IK error {1000 * ex.get('max_position_error', float('nan')):.2f} mm")
    print(f"  report    : {s['report']}")
    print(f"  bag       : {s['bag']}  ({', '.join(f'{k}: {v}' for k, v in s['bag_topics'].items())})")
    return 0 if ex.get("success") else 1


def register(sub) -> None:
    p = sub.add_parser("demo", help="run estimate -> policy -> rollout -> IK -> simulated Panda "
                       "on the bundled example, with the three nodes over DDS")
    p.add_argument("--action", default=DemoOptions.action)
    p.add_argument("--example", default="",
                   help="folder with annotations.json + videos.csv (scripts/make_example.py; "
                   "default: the bundled examples/<action>/)")
    p.add_argument("--out", default=str(DemoOptions.out), help="runs are written below this")
    p.add_argument("--policy", default="", help="policy for the policy node (default: the "
                   "shipped model for the action, else the scripted reference controller)")
    p.add_argument("--spec", default="", help="start states of the rollout: easy, hard or a "
                   "CSV (default: the example's start_states.csv, rows of the easy benchmark)")
    p.add_argument("--row", type=int, default=0, help="row of the spec to start from")
    p.add_argument("--object-pose", nargs=3, type=float, default=list(DemoOptions.object_pose),
                   metavar=("X", "Y", "YAW"), help="object pose on the table in panda_link0")
    p.add_argument("--timeout", type=float, default=600.0, help="per-request timeout, s")
    p.add_argument("--max-videos", type=int, default=0, help="use only the first N videos")
    p.add_argument("--param", action="append", default=[], metavar="NODE:NAME:=VALUE",
                   help="extra node parameter, e.g. perception:optim.iterations:=100")
    p.set_defaults(func=_run)
