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
from launch.conditions import IfCondition
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

BRINGUP = "real2sim_bringup"


def _config(name):
    return PathJoinSubstitution([FindPackageShare(BRINGUP), "config", name])


def generate_launch_description():
    args = [
        DeclareLaunchArgument("action", default_value="push_left_to_right",
                              description="Action registry name (real2sim_core.actions)"),
        DeclareLaunchArgument("object_pose", default_value="[0.5, 0.0, -1.5708]",
                              description="Object pose on the table in panda_link0: [x, y, yaw]"),
        DeclareLaunchArgument("out", default_value="out/launch",
                              description="Runs of the pipeline client are written below this"),
        DeclareLaunchArgument("run_demo", default_value="true",
                              description="Start the pipeline client (estimate, rollout, execute)"),
        DeclareLaunchArgument("gui", default_value="true", description="Gazebo's GUI (false: "
                              "server only)"),
        DeclareLaunchArgument("rviz", default_value="true", description="Start RViz"),
        DeclareLaunchArgument("perception_params", default_value=_config("perception.yaml"),
                              description="Parameter file of the perception node"),
        DeclareLaunchArgument("policy_params", default_value=_config("policy.yaml"),
                              description="Parameter file of the policy node"),
        DeclareLaunchArgument("executor_params", default_value=_config("executor.yaml"),
                              description="Parameter file of the executor node"),
    ]
    sim_time = {"use_sim_time": True}
    description = ParameterValue(Command([
        FindExecutable(name="xacro"), " ", _config("panda_gz.urdf.xacro"),
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
        Node(package="real2sim_perception", executable="perception_node",
             name="real2sim_perception", output="screen",
             parameters=[LaunchConfiguration("perception_params"), sim_time]),
        Node(package="real2sim_policy", executable="policy_node", name="real2sim_policy",
             output="screen",
             parameters=[LaunchConfiguration("policy_params"),
                         {"action": LaunchConfiguration("action")}, sim_time]),
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
                          "out_dir": PathJoinSubstitution([LaunchConfiguration("out"),
                                                           "executor"])}]),
        Node(package="rviz2", executable="rviz2", output="log",
             arguments=["-d", _config("real2sim.rviz")], parameters=[sim_time],
             condition=IfCondition(LaunchConfiguration("rviz"))),
    ]
    client = Node(package=BRINGUP, executable="pipeline_client", name="real2sim_pipeline_client",
                  output="screen",
                  arguments=["--action", LaunchConfiguration("action"),
                             "--out", LaunchConfiguration("out"),
                             "--object-pose", LaunchConfiguration("object_pose")],
                  condition=IfCondition(LaunchConfiguration("run_demo")))
    # controllers once the model (and with it gz_ros2_control's controller_manager) exists;
    # the pipeline client once the arm controller is active
    return LaunchDescription(args + [
        gazebo, clock, spawn, *nodes,
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[spawners[0]])),
        RegisterEventHandler(OnProcessExit(target_action=spawners[0], on_exit=spawners[1:])),
        RegisterEventHandler(OnProcessExit(target_action=spawners[1], on_exit=[client])),
    ])
