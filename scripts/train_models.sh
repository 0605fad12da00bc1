#!/usr/bin/env bash
# Train and benchmark the shipped policies: the exact command behind every models/**/policy.zip
# and results/<name>/{easy,hard}/ (`make models` runs them all, one at a time).
#
#   scripts/train_models.sh [--list] [NAME ...]      (default: every NAME of the table below)
#
# Each row of POLICIES is NAME | OUT | the `real2sim train` arguments after --action/--states/
# --out. The command is printed and run literally (no environment variable changes it), and
# `real2sim train` records it with the git commit in OUT/policy.json, so re-running one row at
# that commit reproduces the policy and its benchmark number. A row whose OUT/checkpoints/
# holds a checkpoint is continued with --resume (the trainer refuses a checkpoint written by a
# different command). Then `real2sim benchmark` on the easy and hard start states writes
# results/NAME/{easy,hard}/; `make results` (scripts/make_results.py) regenerates
# results/README.md from them afterwards.
#
# NAME is <action> (warm start + PPO on the mean reward, the proposed method: comparison (b)),
# <action>_warm (the warm start alone, no PPO update: comparison (a)), <action>_random (PPO
# from random initialisation, the paper's setting: (c)), <action>_max and <action>_max_random
# (the max-reward baseline trained like (b) and like (c): (d)), <action>_video<ID> (one
# demonstration, otherwise like (b): (e)). A row whose arguments hold --states trains on those
# files; the others on every demonstration in models/demos/<action>/.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$REPO/.venv/bin/real2sim"
# METHOD section 7 schedule (1000 updates x 70 episodes, 25 epochs), 2 env processes, seed 0
PAPER="--updates 1000 --episodes-per-update 70 --epochs 25 --envs 2 --seed 0"
# the warm start alone: the same settings, no PPO update
WARM="--updates 0 --episodes-per-update 70 --epochs 25 --envs 2 --seed 0"
# the warm-start teacher leaves the gripper as it is outside the action window, where the
# demonstrations show nothing (default: the first frame's touch held; results/NOTES.md)
HOLD="--set train.warm_start.grip_outside_window=hold"
# the simulated fingers open as far as the Franka hand's (0.04 m a side, METHOD: 0.075): what
# the policy learns to do with its fingers, the Panda can do; such fingers cannot straddle the
# objects, so a curriculum start whose hand overlaps the object backs off along the hand's axis
# (at most 0.2 m) instead of being drawn again (results/NOTES.md)
PANDA_HAND="--set env.max_finger_opening=0.04 --set sampler.retreat=0.2"
# two-object rewards: the carried object's target is moved out of the other cylinder (the
# estimates of a placement end closer than two simulated cylinders can stand; results/NOTES.md)
APART="--set reward.resolve_overlap=true"
# the hand-start spread grows from update 250 (METHOD: 500), reaching the benchmark's spread
# with 250 updates to spare (the puts' misses come from starts the METHOD curriculum reaches
# only in its last updates; results/NOTES.md)
EARLY="--set train.curriculum.std_delay=250"
# in the demonstrations' touching frames the fingertip's target is the simulated object's centre
# (METHOD 2's tie; the estimates hold objects at their boxes' surface, 5-15 cm from a pick-up
# box's centre, where a simulated gripper holds nothing; results/NOTES.md)
TIE="--set reward.hand_at_object=true"
# two-object actions: the object the hand does not manipulate is paid for staying where the
# demonstrations leave it at a 1 cm length-scale (b = 10000; METHOD's b = 100 pays 0.0025 per
# step for the 1 cm shove that fails a put; results/NOTES.md)
STILL="--set reward.other_obj_pos.b=10000"
# actions whose label says nothing of left or right also learn from their demonstrations
# flipped left-right: two-object starts are drawn around the demonstrations' first object
# positions, and demonstrations that all begin on one side leave the other side's starts to the
# curriculum's last updates (results/NOTES.md)
MIRROR="--set train.mirror_demos=true"
POLICIES=(
  "push_left_to_right        | models/push_left_to_right     | --reward mean --init track $HOLD $PANDA_HAND $PAPER"
  "push_right_to_left        | models/push_right_to_left     | --reward mean --init track $PAPER"
  "pull_left_to_right        | models/pull_left_to_right     | --reward mean --init track $HOLD $PAPER"
  "pull_right_to_left        | models/pull_right_to_left     | --reward mean --init track $PAPER"
  "pick_up                   | models/pick_up                | --reward mean --init track $HOLD $TIE $EARLY $PAPER"
  "put_behind                | models/put_behind             | --reward mean --init track $EARLY $PAPER"
  "put_in_front_of           | models/put_in_front_of        | --reward mean --init track $MIRROR $PAPER"
  "put_next_to               | models/put_next_to            | --reward mean --init track $APART $EARLY $PAPER"
  "put_onto                  | models/put_onto               | --reward mean --init track $APART $STILL $PAPER"
  "push_left_to_right_max    | models/push_left_to_right/max | --reward max --init track $PAPER"
  "push_right_to_left_max    | models/push_right_to_left/max | --reward max --init track $PAPER"
  "pull_left_to_right_max    | models/pull_left_to_right/max | --reward max --init track $PAPER"
  "pull_right_to_left_max    | models/pull_right_to_left/max | --reward max --init track $PAPER"
  "push_left_to_right_warm   | models/push_left_to_right/warm | --reward mean --init track $HOLD $PANDA_HAND $WARM"
  "push_right_to_left_warm   | models/push_right_to_left/warm | --reward mean --init track $WARM"
  "pull_left_to_right_warm   | models/pull_left_to_right/warm | --reward mean --init track $HOLD $WARM"
  "pull_right_to_left_warm   | models/pull_right_to_left/warm | --reward mean --init track $WARM"
  "pick_up_warm              | models/pick_up/warm           | --reward mean --init track $HOLD $TIE $WARM"
  "put_behind_warm           | models/put_behind/warm        | --reward mean --init track $WARM"
  "put_in_front_of_warm      | models/put_in_front_of/warm   | --reward mean --init track $MIRROR $WARM"
  "put_next_to_warm          | models/put_next_to/warm       | --reward mean --init track $WARM"
  "put_onto_warm             | models/put_onto/warm          | --reward mean --init track $WARM"
  "push_left_to_right_random       | models/push_left_to_right/random    | --reward mean --init none $PAPER"
  "push_right_to_left_random       | models/push_right_to_left/random    | --reward mean --init none $PAPER"
  "pull_left_to_right_random       | models/pull_left_to_right/random    | --reward mean --init none $PAPER"
  "pull_right_to_left_random       | models/pull_right_to_left/random    | --reward mean --init none $PAPER"
  "push_left_to_right_max_random   | models/push_left_to_right/max_random | --reward max --init none $PAPER"
  "push_right_to_left_max_random   | models/push_right_to_left/max_random | --reward max --init none $PAPER"
  "pull_left_to_right_max_random   | models/pull_left_to_right/max_random | --reward max --init none $PAPER"
  "pull_right_to_left_max_random   | models/pull_right_to_left/max_random | --reward max --init none $PAPER"
  "push_left_to_right_video3694    | models/push_left_to_right/video3694 | --states models/demos/push_left_to_right/3694.csv --reward single --init track $PAPER"
  "pull_right_to_left_video10116   | models/pull_right_to_left/video10116 | --states models/demos/pull_right_to_left/10116.csv --reward single --init track $PAPER"
)
trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
# the action of a NAME: <action>[_max][_random|_warm|_video<ID>]
action_of() {
  local n="${1%_video*}"; n="${n%_random}"; n="${n%_warm}"; printf '%s' "${n%_max}"
}
LIST=0
if [ "${1:-}" = "--list" ]; then LIST=1; shift; fi
WANT=("$@")
known=()
for row in "${POLICIES[@]}"; do known+=("$(trim "${row%%|*}")"); done
for w in "${WANT[@]+"${WANT[@]}"}"; do
  [[ " ${known[*]} " =~ " $w " ]] || { echo "error: unknown policy '$w'; known: ${known[*]}" >&2; exit 2; }
done
cd "$REPO"
for row in "${POLICIES[@]}"; do
  IFS='|' read -r name out args <<<"$row"
  name="$(trim "$name")"; out="$(trim "$out")"; args="$(trim "$args")"
  if [ ${#WANT[@]} -gt 0 ] && [[ ! " ${WANT[*]} " =~ " $name " ]]; then continue; fi
  action="$(action_of "$name")"
  # shellcheck disable=SC2206  # the arguments are a literal word list
  states=(--states "models/demos/$action")
  [[ " $args " == *" --states "* ]] && states=()
  cmd=(real2sim train --action "$action" "${states[@]+"${states[@]}"}" --out "$out" $args --quiet)
  if [ "$LIST" -eq 1 ]; then echo "${cmd[*]}"; continue; fi
  [ -f "$out/checkpoints/state.json" ] && cmd+=(--resume)
  echo "== $name: ${cmd[*]}"
  "$BIN" "${cmd[@]:1}"
  for spec in easy hard; do
    "$BIN" benchmark --action "$action" --policy "$out/policy.zip" --spec "$spec" \
      --workers 2 --out "results/$name/$spec" --quiet
  done
done
