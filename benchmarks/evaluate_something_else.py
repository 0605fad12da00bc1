#!/usr/bin/env python
"""Estimate every Something-Else video and judge it with the SPEC section 8 checks.

Prints a per-action table next to the paper's (appendix C, table 4), the phase IoU
against ``videos.csv`` (paper 0.81) and writes per-video records and states to ``--out``.

    .venv/bin/python benchmarks/evaluate_something_else.py --out /tmp/se_eval
    .venv/bin/python benchmarks/evaluate_something_else.py --actions pick_up --iterations 200
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from real2sim_perception.config import load_perception_config
from real2sim_perception.evaluation import evaluate_dataset, format_table

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "something_else"),
                   help="folder with annotations.json and videos.csv")
    p.add_argument("--config", default="perception.yaml", help="perception config YAML")
    p.add_argument("--out", default=None, help="write per-video states and records here")
    p.add_argument("--actions", nargs="*", default=None, help="only these actions")
    p.add_argument("--iterations", type=int, default=None, help="override optim.iterations")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {"optim.iterations": args.iterations} if args.iterations else None
    cfg = load_perception_config(args.config, overrides)
    t0 = time.perf_counter()
    recs = evaluate_dataset(args.data, cfg, args.out, args.actions)
    table = format_table(recs)
    secs = [r["seconds"] for r in recs]
    print()
    print(table)
    print(f"\n{len(recs)} videos in {time.perf_counter() - t0:.0f} s "
          f"({sum(secs) / max(len(secs), 1):.1f} s/video at {cfg.optim.iterations} iterations, "
          f"{args.threads} thread(s)); fit flagged as failed: "
          f"{sum(1 for r in recs if not r['fit_ok'])}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "records.json").write_text(json.dumps(recs, indent=1))
        (out / "table.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
