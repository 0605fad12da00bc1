"""Real Panda: franka_ros2 + MoveIt for the Panda (FER), and the Real2Sim nodes with the MoveIt
executor backend.

    ros2 launch real2sim_bringup panda_real.launch.py robot_ip:=172.16.0.2
    ros2 launch real2sim_bringup panda_real.launch.py robot_ip:=dont-care use_fake_hardware:=true

franka_ros2 supports the Panda only on its v0.1.x line (libfranka 0.9.2); the Docker image in
docker/ builds it from source next to MoveIt and moveit_py. The robot PC needs a real-time
kernel and a direct network link to the robot's FCI address (see README "Real robot").
"""

from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

BRINGUP = FindPackageShare("real2sim_bringup")


def _config(name):
    return PathJoinSubstitution([BRINGUP, "config", name])


def generate_launch_description():
    args = [
        DeclareLaunchArgument("robot_ip", description="FCI IP address of the Panda's controller"),
        DeclareLaunchArgument("use_fake_hardware", default_value="false",
                              description="Use ros2_control fake hardware instead of the robot"),
        DeclareLaunchArgument("fake_sensor_commands", default_value="false",
                              description="Fake sensor commands (only with use_fake_hardware)"),
        DeclareLaunchArgument("action", default_value="push_left_to_right",
                              description="Action registry name (real2sim_core.actions)"),
        DeclareLaunchArgument("perception_params", default_value=_config("perception.yaml"),
                              description="Parameter file of the perception node"),
        DeclareLaunchArgument("policy_params", default_value=_config("policy.yaml"),
                              description="Parameter file of the policy node"),
        DeclareLaunchArgument("executor_params", default_value=_config("executor.yaml"),
                              description="Parameter file of the executor node"),
    ]
    moveit = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare("franka_moveit_config"), "launch", "moveit.launch.py"])),
        launch_arguments={
            "robot_ip": LaunchConfiguration("robot_ip"),
            "use_fake_hardware": LaunchConfiguration("use_fake_hardware"),
            "fake_sensor_commands": LaunchConfiguration("fake_sensor_commands"),
        }.items(),
    )
    nodes = [
        Node(package="real2sim_perception", executable="perception_node",
             name="real2sim_perception", output="screen",
             parameters=[LaunchConfiguration("perception_params")]),
        Node(package="real2sim_policy", executable="policy_node", name="real2sim_policy",
             output="screen",
             parameters=[LaunchConfiguration("policy_params"),
                         {"action": LaunchConfiguration("action")}]),
        Node(package="panda_executor", executable="executor_node", name="panda_executor",
             output="screen",
             parameters=[LaunchConfiguration("executor_params"), {"backend": "moveit"}]),
    ]
    return LaunchDescription(args + [moveit] + nodes)
