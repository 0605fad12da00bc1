"""Simulation demo on ROS 2 Jazzy: MoveIt on ros2_control mock hardware, the Real2Sim nodes,
RViz, and the pipeline client that runs the bundled example through them.

    ros2 launch real2sim_bringup sim_demo.launch.py                      # MoveIt, mock hardware
    ros2 launch real2sim_bringup sim_demo.launch.py backend:=sim         # pybullet Panda only

backend:=moveit (default): the Panda of moveit_resources_panda_moveit_config (3.0.0) with
``mock_components/GenericSystem`` (its ``config/panda.urdf.xacro``), controller_manager with its
``config/ros2_controllers.yaml`` (panda_arm_controller: JointTrajectoryController,
panda_hand_controller: GripperActionController, joint_state_broadcaster -> /joint_states),
robot_state_publisher, and the executor node with the MoveIt parameters of
``MoveItConfigsBuilder("moveit_resources_panda")`` (OMPL + Pilz pipelines, our
``config/moveit_cpp.yaml``); its MoveItPy reads them from the --params-file launch_ros passes.

backend:=sim: no MoveIt; the executor's pybullet Panda publishes the arm's joint states (remapped
to ``real2sim/sim_joint_states``), joint_state_publisher merges them with the fingers into
``/joint_states`` for robot_state_publisher (description: moveit_resources_panda_description).

The pipeline client (``run_demo:=true``) estimates the example's videos, rolls out the policy
and executes the plan, writing ``<out>/<time>/{bag,summary.json,report.html}`` like
``real2sim demo``.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import Command, FindExecutable, LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription
from real2sim_bringup import launch_common

BRINGUP = launch_common.BRINGUP
MOVEIT_CONFIG = "moveit_resources_panda_moveit_config"
PANDA_DESCRIPTION = "moveit_resources_panda_description"


def _nodes(context):
    backend = LaunchConfiguration("backend").perform(context)
    real2sim = launch_common.real2sim_nodes()
    client, viewer = launch_common.pipeline_client(), launch_common.rviz()
    # "[x, y, yaw]": launch_ros parses a substituted parameter value as YAML -> double array
    if backend == "sim":
        description = ParameterValue(Command([
            FindExecutable(name="xacro"), " ",
            PathJoinSubstitution([FindPackageShare(PANDA_DESCRIPTION), "urdf", "panda.urdf.xacro"]),
        ]), value_type=str)
        return real2sim + [
            Node(package="panda_executor", executable="executor_node", name="panda_executor",
                 output="screen",
                 parameters=[LaunchConfiguration("executor_params"),
                             {"backend": "sim", "object_pose": LaunchConfiguration("object_pose"),
                              "out_dir": launch_common.executor_out_dir()}],
                 remappings=[("joint_states", "real2sim/sim_joint_states")]),
            Node(package="joint_state_publisher", executable="joint_state_publisher",
                 parameters=[{"source_list": ["real2sim/sim_joint_states"], "rate": 30}]),
            Node(package="robot_state_publisher", executable="robot_state_publisher",
                 parameters=[{"robot_description": description}]),
            client, viewer,
        ]

    from moveit_configs_utils import MoveItConfigsBuilder

    moveit_config = (
        MoveItConfigsBuilder("moveit_resources_panda")
        .robot_description(file_path="config/panda.urdf.xacro",
                           mappings={"ros2_control_hardware_type": "mock_components"})
        .robot_description_semantic(file_path="config/panda.srdf")
        .trajectory_execution(file_path="config/gripper_moveit_controllers.yaml")
        .planning_scene_monitor(publish_robot_description=True,
                                publish_robot_description_semantic=True)
        .planning_pipelines(pipelines=["ompl", "pilz_industrial_motion_planner"])
        .moveit_cpp(file_path=os.path.join(get_package_share_directory(BRINGUP), "config",
                                           "moveit_cpp.yaml"))
        .to_moveit_configs()
    )
    controllers = os.path.join(get_package_share_directory(MOVEIT_CONFIG), "config",
                               "ros2_controllers.yaml")
    spawners = [
        Node(package="controller_manager", executable="spawner",
             arguments=[name, "--controller-manager", "/controller_manager"])
        for name in ("joint_state_broadcaster", "panda_arm_controller", "panda_hand_controller")
    ]
    return real2sim + [
        Node(package="panda_executor", executable="executor_node", name="panda_executor",
             output="screen",
             parameters=[moveit_config.to_dict(), LaunchConfiguration("executor_params"),
                         {"backend": "moveit", "object_pose": LaunchConfiguration("object_pose"),
                          "out_dir": launch_common.executor_out_dir(),
                          "robot.gripper_interface": "gripper_command",
                          "robot.gripper_command_action": "/panda_hand_controller/gripper_cmd"}]),
        Node(package="tf2_ros", executable="static_transform_publisher",
             arguments=["--frame-id", "world", "--child-frame-id", "panda_link0"]),
        Node(package="robot_state_publisher", executable="robot_state_publisher",
             parameters=[moveit_config.robot_description]),
        Node(package="controller_manager", executable="ros2_control_node",
             parameters=[controllers],
             remappings=[("/controller_manager/robot_description", "/robot_description")],
             output="screen"),
        *spawners,
        client, viewer,
    ]


def generate_launch_description():
    args = [
        DeclareLaunchArgument("backend", default_value="moveit",
                              description="moveit (MoveIt on mock hardware) or sim (pybullet)"),
        *launch_common.common_arguments(),
    ]
    return LaunchDescription(args + [OpaqueFunction(function=_nodes)])
