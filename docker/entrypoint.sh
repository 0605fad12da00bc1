#!/usr/bin/env bash
# Source ROS 2, the underlay of the image (the real-robot image's MoveIt + franka_ros2
# workspace, REAL2SIM_UNDERLAY) and this workspace, then run the command.
set -e
source "/opt/ros/${ROS_DISTRO}/setup.bash"
if [ -n "${REAL2SIM_UNDERLAY:-}" ]; then
  source "${REAL2SIM_UNDERLAY}/setup.bash"
fi
source /opt/real2sim/install/setup.bash
exec "$@"
