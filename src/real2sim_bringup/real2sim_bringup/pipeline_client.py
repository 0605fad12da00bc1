"""``pipeline_client``: the demo's client half, for nodes started by a launch file.

The launch files (``sim_demo``, ``gazebo_demo``, ``panda_real``) start the perception, policy
and executor nodes next to the robot stack, then this client, which does what ``real2sim demo``
does once its nodes are up: ``real2sim/estimate`` for every video of the bundled example ->
``real2sim/rollout`` -> the ``real2sim/execute`` action (on the executor's backend), recording
every topic into a rosbag2 (MCAP) and writing ``summary.json`` and ``report.html`` into
``<out>/<time>/``. The console gets one line per stage; a failed stage is named with its reason
and the summary and report are still written. Exit status 0 when the execution succeeded.

    ros2 run real2sim_bringup pipeline_client --action push_left_to_right --out out/launch
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from real2sim_core import InputError, Real2SimError

__all__ = ["run_pipeline", "parse_object_pose", "main"]


def _set_out_dir(client, node_name: str, out: Path, timeout: float = 10.0) -> str:
    """Point the executor's ``out_dir`` at the run folder (its trajectory, video and summary
    then sit next to the bag and the report, as in ``real2sim demo``)."""
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter

    srv = client.node.create_client(SetParameters, f"/{node_name}/set_parameters")
    try:
        if not srv.wait_for_service(timeout_sec=timeout):
            return f"executor outputs stay in its own out_dir (/{node_name}/set_parameters absent)"
        req = SetParameters.Request(parameters=[Parameter("out_dir", value=str(out))
                                                .to_parameter_msg()])
        fut = srv.call_async(req)
        t_end = time.monotonic() + timeout
        while not fut.done() and time.monotonic() < t_end:
            time.sleep(0.02)
        if not fut.done():
            return "executor out_dir: no answer"
        r = fut.result().results[0]
        return f"executor out_dir: {out}" if r.successful else \
            f"executor out_dir refused: {r.reason}"
    finally:
        client.node.destroy_client(srv)


def run_pipeline(client, opts, run_dir: Path, log=print,
                 executor_node: str = "panda_executor") -> dict:
    """Drive already running nodes through ``client`` (a
    :class:`~real2sim_bringup.client.PipelineClient`) with the same stages as ``real2sim demo``
    (:class:`~real2sim_bringup.demo.PipelineRun`); returns the summary dict, also written with
    the report into ``run_dir``. ``opts`` is a :class:`~real2sim_bringup.demo.DemoOptions`.
    """
    from .demo import PipelineRun, example_of

    spec, videos = example_of(opts)
    run = PipelineRun(opts, spec, videos, run_dir, log)

    def set_out_dir(client_):
        log(f"  execute  : {_set_out_dir(client_, executor_node, run_dir / 'execution')}")

    return run.guarded(time.monotonic(), lambda: run.run_stages(client, set_out_dir))


def _parser() -> argparse.ArgumentParser:
    from .demo import DemoOptions

    p = argparse.ArgumentParser(prog="pipeline_client", description=__doc__.split("\n\n")[1])
    p.add_argument("--action", default=DemoOptions.action)
    p.add_argument("--example", default="", help="example folder (default: the bundled one)")
    p.add_argument("--out", default="", help="runs are written below this (default: out/launch "
                   "in the working directory)")
    p.add_argument("--spec", default="")
    p.add_argument("--row", type=int, default=None,
                   help="start state row (default: the first of the first "
                   f"{DemoOptions.search_rows} whose plan passes the action check in simulation)")
    p.add_argument("--object-pose", nargs="+", default=list(DemoOptions.object_pose),
                   metavar="X Y YAW", help="object pose in panda_link0: three numbers or one "
                   "'[x, y, yaw]' (the launch files' form)")
    p.add_argument("--timeout", type=float, default=600.0, help="per-request timeout, s")
    p.add_argument("--max-videos", type=int, default=0)
    return p


def parse_object_pose(items) -> tuple[float, float, float]:
    """``--object-pose`` as the launch files pass it (``"[x, y, yaw]"``) or as three numbers.

    Raises:
        InputError: not three numbers.
    """
    text = " ".join(str(v) for v in items).replace("[", " ").replace("]", " ").replace(",", " ")
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        values = ()
    if len(values) != 3:
        raise InputError(f"--object-pose {' '.join(map(str, items))!r}: expected x y yaw "
                         "(three numbers, or '[x, y, yaw]')")
    return values


def main(argv=None) -> int:
    from rclpy.utilities import remove_ros_args

    from .demo import DemoOptions

    args = _parser().parse_args(remove_ros_args(sys.argv if argv is None else argv)[1:])
    try:
        pose = parse_object_pose(args.object_pose)
    except InputError as e:
        print(f"pipeline_client: error: {e}", file=sys.stderr)
        return 2
    opts = DemoOptions(action=args.action, out=Path(args.out or Path("out") / "launch"),
                       spec=args.spec, row=args.row, object_pose=pose,
                       timeout=args.timeout, max_videos=args.max_videos)
    if args.example:
        opts.example = Path(args.example)
    run_dir = Path(opts.out) / time.strftime("%Y%m%d-%H%M%S")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"pipeline_client: error: cannot create {run_dir} ({e.strerror or e})",
              file=sys.stderr)
        return 2
    from .client import PipelineClient

    try:
        with PipelineClient(run_dir / "bag", node_name="real2sim_pipeline_client") as client:
            s = run_pipeline(client, opts, run_dir,
                             log=lambda m: print(f"pipeline_client: {m}", flush=True))
    except Real2SimError as e:
        print(f"pipeline_client: error: {e}", file=sys.stderr)
        return 2
    print(f"pipeline_client: report {s.get('report', '(not written)')}, "
          f"bag {s.get('bag', '(none)')}", flush=True)
    if s.get("failed_stage"):
        print(f"pipeline_client: the {s['failed_stage']} stage failed: {s['failure']}",
              file=sys.stderr)
    return 0 if not s.get("failed_stage") else 1


if __name__ == "__main__":
    sys.exit(main())
