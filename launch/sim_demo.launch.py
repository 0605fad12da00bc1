"""Simulation demo: the three Real2Sim nodes, the Panda description and RViz.

    ros2 launch real2sim_bringup sim_demo.launch.py action:=push_left_to_right

Needs a ROS 2 distribution with launch_ros, robot_state_publisher, xacro, rviz2 and
franka_description (the Docker image in docker/). Without ROS, `real2sim demo` runs the same
chain with the nodes as plain processes.
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import Command, FindExecutable, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

BRINGUP = FindPackageShare("real2sim_bringup")


def _config(name):
    return PathJoinSubstitution([BRINGUP, "config", name])


def generate_launch_description():
    args = [
        DeclareLaunchArgument("action", default_value="push_left_to_right",
                              description="Action registry name (real2sim_core.actions)"),
        DeclareLaunchArgument("perception_params", default_value=_config("perception.yaml"),
                              description="Parameter file of the perception node"),
        DeclareLaunchArgument("policy_params", default_value=_config("policy.yaml"),
                              description="Parameter file of the policy node"),
        DeclareLaunchArgument("executor_params", default_value=_config("executor.yaml"),
                              description="Parameter file of the executor node"),
        DeclareLaunchArgument("backend", default_value="sim",
                              description="Executor backend: sim (pybullet Panda) or moveit"),
        DeclareLaunchArgument("use_sim_time", default_value="false",
                              description="Use /clock instead of wall time"),
        DeclareLaunchArgument("rviz", default_value="true", description="Start RViz"),
    ]
    use_sim_time = LaunchConfiguration("use_sim_time")
    robot_description = ParameterValue(
        Command([
            FindExecutable(name="xacro"), " ",
            PathJoinSubstitution([FindPackageShare("franka_description"), "robots",
                                  "panda_arm.urdf.xacro"]),
            " hand:=true",
        ]),
        value_type=str,
    )
    nodes = [
        Node(package="real2sim_perception", executable="perception_node",
             name="real2sim_perception", output="screen",
             parameters=[LaunchConfiguration("perception_params"),
                         {"use_sim_time": use_sim_time}]),
        Node(package="real2sim_policy", executable="policy_node", name="real2sim_policy",
             output="screen",
             parameters=[LaunchConfiguration("policy_params"),
                         {"action": LaunchConfiguration("action"),
                          "use_sim_time": use_sim_time}]),
        Node(package="panda_executor", executable="executor_node", name="panda_executor",
             output="screen",
             parameters=[LaunchConfiguration("executor_params"),
                         {"backend": LaunchConfiguration("backend"),
                          "use_sim_time": use_sim_time}]),
        Node(package="robot_state_publisher", executable="robot_state_publisher",
             output="screen",
             parameters=[{"robot_description": robot_description,
                          "use_sim_time": use_sim_time}]),
        Node(package="rviz2", executable="rviz2", output="log",
             arguments=["-d", _config("real2sim.rviz")],
             condition=IfCondition(LaunchConfiguration("rviz"))),
    ]
    return LaunchDescription(args + nodes)
