#!/usr/bin/env bash
# Estimate every Something-Else video with `real2sim estimate` and collect the state
# trajectories the shipped policies are trained on:
#   models/demos/<action>/<video_id>.csv   (committed; `real2sim train --states` reads them)
# Full estimator outputs (renders, summaries) go to runs/demos/<video_id>/.
#
#   scripts/estimate_demos.sh [DATA_DIR] [ACTION ...]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-$REPO/data/something_else}"
shift || true
ONLY=("$@")
BIN="$REPO/.venv/bin/real2sim"
[ -f "$DATA/videos.csv" ] || { echo "error: $DATA/videos.csv not found; pass the Something-Else folder" >&2; exit 2; }
tail -n +2 "$DATA/videos.csv" | while IFS=, read -r vid action _rest; do
  if [ ${#ONLY[@]} -gt 0 ] && [[ ! " ${ONLY[*]} " =~ " $action " ]]; then continue; fi
  work="$REPO/runs/demos/$vid"
  dest="$REPO/models/demos/$action/$vid.csv"
  if [ -f "$dest" ]; then echo "skip $action/$vid (exists)"; continue; fi
  "$BIN" estimate --annotations "$DATA/annotations.json" --video-id "$vid" --action "$action" \
    --out "$work" --no-progress
  mkdir -p "$(dirname "$dest")"
  cp "$work/states.csv" "$dest"
done
