#!/usr/bin/env bash
# Train the shipped policies and benchmark them (the commands behind models/ and results/).
#
#   scripts/train_models.sh [ACTION[:max] ...]      (default: all nine, then the four max baselines)
#
# For each ACTION: `real2sim train` on every estimated demonstration of that action
# (models/demos/<action>/, made by scripts/estimate_demos.sh) into models/<action>/ (proposed,
# mean reward) or models/<action>/max/ (DeepMimic max-reward baseline), then
# `real2sim benchmark` on the easy and hard start states into results/<name>/{easy,hard}/.
# Afterwards `scripts/make_results.py` writes results/README.md.
# Training settings shared by all shipped policies (see models/README.md for why):
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$REPO/.venv/bin/real2sim"
TRAIN_ARGS=(--init track --updates "${UPDATES:-60}" --episodes-per-update "${EPISODES:-30}"
            --epochs "${EPOCHS:-10}" --envs 2 --seed "${SEED:-0}" --quiet)
ALL=(push_left_to_right push_right_to_left pull_left_to_right pull_right_to_left pick_up
     put_behind put_in_front_of put_next_to put_onto
     push_left_to_right:max push_right_to_left:max pull_left_to_right:max pull_right_to_left:max)
JOBS=("$@")
[ ${#JOBS[@]} -gt 0 ] || JOBS=("${ALL[@]}")
for job in "${JOBS[@]}"; do
  action="${job%%:*}"
  reward=mean; out="models/$action"; name="$action"
  if [[ "$job" == *:max ]]; then reward=max; out="models/$action/max"; name="${action}_max"; fi
  cd "$REPO"
  echo "== $name: train ($reward reward)"
  "$BIN" train --action "$action" --states "models/demos/$action" --out "$out" \
    --reward "$reward" "${TRAIN_ARGS[@]}"
  for spec in easy hard; do
    "$BIN" benchmark --action "$action" --policy "$out/policy.zip" --spec "$spec" \
      --out "results/$name/$spec" --quiet
  done
done
