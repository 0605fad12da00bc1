"""Simulation without hardware in Gazebo (gz sim Harmonic) on ROS 2 Jazzy: the Panda with
gz_ros2_control, the Real2Sim nodes (executor backend ``ros2_control``: FollowJointTrajectory to
panda_arm_controller, GripperCommand to panda_hand_controller), RViz and the pipeline client.

    ros2 launch real2sim_bringup gazebo_demo.launch.py            # add gui:=false headless

The robot: ``config/panda_gz.urdf.xacro`` (moveit_resources_panda_description + GazeboSimSystem),
spawned by ``ros_gz_sim create -topic robot_description`` into ``empty.sdf`` started through
``ros_gz_sim/launch/gz_sim.launch.py``; /clock bridged by ``ros_gz_bridge parameter_bridge``;
controllers spawned once the model exists. Every node uses sim time. The pipeline client
writes ``<out>/<time>/{bag,summary.json,report.html}`` like ``real2sim demo``.
"""

from launch.actions import (
    DeclareLaunchArgument,
    IncludeLaunchDescription,
    RegisterEventHandler,
)
from launch.event_handlers import OnProcessExit
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


def generate_launch_description():
    args = [
        *launch_common.common_arguments(),
        DeclareLaunchArgument("gui", default_value="true", description="Gazebo's GUI (false: "
                              "server only)"),
    ]
    sim_time = {"use_sim_time": True}
    description = ParameterValue(Command([
        FindExecutable(name="xacro"), " ", launch_common.config_file("panda_gz.urdf.xacro"),
    ]), value_type=str)
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([FindPackageShare("ros_gz_sim"), "launch", "gz_sim.launch.py"])),
        launch_arguments={"gz_args": PythonExpression(
            ["'-r empty.sdf' if '", LaunchConfiguration("gui"), "' == 'true' else "
             "'-r -s empty.sdf'"])}.items(),
    )
    spawn = Node(package="ros_gz_sim", executable="create", output="screen",
                 arguments=["-topic", "robot_description", "-name", "panda"])
    clock = Node(package="ros_gz_bridge", executable="parameter_bridge",
                 arguments=["/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock"])
    spawners = [Node(package="controller_manager", executable="spawner",
                     arguments=[name, "--controller-manager", "/controller_manager"],
                     parameters=[sim_time])
                for name in ("joint_state_broadcaster", "panda_arm_controller",
                             "panda_hand_controller")]
    nodes = [
        Node(package="robot_state_publisher", executable="robot_state_publisher",
             parameters=[{"robot_description": description}, sim_time]),
        *launch_common.real2sim_nodes([sim_time]),
        Node(package="panda_executor", executable="executor_node", name="panda_executor",
             output="screen",
             parameters=[LaunchConfiguration("executor_params"), sim_time,
                         {"backend": "ros2_control",
                          "object_pose": LaunchConfiguration("object_pose"),
                          # the result waits are wall-clock: leave room for a real-time
                          # factor below 1
                          "robot.trajectory_margin": 30.0,
                          "robot.gripper_interface": "gripper_command",
                          "robot.gripper_command_action": "/panda_hand_controller/gripper_cmd",
                          "out_dir": launch_common.executor_out_dir()}]),
        launch_common.rviz([sim_time]),
    ]
    client = launch_common.pipeline_client()
    # controllers once the model (and with it gz_ros2_control's controller_manager) exists;
    # the pipeline client once the arm controller is active
    return LaunchDescription(args + [
        gazebo, clock, spawn, *nodes,
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[spawners[0]])),
        RegisterEventHandler(OnProcessExit(target_action=spawners[0], on_exit=spawners[1:])),
        RegisterEventHandler(OnProcessExit(target_action=spawners[1], on_exit=[client])),
    ])
