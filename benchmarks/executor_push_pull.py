"""Push/pull plans through IK tracking and the simulated Panda: IK errors and pass rates.

Plans come from the scripted controllers of the simulation (``real2sim rollout --policy scripted
--spec easy --start ROW``) when that command is installed, otherwise from the hand-made plans of
:mod:`panda_executor.handmade`. Each plan is placed at the object pose ``(X, 0, YAW)`` in
``panda_link0`` for every YAW given, with the cylinder of the benchmark row, tracked with IK,
time-parameterised and executed in the pybullet Panda (no video), then judged by METHOD section
8's check.

Reported per action and yaw: plans accepted (refusals are counted with their reason), IK error
(max over accepted plans' waypoints), and the action check's pass rate (over all plans and over
accepted ones); plus "any yaw": a plan counts as executable when one of the yaws is accepted
(the first accepted one is executed), i.e. the object is placed where the robot reaches.

Usage: .venv/bin/python benchmarks/executor_push_pull.py [--rows 10] [--source scripted|handmade]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from panda_executor.handmade import push_pull_plan
from real2sim_core.errors import InputError
from real2sim_core.plan import read_plan_json
from real2sim_core.resources import resource_file

from panda_executor import Executor, ExecutorConfig, make_backend

ACTIONS = ("push_left_to_right", "push_right_to_left", "pull_left_to_right",
           "pull_right_to_left")
REPO = Path(__file__).resolve().parents[1]


def benchmark_rows(spec: str) -> list[dict]:
    f = resource_file("data", "benchmark", f"benchmark_{spec}.csv")
    with f.open() as fh:
        return [{k: float(v) for k, v in r.items() if k} for r in csv.DictReader(fh)]


def rollout_available() -> bool:
    exe = shutil.which("real2sim") or str(Path(sys.executable).with_name("real2sim"))
    try:
        out = subprocess.run([exe, "rollout", "--help"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "--policy" in out.stdout


def scripted_plan(action: str, row: int, spec: str, tmp: Path):
    exe = shutil.which("real2sim") or str(Path(sys.executable).with_name("real2sim"))
    out = tmp / f"{action}_{row}.json"
    r = subprocess.run([exe, "rollout", "--action", action, "--policy", "scripted", "--spec",
                        spec, "--start", str(row), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode not in (0, 1) or not out.is_file():
        raise RuntimeError(f"rollout failed: {r.stderr.strip().splitlines()[-1:]}")
    m = re.search(r"start \d+: (\w+)", r.stdout)
    return read_plan_json(out), (m.group(1) == "success") if m else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10, help="start rows 0..N-1 of the spec")
    ap.add_argument("--spec", default="easy")
    ap.add_argument("--source", choices=("auto", "scripted", "handmade"), default="auto")
    ap.add_argument("--x", type=float, default=0.55, help="object x in panda_link0, m")
    ap.add_argument("--yaws", type=float, nargs="+", default=[90.0, -90.0],
                    help="object yaws to try, deg")
    ap.add_argument("--actions", nargs="+", default=list(ACTIONS))
    ap.add_argument("--radius", type=float, default=None,
                    help="override the cylinder radius in the Panda sim, m (the Franka hand "
                    "opens 0.08 m: the benchmark's 0.04-0.05 m cylinders cannot be grasped)")
    ap.add_argument("--json", default=None, help="write the per-run records here")
    args = ap.parse_args(argv)

    source = args.source
    if source == "auto":
        source = "scripted" if rollout_available() else "handmade"
    rows = benchmark_rows(args.spec)[: args.rows]
    cfg = ExecutorConfig()
    cfg.sim.video = False
    ex = Executor(cfg)
    records = []
    tmp = Path(tempfile.mkdtemp(prefix="exec_bench_"))
    t_start = time.time()
    for action in args.actions:
        for i, row in enumerate(rows):
            h, r = row["o0hei"], (args.radius or row["o0rad"])
            if source == "scripted":
                plan, sim_ok = scripted_plan(action, i, args.spec, tmp)
            else:
                plan, sim_ok = push_pull_plan(action, height=h, radius=r), None
            for yaw in args.yaws:
                rec = {"action": action, "row": i, "yaw_deg": yaw, "height": h, "radius": r,
                       "source": source, "policy_sim_success": sim_ok}
                try:
                    xp = ex.plan_joint_trajectory(plan, (args.x, 0.0, math.radians(yaw)),
                                                  objects=[(h, r)])
                except InputError as e:
                    rec.update(accepted=False, refusal=f"{type(e).__name__}: {e}"[:200])
                    records.append(rec)
                    continue
                s = xp.summary()
                res = make_backend("sim", cfg).execute(xp)
                rec.update(
                    accepted=True,
                    ik_pos_max_mm=s["ik"]["plan_only"]["position_error_max_mm"],
                    ik_rot_max_deg=s["ik"]["plan_only"]["orientation_error_max_deg"],
                    min_limit_margin=s["joint_limit_margins"]["min_rad"],
                    duration=s["timing"]["duration_s"],
                    requested=s["timing"]["duration_requested_s"],
                    executed=res.ok, check=bool(res.check and res.check["success"]),
                    reason=(res.check or {}).get("reason", res.message),
                    tracking=res.details.get("max_joint_tracking_error_rad"))
                records.append(rec)
            print(f"  {action} row {i}: " + ", ".join(
                f"yaw {r['yaw_deg']:+.0f}: " + ("refused" if not r["accepted"] else
                                                ("PASS" if r["check"] else "fail"))
                for r in records if r["action"] == action and r["row"] == i), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nsource: {source} plans, spec {args.spec}, rows 0..{len(rows) - 1}, object at "
          f"x = {args.x} m{'' if args.radius is None else f', radius {args.radius} m'}; "
          f"{time.time() - t_start:.0f} s")
    pol = [r for r in records if r["policy_sim_success"] is not None]
    if pol:
        ok_rows = {(r["action"], r["row"]) for r in pol if r["policy_sim_success"]}
        print(f"the scripted controller succeeded in its own simulation on {len(ok_rows)} of "
              f"{len({(r['action'], r['row']) for r in pol})} (action, row) pairs")
    hdr = (f"{'action':<20} {'yaw':>5} {'accepted':>9} {'IK max mm':>9} {'IK max deg':>10} "
           f"{'pass/all':>9} {'pass/accepted':>13}")
    print(hdr)
    all_acc = []
    for action in args.actions:
        for yaw in [*args.yaws, None]:
            if yaw is None:  # any yaw: first accepted placement per row
                sel = []
                for i in range(len(rows)):
                    acc = [r for r in records if r["action"] == action and r["row"] == i
                           and r["accepted"]]
                    sel.append(acc[0] if acc else {"accepted": False})
                label = "any"
            else:
                sel = [r for r in records if r["action"] == action and r["yaw_deg"] == yaw]
                label = f"{yaw:+.0f}"
            acc = [r for r in sel if r["accepted"]]
            if yaw is None:
                all_acc += acc
            n_pass = sum(r["check"] for r in acc)
            ikp = max((r["ik_pos_max_mm"] for r in acc), default=float("nan"))
            ikr = max((r["ik_rot_max_deg"] for r in acc), default=float("nan"))
            print(f"{action:<20} {label:>5} {len(acc):>4}/{len(sel):<4} {ikp:>9.3f} {ikr:>10.3f} "
                  f"{n_pass:>4}/{len(sel):<4} {n_pass:>6}/{len(acc):<6}")
    if all_acc:
        pe = np.array([r["ik_pos_max_mm"] for r in all_acc])
        oe = np.array([r["ik_rot_max_deg"] for r in all_acc])
        print(f"all accepted plans (any yaw): IK < 1 mm and < 1 deg in "
              f"{np.mean((pe < 1) & (oe < 1)) * 100:.0f} % of plans (max {pe.max():.3f} mm, "
              f"{oe.max():.3f} deg); action check passed in "
              f"{np.mean([r['check'] for r in all_acc]) * 100:.0f} % of them")
    refusals = {}
    for r in records:
        if not r["accepted"]:
            key = r["refusal"].split(":")[0] + ": " + r["refusal"].split(":")[1][:40]
            refusals[key] = refusals.get(key, 0) + 1
    if refusals:
        print("refusals:", json.dumps(refusals, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
