#!/usr/bin/env bash
# Bring the project-local environment (.venv) up to date. Idempotent and quick when nothing
# changed: each step is skipped while the hash of its inputs matches the stamp it left.
#   1. .venv with Python 3.11 (python3 -m venv)
#   2. pinned dependencies: torch==2.13.0 (CPU, constraints file), the ROS 2 Kilted wheels
#      from PyPI, pybullet, stable-baselines3, ...; the CMake-path fix for the ROS wheels
#   3. a colcon build of src/real2sim_interfaces merged into .venv (so `import
#      real2sim_interfaces.msg` works from the venv's python with no sourcing)
#   4. the project's Python packages, editable (pip install -e src/<pkg>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REAL2SIM_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

log() { printf '[bootstrap] %s\n' "$*"; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

if [ ! -x "$PY" ]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# -- 2. dependencies -------------------------------------------------------------------------
DEPS_HASH=$(hash_of requirements/*.txt scripts/fix_ros_wheel_cmake.py)
if [ "$(cat "$VENV/.deps.stamp" 2>/dev/null)" != "$DEPS_HASH" ]; then
  log "installing dependencies (torch pinned by requirements/constraints.txt)"
  "$PY" -m pip install -q --upgrade pip setuptools wheel
  "$PY" -m pip install -q -c requirements/constraints.txt \
    -r requirements/base.txt -r requirements/ros.txt -r requirements/dev.txt
  "$PY" scripts/fix_ros_wheel_cmake.py "$VENV"
  echo "$DEPS_HASH" > "$VENV/.deps.stamp"
  rm -f "$VENV/.interfaces.stamp"
fi

# -- 3. interfaces ---------------------------------------------------------------------------
IF_HASH=$(hash_of $(find src/real2sim_interfaces -type f | sort))
if [ "$(cat "$VENV/.interfaces.stamp" 2>/dev/null)" != "$IF_HASH" ]; then
  log "colcon build of real2sim_interfaces into $VENV"
  mkdir -p "$ROOT/build"
  (
    export PATH="$VENV/bin:$PATH" AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
    "$VENV/bin/colcon" --log-base "$ROOT/build/log" build \
      --base-paths src/real2sim_interfaces --build-base "$ROOT/build/colcon" \
      --install-base "$VENV" --merge-install \
      --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF \
      --event-handlers console_stderr- status- > "$ROOT/build/colcon_build.log" 2>&1 \
      || { cat "$ROOT/build/colcon_build.log"; log "colcon build failed (log above)"; exit 1; }
  )
  "$PY" -c "import real2sim_interfaces.msg, real2sim_interfaces.srv, real2sim_interfaces.action"
  echo "$IF_HASH" > "$VENV/.interfaces.stamp"
fi

# -- 4. project packages ---------------------------------------------------------------------
PKGS=(src/real2sim_core src/real2sim_perception src/real2sim_policy src/panda_executor src/real2sim_bringup)
PKG_HASH=$(hash_of $(for p in "${PKGS[@]}"; do echo "$p/setup.py" "$p/setup.cfg" "$p/package.xml"; done))
if [ "$(cat "$VENV/.packages.stamp" 2>/dev/null)" != "$PKG_HASH" ]; then
  log "installing project packages (editable)"
  args=()
  for p in "${PKGS[@]}"; do args+=(-e "$p"); done
  "$PY" -m pip install -q --no-deps --no-build-isolation "${args[@]}"
  echo "$PKG_HASH" > "$VENV/.packages.stamp"
fi
log "environment up to date: $VENV"
