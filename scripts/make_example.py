"""Make the bundled example: the real Something-Something demonstrations of one action.

    python scripts/make_example.py push_left_to_right

copies that action's videos from data/something_else (annotations.json, videos.csv)
and the first start states of data/benchmark/benchmark_easy.csv (start_states.csv)
into examples/<action>/ so the demo runs from the repository alone.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(action: str, source: Path = REPO / "data" / "something_else",
         n_starts: int = 10) -> None:
    with open(source / "videos.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["action"] == action]
    if not rows:
        sys.exit(f"no videos of action {action!r} in {source / 'videos.csv'}")
    ann = json.loads((source / "annotations.json").read_text())
    out = REPO / "examples" / action
    out.mkdir(parents=True, exist_ok=True)
    ids = [r["video_id"] for r in rows]
    (out / "annotations.json").write_text(json.dumps({i: ann[i] for i in ids}))
    with open(out / "videos.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    # start states of the rollout: the first rows of the paper's easy benchmark
    bench = source.parent / "benchmark" / "benchmark_easy.csv"
    lines = bench.read_text().splitlines()
    (out / "start_states.csv").write_text("\n".join(lines[: 1 + n_starts]) + "\n")
    print(f"wrote {out}: {len(ids)} videos ({', '.join(ids)}), {n_starts} start states")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "push_left_to_right")
