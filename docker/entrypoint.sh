#!/usr/bin/env bash
# Source ROS 2, the Franka workspace and ours, then run the command.
set -e
source "/opt/ros/${ROS_DISTRO:-jazzy}/setup.bash"
source /opt/franka_ws/install/setup.bash
source /opt/real2sim/install/setup.bash
exec "$@"
