#!/usr/bin/env bash
# Full easy + hard benchmarks (1000 starts each) of the idle and scripted policies, all nine
# actions, one after the other. Heavy (~30 min on 2 cores): never run it next to tests.
# Usage: benchmarks/run_full_benchmarks.sh [OUT_DIR] [WORKERS]
set -euo pipefail
OUT=${1:-results/benchmarks}
WORKERS=${2:-2}
RS=${REAL2SIM:-.venv/bin/real2sim}
ACTIONS="pull_left_to_right pull_right_to_left push_left_to_right push_right_to_left pick_up \
put_behind put_in_front_of put_next_to put_onto"
mkdir -p "$OUT"
for policy in scripted idle; do
  for spec in easy hard; do
    for action in $ACTIONS; do
      d="$OUT/${policy}_${spec}_${action}"
      "$RS" benchmark --action "$action" --policy "$policy" --spec "$spec" \
        --workers "$WORKERS" --out "$d" --quiet > "$d.txt"
      head -1 "$d.txt" | tee -a "$OUT/log.txt"
    done
  done
done
