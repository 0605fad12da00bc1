"""Names and types of the stack's ROS interfaces: one table for nodes, demo, recorder and tests."""

from __future__ import annotations

__all__ = ["ESTIMATE_SERVICE", "ROLLOUT_SERVICE", "TRAIN_ACTION", "EXECUTE_ACTION",
           "RECORDED_TOPICS", "topic_types"]

ESTIMATE_SERVICE = "real2sim/estimate"        # real2sim_interfaces/srv/EstimateTrajectory
ROLLOUT_SERVICE = "real2sim/rollout"          # real2sim_interfaces/srv/RolloutPolicy
TRAIN_ACTION = "real2sim/train"               # real2sim_interfaces/action/TrainPolicy
EXECUTE_ACTION = "real2sim/execute"           # real2sim_interfaces/action/ExecutePlan

STATE_TRAJECTORY_TOPIC = "real2sim/state_trajectory"
ESTIMATE_MARKERS_TOPIC = "real2sim/estimate_markers"
PLAN_TOPIC = "real2sim/plan"
PLAN_PATH_TOPIC = "real2sim/plan_path"
PLAN_MARKERS_TOPIC = "real2sim/plan_markers"
JOINT_STATES_TOPIC = "joint_states"
EXECUTED_TRAJECTORY_TOPIC = "real2sim/executed_trajectory"

# topic -> "package/msg/Type": what every pipeline run records into its bag
RECORDED_TOPICS = {
    "/" + STATE_TRAJECTORY_TOPIC: "real2sim_interfaces/msg/StateTrajectory",
    "/" + ESTIMATE_MARKERS_TOPIC: "visualization_msgs/msg/MarkerArray",
    "/" + PLAN_TOPIC: "real2sim_interfaces/msg/GripperPlan",
    "/" + PLAN_PATH_TOPIC: "nav_msgs/msg/Path",
    "/" + PLAN_MARKERS_TOPIC: "visualization_msgs/msg/MarkerArray",
    "/" + JOINT_STATES_TOPIC: "sensor_msgs/msg/JointState",
    "/" + EXECUTED_TRAJECTORY_TOPIC: "trajectory_msgs/msg/JointTrajectory",
}


def topic_types() -> dict[str, type]:
    """Topic -> message class of :data:`RECORDED_TOPICS` (imports the message packages)."""
    import importlib

    out = {}
    for topic, name in RECORDED_TOPICS.items():
        pkg, kind, cls = name.split("/")
        out[topic] = getattr(importlib.import_module(f"{pkg}.{kind}"), cls)
    return out
