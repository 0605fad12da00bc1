#!/usr/bin/env bash
# Rebuild models/demos/ from the Something-Else boxes in the repository (`make demos`).
#
# Every video of data/something_else/videos.csv is estimated with `real2sim estimate`; its
# action-phase trajectory in the aligned frame (states_aligned.csv: the predicted action phase,
# METHOD section 4, with a '# phase: START:STOP' line) becomes
#   models/demos/<action>/<video_id>.csv   (committed; `real2sim train --states` reads them)
# Full estimator outputs (states.csv, renders, summary.json) go to runs/demos/<video_id>/.
# The selected actions' folders are rebuilt from scratch: nothing of an earlier run survives.
# A video without a detectable action phase is left out (and named).
#
#   scripts/estimate_demos.sh [DATA_DIR] [ACTION ...]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-$REPO/data/something_else}"
shift || true
ONLY=("$@")
BIN="$REPO/.venv/bin/real2sim"
[ -f "$DATA/videos.csv" ] || { echo "error: $DATA/videos.csv not found; pass the Something-Else folder" >&2; exit 2; }
[ -x "$BIN" ] || { echo "error: $BIN not found; run 'make setup' first" >&2; exit 2; }
STAGE="$(mktemp -d "$REPO/models/.demos.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
wanted() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " =~ " $1 " ]]; }
flagged=(); skipped=(); seen=()
while IFS=, read -r vid action _rest; do
  wanted "$action" || continue
  [[ " ${seen[*]-} " =~ " $action " ]] || seen+=("$action")
  work="$REPO/runs/demos/$vid"
  rm -rf "$work"
  rc=0
  "$BIN" estimate --annotations "$DATA/annotations.json" --video-id "$vid" --action "$action" \
    --out "$work" --no-progress || rc=$?
  # 0: good fit; 3: the fit is flagged in summary.json (files written, kept, reported below)
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { echo "error: estimating video $vid failed (exit $rc)" >&2; exit "$rc"; }
  [ "$rc" -eq 0 ] || flagged+=("$action/$vid")
  if ! grep -q '^# phase: ' "$work/states_aligned.csv"; then
    skipped+=("$action/$vid"); continue
  fi
  mkdir -p "$STAGE/$action"
  cp "$work/states_aligned.csv" "$STAGE/$action/$vid.csv"
done < <(tail -n +2 "$DATA/videos.csv")
mkdir -p "$REPO/models/demos"
for action in "${seen[@]}"; do
  rm -rf "$REPO/models/demos/$action"
  [ ! -d "$STAGE/$action" ] || mv "$STAGE/$action" "$REPO/models/demos/$action"
done
[ ${#flagged[@]} -eq 0 ] || echo "note: fit flagged (see runs/demos/<id>/summary.json), kept: ${flagged[*]}" >&2
[ ${#skipped[@]} -eq 0 ] || echo "note: no detectable action phase, left out: ${skipped[*]}" >&2
echo "models/demos: $(find "$REPO/models/demos" -name '*.csv' | wc -l) action-phase demonstrations"
