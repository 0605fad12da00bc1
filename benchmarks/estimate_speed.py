#!/usr/bin/env python
"""Speed of the state estimator on this machine, and of its renderer vs the dense reference.

1. Seconds per 2-object video at the default configuration (`optim.iterations`), wall and CPU
   time of the process (on a shared machine the CPU time is the comparable figure): a real
   Something-Else video (put behind, id 1044, 44 frames) (bundled in ``data/``),
   else a synthetic 2-object video of the same length. Target: <= 10 s on 1 thread (issue 17).
2. Forward + backward time of the fast convex renderer against the dense per-face, per-pixel
   reference renderer of ``tests/perception/reference_renderer.py``, on the same batch
   (hand cylinder and cuboid, 8 frames at the default render resolution), as a ratio.

    .venv/bin/python benchmarks/estimate_speed.py [--threads 1] [--iterations 400]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _time(fn, repeat):
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def renderer_ratio(cfg, frames=8, repeat=3) -> dict:
    from perception.reference_renderer import reference_render
    from real2sim_perception.camera import Intrinsics, camera_center_torch, camera_rotation_torch
    from real2sim_perception.render import ConvexSilhouetteRenderer
    from real2sim_perception.shapes import (
        cuboid_faces,
        cuboid_vertices,
        cylinder_faces,
        hand_vertices,
    )

    g = torch.Generator().manual_seed(0)
    intr = Intrinsics.from_fov(cfg.camera.fov_y_deg, 240, 427).scaled(cfg.render.height)
    az, el = torch.tensor(0.2), torch.tensor(0.6)
    rot, cen = camera_rotation_torch(az, el), camera_center_torch(torch.tensor(0.6), az, el)
    tip = ((torch.rand(frames, 3, generator=g) - 0.5) * 0.2).requires_grad_(True)
    azi = (torch.rand(frames, generator=g) * 6).requires_grad_(True)
    ele = (torch.rand(frames, generator=g) - 0.5).requires_grad_(True)
    pos = ((torch.rand(frames, 3, generator=g) - 0.5) * 0.2).requires_grad_(True)
    size = (0.05 + 0.1 * torch.rand(frames, 3, generator=g)).requires_grad_(True)
    rv = (torch.rand(frames, 3, generator=g) - 0.5).requires_grad_(True)
    seg = cfg.render.cylinder_segments
    bodies = [(lambda: hand_vertices(tip, azi, ele, 0.04, 0.15, seg), cylinder_faces(seg)),
              (lambda: cuboid_vertices(pos, size, rv), cuboid_faces())]
    sigma = cfg.render.sigma_px * intr.height / 240
    fast = ConvexSilhouetteRenderer()

    def run(render):
        def step():
            loss = 0.0
            for verts, faces in bodies:
                loss = loss + render(verts(), faces, rot, cen, intr, sigma).square().sum()
            loss.backward()
        return step

    t_fast = _time(run(fast.render), repeat * 10)
    t_ref = _time(run(reference_render), repeat)
    return {"frames": frames, "image": [intr.height, intr.width], "fast_s": t_fast,
            "reference_s": t_ref, "speedup": t_ref / t_fast}


def video_speed(cfg) -> dict:
    from real2sim_perception.estimator import estimate

    ann = REPO / "data" / "something_else" / "annotations.json"
    if ann.is_file():
        from real2sim_perception.something_else import from_something_else

        seq = from_something_else(ann, "1044", "put_behind")
        source = "Something-Else video 1044 (put behind)"
    else:
        from real2sim_perception.synthetic import SyntheticConfig, generate

        _, seq = generate("put_behind", 0, SyntheticConfig(num_frames=44))
        source = "synthetic put behind"
    t, c = time.perf_counter(), time.process_time()
    res = estimate(seq, "put_behind", cfg)
    return {"source": source, "frames": seq.num_frames, "iterations": cfg.optim.iterations,
            "seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c,
            "s_per_iteration": res.timing["s_per_iteration"], "fit_ok": res.fit_ok,
            "load_average": os.getloadavg()[0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="estimator and renderer speed")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on the shared 2-core machine 2 threads were"
                   " 4x slower under load)")
    p.add_argument("--iterations", type=int, default=None, help="override optim.iterations")
    p.add_argument("--json", default=None, help="also write the numbers to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from real2sim_perception.config import load_perception_config

    over = {"optim.torch_threads": args.threads}
    if args.iterations:
        over["optim.iterations"] = args.iterations
    cfg = load_perception_config("perception.yaml", over)
    r = renderer_ratio(cfg)
    print(f"renderer fwd+bwd, {r['frames']} frames at {r['image'][0]}x{r['image'][1]} px, "
          f"cylinder + cuboid: convex {1e3 * r['fast_s']:.2f} ms, dense reference "
          f"{1e3 * r['reference_s']:.0f} ms -> {r['speedup']:.0f}x faster")
    v = video_speed(cfg)
    print(f"estimate: {v['source']}, {v['frames']} frames, {v['iterations']} iterations, "
          f"{args.threads} thread(s): {v['seconds']:.1f} s per video "
          f"({1e3 * v['s_per_iteration']:.1f} ms/iteration; target <= 10 s); CPU time of this "
          f"process {v['cpu_seconds']:.1f} s (the figure that holds on a loaded machine; load "
          f"average {v['load_average']:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"renderer": r, "video": v,
                                               "threads": args.threads}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
