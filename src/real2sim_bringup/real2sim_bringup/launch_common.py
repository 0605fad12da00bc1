"""What the launch files in ``launch/`` share: their common arguments and the Real2Sim nodes.

``sim_demo``, ``gazebo_demo`` and ``panda_real`` start the same perception and policy nodes, the
same pipeline client and RViz, with the same arguments; each file adds its robot and its
executor node. ``launch`` and ``launch_ros`` are imported inside the functions, so the defaults
here (also used by ``real2sim demo``) import without a ROS installation.
"""

from __future__ import annotations

__all__ = [
    "BRINGUP",
    "DEFAULT_ACTION",
    "DEMO_OBJECT_POSE",
    "DEFAULT_LAUNCH_OUT",
    "config_file",
    "common_arguments",
    "real2sim_nodes",
    "executor_out_dir",
    "pipeline_client",
    "rviz",
]

BRINGUP = "real2sim_bringup"
DEFAULT_ACTION = "push_left_to_right"
#: The aligned frame's pose in ``panda_link0`` for the demos (x, y m, yaw rad): its +x (the push
#: direction) along the robot's -y; a sideways push in front of the Panda keeps the wrist away
#: from joint limits (pushing straight away from the base at yaw 0 is refused by IK for most
#: easy-benchmark starts).
DEMO_OBJECT_POSE = (0.5, 0.0, -1.5708)
DEFAULT_LAUNCH_OUT = "out/launch"


def config_file(name: str):
    """``<share of real2sim_bringup>/config/<name>`` (setup.py installs ``config/`` there)."""
    from launch.substitutions import PathJoinSubstitution
    from launch_ros.substitutions import FindPackageShare

    return PathJoinSubstitution([FindPackageShare(BRINGUP), "config", name])


def common_arguments(rviz_default: str = "true") -> list:
    """The arguments every launch file takes: action, object pose, output folder, whether to
    run the pipeline client and RViz (default ``rviz_default``), and the three nodes'
    parameter files."""
    from launch.actions import DeclareLaunchArgument

    pose = "[" + ", ".join(str(v) for v in DEMO_OBJECT_POSE) + "]"
    return [
        DeclareLaunchArgument("action", default_value=DEFAULT_ACTION,
                              description="Action registry name (real2sim_core.actions)"),
        DeclareLaunchArgument("object_pose", default_value=pose,
                              description="Object pose on the table in panda_link0: [x, y, yaw]"),
        DeclareLaunchArgument("out", default_value=DEFAULT_LAUNCH_OUT,
                              description="Runs of the pipeline client are written below this"),
        DeclareLaunchArgument("run_demo", default_value="true",
                              description="Start the pipeline client (estimate, rollout, "
                              "execute)"),
        DeclareLaunchArgument("rviz", default_value=rviz_default,
                              description="Start RViz with the Real2Sim displays (next to "
                              "the robot's own RViz, where its bring-up starts one)"),
        DeclareLaunchArgument("perception_params", default_value=config_file("perception.yaml"),
                              description="Parameter file of the perception node"),
        DeclareLaunchArgument("policy_params", default_value=config_file("policy.yaml"),
                              description="Parameter file of the policy node"),
        DeclareLaunchArgument("executor_params", default_value=config_file("executor.yaml"),
                              description="Parameter file of the executor node"),
    ]


def real2sim_nodes(extra_parameters=()) -> list:
    """The perception and policy nodes with their parameter files (and the launch's action);
    ``extra_parameters`` (e.g. ``{"use_sim_time": True}``) are appended to each."""
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    return [
        Node(package="real2sim_perception", executable="perception_node",
             name="real2sim_perception", output="screen",
             parameters=[LaunchConfiguration("perception_params"), *extra_parameters]),
        Node(package="real2sim_policy", executable="policy_node", name="real2sim_policy",
             output="screen",
             parameters=[LaunchConfiguration("policy_params"),
                         {"action": LaunchConfiguration("action")}, *extra_parameters]),
    ]


def executor_out_dir():
    """The executor node's ``out_dir``: ``<out>/executor``."""
    from launch.substitutions import LaunchConfiguration, PathJoinSubstitution

    return PathJoinSubstitution([LaunchConfiguration("out"), "executor"])


def pipeline_client():
    """The pipeline client (estimate, roll out, execute), started when ``run_demo`` is true."""
    from launch.conditions import IfCondition
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    return Node(package=BRINGUP, executable="pipeline_client", name="real2sim_pipeline_client",
                output="screen",
                arguments=["--action", LaunchConfiguration("action"),
                           "--out", LaunchConfiguration("out"),
                           "--object-pose", LaunchConfiguration("object_pose")],
                condition=IfCondition(LaunchConfiguration("run_demo")))


def rviz(extra_parameters=()):
    """RViz with the Real2Sim displays, started when ``rviz`` is true."""
    from launch.conditions import IfCondition
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    return Node(package="rviz2", executable="rviz2", output="log",
                arguments=["-d", config_file("real2sim.rviz")],
                parameters=list(extra_parameters),
                condition=IfCondition(LaunchConfiguration("rviz")))
