"""The real Panda (FER) on the real-robot image (ROS 2 Humble, libfranka 0.9.2, franka_ros2 at
e38ddfc, moveit2 humble with moveit_py): franka_ros2's MoveIt bring-up, the Real2Sim nodes with
the ``moveit`` executor backend, and the pipeline client.

    ros2 launch real2sim_bringup panda_real.launch.py robot_ip:=172.16.0.2
    ros2 launch real2sim_bringup panda_real.launch.py robot_ip:=dont-care use_fake_hardware:=true

``franka_moveit_config/launch/moveit.launch.py`` (franka_ros2 e38ddfc) starts the franka_hardware
ros2_control node (panda_arm_controller: JointTrajectoryController,
``config/panda_ros_controllers.yaml``), franka_gripper (``panda_gripper/move``, ``grasp``,
``homing``, ``gripper_action``), move_group, robot_state_publisher, joint_state_publisher
(/joint_states from ``franka/joint_states`` + ``panda_gripper/joint_states``) and RViz. The
executor's MoveItPy gets the equivalent of MoveItConfigsBuilder's parameter set, built here from
the same franka_moveit_config files (franka_description xacro, SRDF xacro, kinematics.yaml,
ompl_planning.yaml) plus ``config/panda_real/moveit_cpp.yaml`` (OMPL and Pilz pipelines in
Humble's format) and ``config/panda_real/joint_limits.yaml``.

With ``use_fake_hardware:=true`` franka_gripper runs ``fake_gripper_state_publisher.py``, which
serves no gripper actions: the executor then skips the gripper commands
(``robot.gripper_interface: none``) and lists them in its result.
"""

import os

import yaml
from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import (
    Command,
    FindExecutable,
    LaunchConfiguration,
    PathJoinSubstitution,
    PythonExpression,
)
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription
from real2sim_bringup import launch_common

BRINGUP = launch_common.BRINGUP
FRANKA_MOVEIT = "franka_moveit_config"


def _yaml(package, *path):
    with open(os.path.join(get_package_share_directory(package), *path)) as f:
        return yaml.safe_load(f)


def moveit_parameters(robot_ip, use_fake_hardware, fake_sensor_commands) -> list:
    """The MoveItPy parameter set for the Panda (what MoveItConfigsBuilder would assemble)."""
    description = ParameterValue(Command([
        FindExecutable(name="xacro"), " ",
        PathJoinSubstitution([FindPackageShare("franka_description"), "robots",
                              "panda_arm.urdf.xacro"]),
        " hand:=true robot_ip:=", robot_ip, " use_fake_hardware:=", use_fake_hardware,
        " fake_sensor_commands:=", fake_sensor_commands]), value_type=str)
    semantic = ParameterValue(Command([
        FindExecutable(name="xacro"), " ",
        PathJoinSubstitution([FindPackageShare(FRANKA_MOVEIT), "srdf", "panda_arm.srdf.xacro"]),
        " hand:=true"]), value_type=str)
    moveit_cpp = _yaml(BRINGUP, "config", "panda_real", "moveit_cpp.yaml")
    moveit_cpp["ompl"].update(_yaml(FRANKA_MOVEIT, "config", "ompl_planning.yaml"))
    limits = _yaml(BRINGUP, "config", "panda_real", "joint_limits.yaml")
    moveit_cpp["robot_description_planning"].update(limits["robot_description_planning"])
    return [
        {"robot_description": description, "robot_description_semantic": semantic,
         "robot_description_kinematics": _yaml(FRANKA_MOVEIT, "config", "kinematics.yaml")},
        moveit_cpp,
        {"moveit_simple_controller_manager": _yaml(FRANKA_MOVEIT, "config",
                                                   "panda_controllers.yaml"),
         "moveit_controller_manager":
             "moveit_simple_controller_manager/MoveItSimpleControllerManager"},
    ]


def generate_launch_description():
    args = [
        DeclareLaunchArgument("robot_ip", description="FCI IP address of the Panda's controller"),
        DeclareLaunchArgument("use_fake_hardware", default_value="false",
                              description="Use ros2_control fake hardware instead of the robot"),
        DeclareLaunchArgument("fake_sensor_commands", default_value="false",
                              description="Fake sensor commands (only with use_fake_hardware)"),
        # franka_moveit_config starts its own RViz
        *launch_common.common_arguments(rviz_default="false"),
    ]
    robot_ip = LaunchConfiguration("robot_ip")
    use_fake_hardware = LaunchConfiguration("use_fake_hardware")
    fake_sensor_commands = LaunchConfiguration("fake_sensor_commands")
    franka = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare(FRANKA_MOVEIT), "launch", "moveit.launch.py"])),
        launch_arguments={"robot_ip": robot_ip, "use_fake_hardware": use_fake_hardware,
                          "fake_sensor_commands": fake_sensor_commands}.items(),
    )
    gripper_interface = PythonExpression(
        ["'none' if '", use_fake_hardware, "'.lower() == 'true' else 'franka'"])
    nodes = [
        *launch_common.real2sim_nodes(),
        Node(package="panda_executor", executable="executor_node", name="panda_executor",
             output="screen",
             parameters=[*moveit_parameters(robot_ip, use_fake_hardware, fake_sensor_commands),
                         LaunchConfiguration("executor_params"),
                         {"backend": "moveit",
                          "object_pose": LaunchConfiguration("object_pose"),
                          "robot.gripper_interface": gripper_interface,
                          "robot.gripper_namespace": "/panda_gripper",
                          "out_dir": launch_common.executor_out_dir()}]),
        launch_common.rviz(),
        launch_common.pipeline_client(),
    ]
    return LaunchDescription(args + [franka] + nodes)
