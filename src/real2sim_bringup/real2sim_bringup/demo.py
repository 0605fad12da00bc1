"""``real2sim demo``: the whole chain on the bundled example, with real nodes over real DDS.

Starts the perception, policy and executor nodes as separate processes (plain ``rclpy``, no ROS
installation), then drives them from a client node in this process:

1. ``real2sim/estimate`` for every demonstration video of the example (Something-Else boxes);
2. ``real2sim/rollout``: the policy for the action rolled out in simulation -> gripper plan;
3. ``real2sim/execute``: IK + quantized gripper on the simulated Panda, with feedback.

Every topic of :data:`real2sim_core.topics.RECORDED_TOPICS` is recorded into a rosbag2 (MCAP).
Whatever happens once the run folder exists (a refused request, a node that dies, a timeout,
Ctrl-C), the run ends with ``summary.json`` and ``report.html`` (see
:mod:`real2sim_bringup.pipeline_report`) and one verdict per stage on the console, naming the
failed stage and its reason. ``real2sim report DIR`` rewrites the report of a run folder or of a
``real2sim benchmark --out`` folder.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from real2sim_core.resources import config_dir, resource_dir

from real2sim_core import InputError, get_action

from .launch_common import DEFAULT_ACTION, DEMO_OBJECT_POSE

__all__ = ["DemoOptions", "PipelineRun", "example_of", "example_videos", "run_demo",
           "start_nodes", "stop_nodes", "register"]

NODE_MODULES = {
    "perception": "real2sim_perception.perception_node",
    "policy": "real2sim_policy.policy_node",
    "executor": "panda_executor.executor_node",
}


@dataclass
class DemoOptions:
    action: str = DEFAULT_ACTION
    example: Path | None = None  # None = the bundled examples/<action>/
    out: Path = Path("out") / "demo"  # relative to the working directory
    policy: str = ""            # "" = the policy node's default (shipped model, else scripted)
    spec: str = ""              # "" = the example's start_states.csv (else "easy"/"hard"/CSV)
    row: int | None = None      # None = the first of the spec's first `search_rows` rows whose
    search_rows: int = 10       # plan passes the action check in simulation (all are reported)
    object_pose: tuple[float, float, float] = DEMO_OBJECT_POSE
    timeout: float = 600.0
    max_videos: int = 0         # 0 = all videos of the example
    # extra "-p name:=value" parameters per node ("perception", "policy", "executor")
    node_params: dict[str, list[str]] | None = None


def example_videos(example: Path, action: str) -> list[str]:
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


def start_nodes(opts: DemoOptions, run_dir: Path, env, procs: dict) -> None:
    """Start the three node processes into ``procs`` (filled as they start, so that a failure
    part-way leaves the started ones there to be stopped)."""
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    params = {
        "perception": ["-p", f"out_dir:={run_dir / 'estimates'}"],
        "policy": ["-p", f"action:={opts.action}", "-p", f"out_dir:={run_dir / 'rollout'}"]
        + (["-p", f"policy:={opts.policy}"] if opts.policy else []),
        "executor": ["-p", f"out_dir:={run_dir / 'execution'}"],
    }
    from panda_executor.config import CONFIG_FILE as EXECUTOR_CONFIG
    from real2sim_perception.config import CONFIG_FILE as PERCEPTION_CONFIG

    cfg_files = {"perception": PERCEPTION_CONFIG, "policy": "policy.yaml",
                 "executor": EXECUTOR_CONFIG}
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
        log.close()  # the child holds its own descriptor


def stop_nodes(procs) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def _new_run_dir(out: Path) -> Path:
    """``out/<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``, ... when that exists), created."""
    base = Path(out) / time.strftime("%Y%m%d-%H%M%S")
    for k in range(1, 1000):
        run_dir = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            run_dir.mkdir(parents=True, exist_ok=False)
            return run_dir
        except FileExistsError:
            continue
        except OSError as e:
            raise InputError(f"--out {out}: cannot create a run folder there ({e.strerror}); "
                             "choose a writable folder") from None
    raise InputError(f"--out {out}: too many runs started in the same second")


def _exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _last_log_error(log: Path) -> str:
    """The last error line among the last lines of a node log ("" when there is none)."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errs = [ln for ln in lines[-40:] if any(w in ln.lower() for w in _ERROR_WORDS)]
    line = errs[-1] if errs else ""
    return line if len(line) <= 240 else line[:237] + "..."


_ERROR_WORDS = ("error", "refused", "exception", "fatal", "cannot", "failed")


def _dead_node_reason(run_dir: Path, name: str, proc, when: str) -> str:
    last = _last_log_error(run_dir / "logs" / f"{name}.log")
    return (f"the {name} node {_exit_description(proc.returncode)} {when}"
            + (f": {last}" if last else "") + f" (logs/{name}.log)")


class PipelineRun:
    """The state of one demo run: the summary being filled and the stage in progress."""

    def __init__(self, opts: DemoOptions, spec, videos, run_dir: Path, log):
        self.opts, self.spec, self.videos = opts, spec, videos
        self.run_dir, self.log = run_dir, log
        self.procs: dict[str, subprocess.Popen] = {}
        self.watched: dict[str, subprocess.Popen] = {}
        self.stage = "start"
        self.summary: dict = {"action": spec.name, "videos": videos, "run_dir": str(run_dir),
                              "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                              "errors": {}, "timing_s": {}}

    def begin(self, stage: str, *nodes: str) -> float:
        """Enter ``stage``; only the ``nodes`` it talks to are watched for an early exit."""
        self.stage = stage
        self.watched.clear()
        self.watched.update({n: self.procs[n] for n in nodes if n in self.procs})
        return time.monotonic()

    def end(self, t0: float) -> None:
        self.summary["timing_s"][self.stage] = round(time.monotonic() - t0, 1)

    def node_died(self, name: str, when: str) -> bool:
        """Record the death of node ``name`` as the reason the stage failed."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is None:
            return False
        self.fail(_dead_node_reason(self.run_dir, name, proc, when))
        return True

    def fail(self, reason: str) -> None:
        self.summary["errors"].setdefault(self.stage, reason)
        self.log(f"  {self.stage:<9}: FAILED: {reason}")

    # -- the stages --------------------------------------------------------------------------

    def start(self, client) -> None:
        t0 = self.begin("start", *NODE_MODULES)
        try:
            client.wait_ready(timeout=min(self.opts.timeout, 120.0))
        except TimeoutError as e:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                for n in dead:
                    self.node_died(n, "at start-up")
            else:
                self.fail(str(e))
        self.end(t0)
        if "start" not in self.summary["errors"]:
            self.summary["nodes_ready"] = True
            self.log(f"  start    : 3 nodes up over DDS in {time.monotonic() - t0:.1f} s")

    def estimate(self, client) -> None:
        opts, run_dir = self.opts, self.run_dir
        t0 = self.begin("estimate", "perception")
        ests = self.summary["estimates"] = []
        for vid in self.videos:
            t1 = time.monotonic()
            res = client.estimate(self.spec.name, str(Path(opts.example) / "annotations.json"),
                                  vid, str(run_dir / "estimates" / vid), timeout=opts.timeout)
            est = _read_json(run_dir / "estimates" / vid / "summary.json")
            if res["success"] and "fit_ok" in est:
                res["fit_ok"] = bool(est["fit_ok"])
            ests.append(res)
            if self.node_died("perception", f"while estimating video {vid}"):
                break
            if not res["success"]:
                self.log(f"  estimate : {vid} FAILED: {res['message']}")
            else:
                fit = "fit ok" if res.get("fit_ok", True) else "fit FLAGGED as failed"
                self.log(f"  estimate : {vid}: {res['frames']} frames, {fit} "
                         f"({time.monotonic() - t1:.1f} s)")
        self.end(t0)

    def rollout(self, client) -> None:
        opts = self.opts
        t0 = self.begin("rollout", "policy")
        start_spec = opts.spec or str(Path(opts.example) / "start_states.csv")
        start = self.summary["start_state"] = {
            "spec": Path(start_spec).name if opts.spec == "" else opts.spec, "row": opts.row,
            "failed_rows": []}
        rows = [opts.row] if opts.row is not None else range(max(1, opts.search_rows))
        for row in rows:
            start["row"] = row
            ro = self.summary["rollout"] = client.rollout(self.spec.name, start_spec, row,
                                                           timeout=opts.timeout)
            if self.node_died("policy", "during the rollout"):
                break
            if ro["success"] and not ro["check_passed"] and row != rows[-1]:
                # the skill fails from this start in simulation: the next start state
                start["failed_rows"].append(row)
                self.log(f"  rollout  : row {row}: action check failed in simulation "
                         f"({ro['message'].partition('check failed: ')[2]}); next row")
                continue
            if client.last_plan is not None:
                self._write_plan(client.last_plan)
            verdict = ("passed" if ro["success"] and ro["check_passed"] else
                       "plan made, action check FAILED" if ro["success"] else "FAILED")
            self.log(f"  rollout  : {verdict}: row {row}: {ro['message']}")
            break
        self.end(t0)

    def _write_plan(self, plan_msg) -> None:
        from real2sim_core.plan import write_plan_json
        from real2sim_core.ros_msgs import plan_from_msg

        try:
            write_plan_json(plan_from_msg(plan_msg), self.run_dir / "rollout" / "plan.json")
        except Exception as e:  # noqa: BLE001 - the plan file is for the report only
            self.log(f"  rollout  : plan.json not written ({type(e).__name__}: {e})")

    def execute(self, client) -> None:
        t0 = self.begin("execute", "executor")
        ro = self.summary.get("rollout") or {}
        if not ro.get("success") or client.last_plan is None:
            return  # nothing to execute: the rollout stage says why
        ex = self.summary["execution"] = client.execute(client.last_plan, self.opts.object_pose,
                                                        timeout=self.opts.timeout)
        fb = client.feedback[-1] if client.feedback else None
        when = ("during the execution" + (f" (last feedback: {fb.stage}, "
                                           f"{100 * fb.progress:.0f} %)" if fb else ""))
        if not self.node_died("executor", when):
            if ex.get("success") and ex.get("check_passed"):
                self.log(f"  execute  : passed: action check passed on the simulated Panda, "
                         f"max IK error {1000 * ex['max_position_error']:.2f} mm")
            else:
                self.log(f"  execute  : FAILED: {ex.get('message', '')}")
        self.end(t0)

    def run_stages(self, client, before_execute=None) -> None:
        """start -> estimate -> rollout -> execute through ``client``, recording the bag
        counts; ``before_execute(client)`` (optional) runs just before the execute stage."""
        self.start(client)
        if "start" not in self.summary["errors"]:
            self.estimate(client)
            self.rollout(client)
            if before_execute is not None:
                before_execute(client)
            self.execute(client)
        self.summary["bag_topics"] = dict(client.bag_counts())

    def guarded(self, t0: float, body) -> dict:
        """Run ``body()``; whatever it raises (Ctrl-C included) becomes the current stage's
        failure, and :meth:`finish` always writes ``summary.json`` and the report."""
        try:
            body()
        except KeyboardInterrupt:
            self.fail("interrupted (Ctrl-C)")
            self.summary["interrupted"] = True
        except Exception as e:  # noqa: BLE001 - recorded as the stage's failure; files written
            self.fail(f"{type(e).__name__}: {e}")
        finally:
            self.finish(t0)
        return self.summary

    def finish(self, t0: float) -> None:
        """Record the nodes' state, stop them, write summary.json and report.html."""
        s = self.summary
        nodes = s["nodes"] = {}
        for name, proc in self.procs.items():
            nodes[name] = {"log": f"logs/{name}.log"}
            if proc.poll() is not None:
                nodes[name]["exit_description"] = _exit_description(proc.returncode)
        stop_nodes(self.procs)
        s["wall_time_s"] = round(time.monotonic() - t0, 1)
        if (self.run_dir / "bag").is_dir():
            s["bag"] = str(self.run_dir / "bag")
        from .pipeline_report import judge_stages, write_pipeline_report

        stages = judge_stages(s)
        s["stages"] = [dict(vars(st)) for st in stages]
        failed = [st for st in stages if st.verdict == "failed"]
        s["failed_stage"] = failed[0].name if failed else ""
        s["failure"] = failed[0].detail if failed else ""
        s["summary"] = str(self.run_dir / "summary.json")
        (self.run_dir / "summary.json").write_text(json.dumps(s, indent=1, default=str))
        try:
            s["report"] = str(write_pipeline_report(self.run_dir, s))
        except Exception as e:  # noqa: BLE001 - the summary must still be written
            s["report_error"] = f"{type(e).__name__}: {e}"
        (self.run_dir / "summary.json").write_text(json.dumps(s, indent=1, default=str))


def _read_json(path: Path) -> dict:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def _ground_truth_phases(example: Path, videos) -> dict:
    """``video_id -> {"approach"|"action"|"leave": [start, stop)}`` from the example's
    videos.csv (0-based frames, stop exclusive); empty when it has no phase columns."""
    from real2sim_perception.phase import read_videos_csv

    try:
        rows = read_videos_csv(example / "videos.csv")
    except Exception:  # noqa: BLE001 - ground truth is optional for the report
        return {}
    out = {}
    for r in rows:
        if str(r.get("video_id")) in videos:
            out[str(r["video_id"])] = {k.removeprefix("phase_"): list(r[k]) for k in
                                       ("phase_approach", "phase_action", "phase_leave")
                                       if r.get(k)}
    return out


def example_of(opts: DemoOptions) -> tuple:
    """``(action spec, video ids)`` of the run; fills ``opts.example`` with the bundled
    ``examples/<action>/`` when it is None and keeps ``opts.max_videos`` of the videos."""
    spec = get_action(opts.action)
    if opts.example is None:
        opts.example = resource_dir("examples") / spec.name
    videos = example_videos(Path(opts.example), spec.name)
    if opts.max_videos:
        videos = videos[: opts.max_videos]
    return spec, videos


def run_demo(opts: DemoOptions, log=print) -> dict:
    """Run the chain; returns the summary dict (also written to ``<run>/summary.json``).

    Whatever happens after the run folder is made (a node that dies, a refused request, a
    timeout, Ctrl-C), ``summary.json`` and ``report.html`` are written with one verdict per
    stage (``summary["stages"]``) and the first failed stage and its reason
    (``summary["failed_stage"]``, ``summary["failure"]``); ``log`` gets a line per step.
    Bad options (unknown action, no example folder, unwritable ``out``) raise before that.
    """
    spec, videos = example_of(opts)
    unknown = set(opts.node_params or {}) - set(NODE_MODULES)
    if unknown:
        raise InputError(f"node_params: unknown node(s) {', '.join(sorted(unknown))}; nodes: "
                         f"{', '.join(NODE_MODULES)}")
    run_dir = _new_run_dir(Path(opts.out))
    env = _node_env(run_dir)
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_HOME", "ROS_LOG_DIR",
                                           "ROS_AUTOMATIC_DISCOVERY_RANGE",
                                           "FASTDDS_DEFAULT_PROFILES_FILE")})
    run = PipelineRun(opts, spec, videos, run_dir, log)
    run.summary["ros_domain_id"] = env["ROS_DOMAIN_ID"]
    run.summary["ground_truth_phases"] = _ground_truth_phases(Path(opts.example), videos)
    log(f"real2sim demo: {spec.name} on {len(videos)} video(s) ({', '.join(videos)}); "
        f"writing {run_dir}")

    def body():
        from .client import PipelineClient

        start_nodes(opts, run_dir, env, run.procs)
        run.watched.update(run.procs)
        with PipelineClient(run_dir / "bag", procs=run.watched) as client:
            run.run_stages(client)

    return run.guarded(time.monotonic(), body)


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
    opts = DemoOptions(action=args.action, example=Path(args.example) if args.example else None,
                       out=Path(args.out), policy=args.policy, spec=args.spec, row=args.row,
                       object_pose=tuple(args.object_pose), timeout=args.timeout,
                       max_videos=args.max_videos, node_params=_node_params(args.param))
    s = run_demo(opts)
    print(f"\nreal2sim demo: {s['action']}, {len(s['videos'])} video(s), "
          f"{s['wall_time_s']} s: "
          + (f"FAILED at the {s['failed_stage']} stage" if s["failed_stage"]
             else "all stages passed"))
    for st in s["stages"]:
        secs = f" ({st['seconds']:.1f} s)" if st.get("seconds") is not None else ""
        word = {"passed": "passed", "failed": "FAILED", "skipped": "not run",
                "warning": "warning"}[st["verdict"]]
        print(f"  {st['name']:<9}: {word}{secs}: {st['detail']}")
    if s["failed_stage"]:
        print(f"real2sim demo: the {s['failed_stage']} stage failed: {s['failure']}",
              file=sys.stderr)
    if "report" in s:
        print(f"  report   : {s['report']}")
    else:
        print(f"  report   : NOT written ({s.get('report_error', '?')})", file=sys.stderr)
    print(f"  summary  : {s['summary']}")
    if s.get("bag"):
        topics = ", ".join(f"{k}: {v}" for k, v in s.get("bag_topics", {}).items())
        print(f"  bag      : {s['bag']}" + (f"  ({topics})" if topics else ""))
    if s.get("interrupted"):
        return 130
    return 1 if s["failed_stage"] or "report" not in s else 0


def _report(args) -> int:
    from .pipeline_report import is_benchmark_dir, write_benchmark_report, write_pipeline_report

    d = Path(args.dir)
    try:
        if is_benchmark_dir(d):
            path = write_benchmark_report(d)
        else:
            s = _read_json(d / "summary.json")
            if "action" not in s or not any(k in s for k in ("stages", "estimates", "errors")):
                raise InputError(f"{d}: neither a demo run folder nor a benchmark folder (needs "
                                 "the summary.json of `real2sim demo` or `real2sim benchmark "
                                 "--out`)")
            path = write_pipeline_report(d, s)
    except InputError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise InputError(f"{d / 'summary.json'}: unexpected content ({type(e).__name__}: {e}); "
                         "it is not as `real2sim demo` / `real2sim benchmark` wrote it") from None
    except OSError as e:
        raise InputError(f"{d}: cannot write the report there ({e.strerror})") from None
    print(f"wrote {path}")
    return 0


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
    p.add_argument("--row", type=int, default=None,
                   help="row of the spec to start from (default: the first of its first "
                   f"{DemoOptions.search_rows} rows whose plan passes the action check in "
                   "simulation; the rows that failed are reported)")
    p.add_argument("--object-pose", nargs=3, type=float, default=list(DemoOptions.object_pose),
                   metavar=("X", "Y", "YAW"), help="object pose on the table in panda_link0")
    p.add_argument("--timeout", type=float, default=600.0, help="per-request timeout, s")
    p.add_argument("--max-videos", type=int, default=0, help="use only the first N videos")
    p.add_argument("--param", action="append", default=[], metavar="NODE:NAME:=VALUE",
                   help="extra node parameter, e.g. perception:optim.iterations:=100")
    p.set_defaults(func=_run)
    r = sub.add_parser("report", help="(re)write report.html of a demo run folder or of a "
                       "`real2sim benchmark --out` folder")
    r.add_argument("dir", help="the run folder (out/demo/<time>) or the benchmark folder")
    r.set_defaults(func=_report)
