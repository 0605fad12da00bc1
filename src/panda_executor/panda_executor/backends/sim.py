"""``sim`` backend: the full Panda in pybullet (DIRECT) with the table and the cylinders.

The arm follows the joint trajectory with pybullet's POSITION_CONTROL (targets and target
velocities from the same cubic spline a joint_trajectory_controller would interpolate, torques
capped at the datasheet values); the fingers execute the quantized gripper goals (``move``:
position, ``grasp``: squeeze with the goal's force). The executed object and hand trajectories
are recorded at ``sim.record_hz``, brought back into the aligned frame and judged with METHOD
section 8's check for the action (:func:`real2sim_core.metrics.evaluate_arrays`). A fixed
camera renders an MP4 with TinyRenderer.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from real2sim_core import frames

from .. import panda
from ..config import ExecutorConfig
from ..gripper import GraspGoal
from ..kinematics import PandaKinematics
from ..transform import tcp_path_to_aligned
from .base import Backend, ExecutionResult, ExecutionStatus, Progress

__all__ = ["SimBackend", "judge_recording"]


def judge_recording(action: str, rec: dict, heights, radii, fps: float) -> dict | None:
    """METHOD section 8 check of a recording in the aligned frame (None without an action).

    Args:
        action: action name.
        rec: ``hand_pos`` (T, 3), ``hand_quat`` (T, 4), ``obj_pos`` (T, N, 3), ``obj_quat``
            (T, N, 4), all in the aligned frame.
        heights, radii: (N,) m.
        fps: recording rate, Hz.
    """
    if not action:
        return None
    from real2sim_core.metrics import evaluate_arrays

    az, el = frames.hand_angles_from_gripper_quat(rec["hand_quat"])
    axis_z = frames.quat_to_matrix(rec["obj_quat"])[..., 2, 2]
    res = evaluate_arrays(action, rec["hand_pos"], az, el, rec["obj_pos"], heights, radii,
                          obj_axis_z=axis_z, fps=fps)
    return res.to_dict()


class SimBackend(Backend):
    """Executes plans on a simulated Panda.

    Args:
        config: executor configuration (``sim`` section used here).
        video_path: where to write the MP4 (None: no video, whatever ``sim.video`` says).
        kinematics: model for the recorded TCP poses (default: from the URDF).
    """

    name = "sim"

    def __init__(self, config: ExecutorConfig | None = None, video_path=None,
                 kinematics: PandaKinematics | None = None):
        self.config = config or ExecutorConfig()
        self.video_path = Path(video_path) if video_path else None
        self.kin = kinematics or PandaKinematics()
        self._p = None
        self._cid = None

    # -- scene ---------------------------------------------------------------------------------

    def _setup(self, plan):
        import pybullet as p
        import pybullet_data

        sc = self.config.sim
        cid = p.connect(p.DIRECT)
        self._p, self._cid = p, cid
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=cid)
        p.setGravity(0, 0, -9.81, physicsClientId=cid)
        p.setTimeStep(sc.time_step, physicsClientId=cid)
        th = plan.table_height
        self._plane = p.loadURDF("plane.urdf", [0, 0, th], physicsClientId=cid)
        p.changeDynamics(self._plane, -1, lateralFriction=sc.table_friction, physicsClientId=cid)
        self._robot = p.loadURDF(panda.urdf_path(), [0, 0, 0], useFixedBase=True,
                                 physicsClientId=cid)
        for i, q in zip(panda.PYBULLET_ARM_JOINT_INDICES, plan.home):
            p.resetJointState(self._robot, i, q, physicsClientId=cid)
        first = plan.gripper_events[0][1] if plan.gripper_events else None
        w0 = panda.MAX_FINGER_WIDTH if first is None or not first.closed else 0.0
        for j in panda.PYBULLET_FINGER_JOINT_INDICES:
            p.resetJointState(self._robot, j, w0 / 2, physicsClientId=cid)
            p.changeDynamics(self._robot, j, lateralFriction=1.0, physicsClientId=cid)
        self._finger_target = w0 / 2
        self._finger_force = panda.GRIPPER_DEFAULT_FORCE
        self._finger_speed = panda.GRIPPER_DEFAULT_SPEED
        # object 0 stands at the object pose; object 1 (put actions) is placed in the gripper
        self._objects = []
        pose = plan.object_pose
        for k, o in enumerate(plan.objects):
            col = p.createCollisionShape(p.GEOM_CYLINDER, radius=o.radius, height=o.height,
                                         physicsClientId=cid)
            vis = p.createVisualShape(p.GEOM_CYLINDER, radius=o.radius, length=o.height,
                                      rgbaColor=[(0.9, 0.3, 0.2, 1), (0.2, 0.4, 0.9, 1)][k % 2],
                                      physicsClientId=cid)
            pos = [pose.x, pose.y, th + o.height / 2] if k == 0 else [pose.x, pose.y, -5 - k]
            body = p.createMultiBody(sc.object_mass, col, vis, pos, physicsClientId=cid)
            p.changeDynamics(body, -1, lateralFriction=sc.object_friction, restitution=0.0,
                             physicsClientId=cid)
            self._objects.append(body)
        self._cam = None
        if self.video_path is not None and sc.video:
            target = [pose.x, pose.y, th + 0.1]
            view = p.computeViewMatrixFromYawPitchRoll(
                target, sc.camera_distance, sc.camera_yaw_deg, sc.camera_pitch_deg, 0, 2,
                physicsClientId=cid)
            proj = p.computeProjectionMatrixFOV(50, sc.video_width / sc.video_height, 0.05, 5.0,
                                                physicsClientId=cid)
            self._cam = (view, proj)

    def _place_held_object(self, plan, q):
        """Put object 1 between the fingers (its axis along the opening direction)."""
        p, cid = self._p, self._cid
        _, _, R, pos = self.kin.joint_frames(q)
        m = R @ frames.rot_z(0.0)
        # cylinder axis (local z) along the TCP's y: rotate the TCP frame by -90 deg about x
        rx = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=float)
        quat = frames.matrix_to_quat(m @ rx)
        p.resetBasePositionAndOrientation(self._objects[1], pos.tolist(), quat.tolist(),
                                          physicsClientId=cid)

    # -- stepping ------------------------------------------------------------------------------

    def _command_arm(self, q, qd):
        sc = self.config.sim
        self._p.setJointMotorControlArray(
            self._robot, list(panda.PYBULLET_ARM_JOINT_INDICES), self._p.POSITION_CONTROL,
            targetPositions=list(q), targetVelocities=list(qd), forces=list(panda.TAU_MAX),
            positionGains=[sc.position_gain] * 7, velocityGains=[sc.velocity_gain] * 7,
            physicsClientId=self._cid)

    def _command_fingers(self):
        for j in panda.PYBULLET_FINGER_JOINT_INDICES:
            self._p.setJointMotorControl2(
                self._robot, j, self._p.POSITION_CONTROL, targetPosition=self._finger_target,
                force=self._finger_force, maxVelocity=self._finger_speed / 2,
                physicsClientId=self._cid)

    def _measure(self):
        p, cid = self._p, self._cid
        states = p.getJointStates(self._robot, list(panda.PYBULLET_ARM_JOINT_INDICES) +
                                  list(panda.PYBULLET_FINGER_JOINT_INDICES), physicsClientId=cid)
        q = np.array([s[0] for s in states[:7]])
        width = states[7][0] + states[8][0]
        objs = [p.getBasePositionAndOrientation(b, physicsClientId=cid) for b in self._objects]
        return q, width, objs

    def _record(self, t, q_cmd):
        q, width, objs = self._measure()
        _, _, R, pos = self.kin.joint_frames(q)
        self._rec["t"].append(t)
        self._rec["q"].append(q)
        self._rec["q_cmd"].append(np.asarray(q_cmd, dtype=float))
        self._rec["tcp_pos"].append(pos)
        self._rec["tcp_quat"].append(frames.matrix_to_quat(R))
        self._rec["width"].append(width)
        self._rec["obj_pos"].append([o[0] for o in objs])
        self._rec["obj_quat"].append([o[1] for o in objs])

    def _frame(self):
        sc = self.config.sim
        view, proj = self._cam
        _, _, rgba, _, _ = self._p.getCameraImage(
            sc.video_width, sc.video_height, view, proj, renderer=self._p.ER_TINY_RENDERER,
            physicsClientId=self._cid)
        img = np.asarray(rgba, dtype=np.uint8).reshape(sc.video_height, sc.video_width, 4)
        self._frames.append(img[:, :, :3].copy())

    def _step(self, q_cmd):
        """One physics step; records and renders at their rates."""
        sc = self.config.sim
        self._p.stepSimulation(physicsClientId=self._cid)
        self._t += sc.time_step
        if self._t + 1e-9 >= self._next_rec:
            self._record(self._t, q_cmd)
            self._next_rec += 1.0 / sc.record_hz
        if self._cam is not None and self._t + 1e-9 >= self._next_frame:
            self._frame()
            self._next_frame += 1.0 / sc.video_fps

    # -- execution -----------------------------------------------------------------------------

    def execute(self, plan, *, progress=None, cancel=None) -> ExecutionResult:
        """Simulate ``plan``; see :meth:`Backend.execute`."""
        sc = self.config.sim
        self._setup(plan)
        self._t = 0.0
        self._next_rec = 0.0
        self._next_frame = 0.0
        self._frames = []
        self._rec = {k: [] for k in ("t", "q", "q_cmd", "tcp_pos", "tcp_quat", "width",
                                     "obj_pos", "obj_quat")}
        chunks = plan.chunks()
        total = sum(c.trajectory.duration for c in chunks) or 1.0
        done = 0.0
        status, message = ExecutionStatus.SUCCEEDED, "executed"
        main_start_rec = 0
        q_hold = np.asarray(plan.home, dtype=float)
        max_track = 0.0
        try:
            for ci, ch in enumerate(chunks):
                if ch.name != "move_to_start" and main_start_rec == 0:
                    main_start_rec = len(self._rec["t"])
                    if len(plan.objects) > 1:
                        self._place_held_object(plan, ch.trajectory.positions[0])
                if ch.gripper is not None:
                    if not self._run_gripper(ch.gripper.goal, q_hold, cancel):
                        status = ExecutionStatus.CANCELED
                        message = "canceled during a gripper command"
                        break
                traj = ch.trajectory
                n_steps = int(math.ceil(traj.duration / sc.time_step))
                t0 = self._t
                canceled = False
                for k in range(n_steps + 1):
                    tt = min(k * sc.time_step, traj.duration)
                    q_cmd, qd_cmd = traj.sample(tt)
                    self._command_arm(q_cmd, qd_cmd)
                    self._command_fingers()
                    self._step(q_cmd)
                    if k % 24 == 0:
                        q_meas = self._measure()[0]
                        max_track = max(max_track, float(np.abs(q_meas - q_cmd).max()))
                        if progress is not None:
                            progress(Progress(min(1.0, (done + tt) / total), ci, ch.name,
                                              self._t))
                        if cancel is not None and cancel():
                            canceled = True
                            break
                q_hold = traj.positions[-1] if not canceled else self._measure()[0]
                done += traj.duration
                if canceled:
                    status, message = ExecutionStatus.CANCELED, (
                        f"canceled during chunk {ci} ({ch.name}) at t = {self._t - t0:.2f} s")
                    break
            # hold the last configuration while things settle
            for _ in range(int(sc.settle_time / sc.time_step)):
                self._command_arm(q_hold, np.zeros(7))
                self._command_fingers()
                self._step(q_hold)
            self._record(self._t, q_hold)
            if status is ExecutionStatus.SUCCEEDED and max_track > sc.max_tracking_error:
                status = ExecutionStatus.FAILED
                message = (f"joint tracking error {max_track:.3f} rad exceeded "
                           f"sim.max_tracking_error = {sc.max_tracking_error} rad (collision?)")
            result = self._result(plan, status, message, main_start_rec, max_track)
        finally:
            self.close()
        return result

    def _run_gripper(self, goal, q_hold, cancel) -> bool:
        sc = self.config.sim
        if isinstance(goal, GraspGoal):
            self._finger_target = max(0.0, (goal.width - goal.epsilon_inner) / 2)
            self._finger_force = goal.force
        else:
            self._finger_target = min(goal.width, panda.MAX_FINGER_WIDTH) / 2
            self._finger_force = panda.GRIPPER_MAX_CONTINUOUS_FORCE
        self._finger_speed = goal.speed
        width0 = self._measure()[1]
        t_need = abs(2 * self._finger_target - width0) / max(goal.speed, 1e-3)
        t_end = self._t + min(t_need + sc.gripper_settle_time, 3.0)
        k = 0
        while self._t < t_end:
            self._command_arm(q_hold, np.zeros(7))
            self._command_fingers()
            self._step(q_hold)
            k += 1
            if k % 24 == 0 and cancel is not None and cancel():
                return False
        return True

    def _result(self, plan, status, message, main_start, max_track) -> ExecutionResult:
        sc = self.config.sim
        rec = {k: np.asarray(v, dtype=float) for k, v in self._rec.items()}
        sl = slice(main_start, None)
        obj_pos = rec["obj_pos"][sl]
        T, N = obj_pos.shape[:2]
        hp, hq = tcp_path_to_aligned(rec["tcp_pos"][sl], rec["tcp_quat"][sl], plan.object_pose,
                                     plan.table_height)
        op, oq = tcp_path_to_aligned(obj_pos.reshape(-1, 3), rec["obj_quat"][sl].reshape(-1, 4),
                                     plan.object_pose, plan.table_height)
        aligned = {"hand_pos": hp, "hand_quat": hq, "obj_pos": op.reshape(T, N, 3),
                   "obj_quat": oq.reshape(T, N, 4)}
        check = None
        if plan.action:
            check = judge_recording(plan.action, aligned, [o.height for o in plan.objects],
                                    [o.radius for o in plan.objects], sc.record_hz)
        if self.video_path is not None and self._frames:
            import imageio

            self.video_path.parent.mkdir(parents=True, exist_ok=True)
            imageio.mimwrite(self.video_path, self._frames, fps=sc.video_fps,
                             macro_block_size=1)
        details = {
            "max_joint_tracking_error_rad": max_track,
            "simulated_time_s": float(self._t),
            "video": str(self.video_path) if self.video_path and self._frames else None,
            "video_frames": len(self._frames),
            "object_final_aligned": [[float(v) for v in p] for p in aligned["obj_pos"][-1]],
            "recording": {**{k: rec[k] for k in ("t", "q", "q_cmd", "width")},
                          "aligned": aligned, "main_start": main_start},
        }
        if check is not None and status is ExecutionStatus.SUCCEEDED:
            message = f"executed; action check {'passed' if check['success'] else 'failed'}"
        return ExecutionResult(status, message, float(self._t), check, details)

    def close(self) -> None:
        if self._p is not None and self._cid is not None:
            try:
                self._p.disconnect(physicsClientId=self._cid)
            except Exception:  # noqa: BLE001 - already disconnected
                pass
        self._p, self._cid = None, None
