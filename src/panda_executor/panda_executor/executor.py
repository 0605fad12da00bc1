"""From a Cartesian gripper plan to a checked, timed Panda joint trajectory.

:meth:`Executor.plan_joint_trajectory` does everything that happens *before* any motion:

1. refuse finger openings no plan can hold (:func:`~panda_executor.checks.check_openings`),
   place the aligned-frame plan at the object pose (``panda_link0``) and check the workspace;
2. prepend a straight approach from a pre-approach pose above the first waypoint;
3. IK-track the whole path (both finger orientations when ``ik.finger_flip = best``);
4. refuse unreachable waypoints, discontinuities and joint-space shortcuts (errors name them);
5. quantize the gripper opening into franka_gripper goals;
6. time-parameterise within the scaled velocity/acceleration limits (the arm stops at every
   gripper command), and build the joint move from the home configuration to the start;
7. test the arm's collision model against the table and object 0 at every knot
   (:func:`~panda_executor.checks.check_collisions`; ``check_collisions=False`` skips it).

The result, an :class:`ExecutionPlan`, is backend independent; a backend executes it chunk by
chunk (gripper command, then arm trajectory).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from real2sim_core.plan import GripperPlan

from real2sim_core import frames

from . import panda
from .checks import check_collisions, check_openings
from .config import ExecutorConfig
from .errors import LimitError, UnreachableError, WorkspaceError
from .gripper import GripperCommand, gripper_commands
from .ik import IKSolver, PathTrackingResult, track_path
from .kinematics import PandaKinematics
from .timing import JointTrajectory, time_parameterize, trapezoid_move
from .transform import TcpPath, check_workspace, format_indices, plan_to_tcp_path

__all__ = ["Executor", "ExecutionPlan", "Chunk", "ObjectSpec"]


@dataclass(frozen=True)
class ObjectSpec:
    """A cylinder of the scene: ``height`` and ``radius`` in m."""

    height: float
    radius: float


@dataclass
class Chunk:
    """One piece of execution: an optional gripper command, then an arm trajectory.

    Attributes:
        name: ``"move_to_start"``, ``"approach+plan"`` or ``"plan"``.
        gripper: the command sent (and waited for) before the arm moves, or None.
        trajectory: the arm trajectory; its times start at 0.
        knot_offset: index of the trajectory's first point in :attr:`ExecutionPlan.main`.
    """

    name: str
    gripper: GripperCommand | None
    trajectory: JointTrajectory
    knot_offset: int = -1


@dataclass
class ExecutionPlan:
    """The checked, timed result of :meth:`Executor.plan_joint_trajectory`.

    Attributes:
        action: registry name of the plan's action ('' if unknown).
        object_pose: aligned frame origin in ``panda_link0`` (x, y, yaw).
        table_height: z of the table in ``panda_link0``, m.
        objects: cylinder sizes (object 0 at the object pose; object 1 held for put actions).
        tcp: the Cartesian path tracked (approach + plan), in ``panda_link0``.
        plan_index: ``(N,)`` plan waypoint of each knot of :attr:`main` (-1 = approach,
            -2 = inserted between two plan waypoints).
        ik: IK tracking result of :attr:`tcp`.
        move_to_start: joint move from ``home`` to the first knot of :attr:`main`.
        main: the timed joint trajectory of approach + plan.
        gripper_events: ``(knot index in main, command)`` pairs; the first at knot 0.
        timing: time-parameterisation report.
        home: ``(7,)`` the configuration the robot starts from, rad.
        warnings: notes about the plan that did not refuse it.
        collisions: the pre-motion collision check's report (None: not checked).
    """

    action: str
    object_pose: frames.Pose2D
    table_height: float
    objects: list[ObjectSpec]
    tcp: TcpPath
    plan_index: np.ndarray
    ik: PathTrackingResult
    move_to_start: JointTrajectory
    main: JointTrajectory
    gripper_events: list[tuple[int, GripperCommand]]
    timing: dict
    home: np.ndarray
    warnings: list[str] = field(default_factory=list)
    collisions: dict | None = None

    def chunks(self, include_move_to_start: bool = True) -> list[Chunk]:
        """The execution order: [move to start], then (gripper command, arm piece) pairs."""
        out = []
        if include_move_to_start:
            out.append(Chunk("move_to_start", None, self.move_to_start))
        cuts = [k for k, _ in self.gripper_events]
        cmds = dict(self.gripper_events)
        bounds = sorted(set([0, *cuts, len(self.main) - 1]))
        for a, b in zip(bounds[:-1], bounds[1:]):
            sl = slice(a, b + 1)
            t = self.main.times[sl] - self.main.times[a]
            traj = JointTrajectory(t, self.main.positions[sl], self.main.velocities[sl],
                                   self.main.accelerations[sl])
            name = "approach+plan" if self.plan_index[a] == -1 else "plan"
            out.append(Chunk(name, cmds.get(a), traj, a))
        last = len(self.main) - 1
        if last in cmds and last not in bounds[:-1]:
            out.append(Chunk("plan", cmds[last], JointTrajectory(
                np.zeros(1), self.main.positions[-1:], np.zeros((1, 7)), np.zeros((1, 7))),
                last))
        return out

    @property
    def duration(self) -> float:
        """Arm motion time, s (without the gripper's own time)."""
        return self.move_to_start.duration + self.main.duration

    def limit_margins(self) -> dict:
        """Joint position margins to the datasheet limits over the whole motion, rad."""
        qs = np.concatenate([self.move_to_start.positions, self.main.positions])
        lo = (qs - panda.Q_MIN).min(axis=0)
        hi = (panda.Q_MAX - qs).min(axis=0)
        return {"per_joint_rad": [float(v) for v in np.minimum(lo, hi)],
                "min_rad": float(np.minimum(lo, hi).min())}

    def summary(self) -> dict:
        """Plain-data summary (IK errors, limit margins and usage, gripper goals)."""
        plan_mask = self.plan_index >= 0
        ik_plan = {
            "position_error_max_mm": float(self.ik.position_errors[plan_mask].max() * 1e3),
            "position_error_mean_mm": float(self.ik.position_errors[plan_mask].mean() * 1e3),
            "orientation_error_max_deg": float(np.degrees(
                self.ik.orientation_errors[plan_mask].max())),
            "orientation_error_mean_deg": float(np.degrees(
                self.ik.orientation_errors[plan_mask].mean())),
        }
        return {
            "action": self.action,
            "object_pose": list(self.object_pose),
            "table_height": self.table_height,
            "objects": [{"height": o.height, "radius": o.radius} for o in self.objects],
            "fingers_flipped": bool(self.tcp.flipped),
            "waypoints": {"plan": int(plan_mask.sum()),
                          "inserted": int((self.plan_index == -2).sum()),
                          "approach": int((self.plan_index == -1).sum())},
            "ik": {**self.ik.summary(), "plan_only": ik_plan},
            "joint_limit_margins": self.limit_margins(),
            "timing": self.timing,
            "move_to_start_duration_s": self.move_to_start.duration,
            "gripper_commands": [{**c.to_dict(), "knot": k} for k, c in self.gripper_events],
            "warnings": list(self.warnings),
            "collision_check": self.collisions,
        }


class Executor:
    """Turns gripper plans into checked joint trajectories (no ROS, no simulator).

    Args:
        config: the executor configuration (default: built-in defaults).
        kinematics: the Panda model (default: parsed from pybullet_data's URDF).
    """

    def __init__(self, config: ExecutorConfig | None = None,
                 kinematics: PandaKinematics | None = None):
        self.config = config or ExecutorConfig()
        self.kin = kinematics or PandaKinematics()
        self.solver = IKSolver(self.kin, self.config.ik, q_neutral=panda.Q_READY)

    # -- the Cartesian path --------------------------------------------------------------------

    def _approach(self, path: TcpPath) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Straight line from the pre-approach pose down to the first waypoint (times <= 0)."""
        tc = self.config.timing
        if tc.approach_height <= 0:
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 4))
        n = max(2, int(np.ceil(tc.approach_height / tc.approach_step)))
        tau = np.linspace(0.0, 1.0, n + 1)[:-1]  # uniform in time; excludes the plan start
        u = 0.5 - 0.5 * np.cos(np.pi * tau)  # eased: starts and ends at rest
        start = path.positions[0] + np.array([0.0, 0.0, tc.approach_height])
        pos = start + u[:, None] * (path.positions[0] - start)
        dur = 0.5 * np.pi * tc.approach_height / tc.approach_speed  # peak speed = approach_speed
        times = path.times[0] - dur * (1.0 - tau)
        quat = np.repeat(path.quats[:1], n, axis=0)
        return times, pos, quat

    def _densify(self, path: TcpPath):
        """Insert waypoints between plan waypoints that are too far apart (index -2)."""
        cfg = self.config.ik
        R = frames.quat_to_matrix(path.quats)
        times, pos, quat, index = [path.times[:1]], [path.positions[:1]], [path.quats[:1]], [[0]]
        for k in range(1, len(path)):
            rel = frames.matrix_to_rotvec(R[k - 1].T @ R[k])
            d = float(np.linalg.norm(path.positions[k] - path.positions[k - 1]))
            m = int(max(np.ceil(d / cfg.max_waypoint_step),
                        np.ceil(np.linalg.norm(rel) / cfg.max_waypoint_rotation), 1))
            if m > 1:
                u = np.arange(1, m) / m
                times.append(path.times[k - 1] + u * (path.times[k] - path.times[k - 1]))
                pos.append(path.positions[k - 1] + u[:, None] * (path.positions[k]
                                                                 - path.positions[k - 1]))
                Ru = R[k - 1] @ frames.rotvec_to_matrix(u[:, None] * rel)
                quat.append(frames.matrix_to_quat(Ru))
                index.append(np.full(m - 1, -2))
            times.append(path.times[k:k + 1])
            pos.append(path.positions[k:k + 1])
            quat.append(path.quats[k:k + 1])
            index.append([k])
        return (np.concatenate(times), np.concatenate(pos), np.concatenate(quat),
                np.concatenate(index).astype(int))

    def _full_path(self, path: TcpPath):
        t_a, p_a, q_a = self._approach(path)
        t_p, p_p, q_p, i_p = self._densify(path)
        times = np.concatenate([t_a, t_p])
        pos = np.concatenate([p_a, p_p])
        quat = np.concatenate([q_a, q_p])
        index = np.concatenate([-np.ones(len(t_a), dtype=int), i_p])
        if len(t_a):
            check_workspace(p_a, self.config.workspace, what="approach")
        return times, pos, quat, index

    def _track(self, path: TcpPath, home) -> tuple[PathTrackingResult, tuple]:
        full = self._full_path(path)
        return track_path(self.solver, full[1], full[2], q_start=home), full

    # -- checks --------------------------------------------------------------------------------

    def _check_tracking(self, ik: PathTrackingResult, index: np.ndarray, flipped_tried: bool):
        cfg = self.config.ik

        def names(mask):
            idx = np.flatnonzero(mask)
            plan_idx = [int(index[i]) for i in idx if index[i] >= 0]
            # points inserted between plan waypoints are named by the next plan waypoint
            for i in idx:
                if index[i] == -2:
                    nxt = int(index[i:][index[i:] >= 0][0])
                    if nxt not in plan_idx:
                        plan_idx.append(nxt)
            plan_idx = sorted(plan_idx)
            app_idx = [int(i) for i in idx if index[i] == -1]
            parts = []
            if plan_idx:
                parts.append(f"plan waypoint(s) {format_indices(plan_idx)}")
            if app_idx:
                parts.append(f"approach point(s) {format_indices(app_idx)} (the straight line "
                             f"{self.config.timing.approach_height} m above plan waypoint 0)")
            return " and ".join(parts)

        bad = ~ik.converged
        if bad.any():
            i = int(np.flatnonzero(bad)[np.argmax(ik.position_errors[bad])])
            at_lim = np.flatnonzero((ik.q[i] <= self.solver.lo + 1e-6)
                                    | (ik.q[i] >= self.solver.hi - 1e-6))
            lim = (f"; joints at their limits there: "
                   f"{', '.join(panda.ARM_JOINT_NAMES[j] for j in at_lim)}") if len(at_lim) else ""
            raise UnreachableError(
                f"unreachable: {names(bad)}: IK error up to "
                f"{ik.position_errors[bad].max() * 1e3:.1f} mm / "
                f"{np.degrees(ik.orientation_errors[bad].max()):.1f} deg (tolerance "
                f"{cfg.position_tolerance * 1e3:g} mm / {cfg.orientation_tolerance_deg:g} deg"
                f"{', both finger orientations tried' if flipped_tried else ''}){lim}"
            )
        jump = ik.joint_steps > cfg.max_joint_step
        if jump.any():
            raise UnreachableError(
                f"the IK solution jumps between waypoints at {names(jump)} (largest joint step "
                f"{ik.joint_steps.max():.2f} rad > ik.max_joint_step = {cfg.max_joint_step} "
                "rad): the path crosses a singularity or a joint limit; it would not be "
                "followed as a straight Cartesian motion"
            )
        dev = ik.interpolation_deviation > cfg.max_interpolation_deviation
        if dev.any():
            raise UnreachableError(
                f"joint-space interpolation leaves the Cartesian path by up to "
                f"{ik.interpolation_deviation.max() * 1e3:.1f} mm (> "
                f"ik.max_interpolation_deviation = {cfg.max_interpolation_deviation * 1e3:g} mm)"
                f" between waypoints before {names(dev)}; resample the plan more densely"
            )

    # -- the public API ------------------------------------------------------------------------

    def plan_joint_trajectory(self, plan: GripperPlan, object_pose=None, *, objects=None,
                              home=None, action: str | None = None,
                              collisions: bool = True) -> ExecutionPlan:
        """Check and convert a gripper plan; nothing moves.

        Args:
            plan: the Cartesian gripper plan (aligned frame, or ``panda_link0``).
            object_pose: ``(x, y, yaw)`` of the aligned frame in ``panda_link0`` (m, rad);
                default ``config.object_pose``.
            objects: list of :class:`ObjectSpec` (or ``(height, radius)`` pairs); default the
                sim config's object size, one per object of the action.
            home: ``(7,)`` configuration the robot starts from, rad; default ``config.home``.
            action: action name (default the plan's).
            collisions: test the arm against the table and object 0 (see
                :func:`~panda_executor.checks.check_collisions`).

        Returns:
            The :class:`ExecutionPlan`.

        Raises:
            WorkspaceError, UnreachableError, LimitError, CollisionError: (all
                :class:`~real2sim_core.errors.InputError`) the plan is refused; the message
                names the offending waypoints and the limit.
        """
        cfg = self.config
        check_openings(plan.openings)
        pose = cfg.object_pose if object_pose is None else object_pose
        home = np.asarray(cfg.home if home is None else home, dtype=float)
        if home.shape != (7,) or not np.isfinite(home).all():
            raise WorkspaceError(f"home configuration must be 7 finite joint values, got {home}")
        out_of = (home < panda.Q_MIN) | (home > panda.Q_MAX)
        if out_of.any():
            j = int(np.flatnonzero(out_of)[0])
            raise LimitError(f"home configuration {panda.ARM_JOINT_NAMES[j]} = {home[j]:.3f} rad "
                             f"is outside [{panda.Q_MIN[j]}, {panda.Q_MAX[j]}] rad")
        action = action or plan.action
        flips = cfg.ik.flips
        candidates = []
        first_error = None
        for flip in flips:
            path = plan_to_tcp_path(plan, pose, cfg.workspace, flip=flip)
            ik, full = self._track(path, home)
            try:
                self._check_tracking(ik, full[3], flipped_tried=len(flips) > 1)
            except UnreachableError as e:
                first_error = first_error or e
                continue
            candidates.append((ik.min_limit_margin, flip, path, ik, full))
            if cfg.ik.finger_flip == "best" and ik.min_limit_margin > 0.3:
                break  # comfortable: no need to track the flipped variant
        if not candidates:
            raise first_error
        _, flip, path, ik, (times, pos, quat, index) = max(candidates, key=lambda c: c[0])

        warnings = []
        cmds = gripper_commands(path.times, path.openings, cfg.gripper)
        events = []
        for c in cmds:
            knot = 0 if c.index == 0 else int(np.flatnonzero(index == c.index)[0])
            events.append((knot, c))
        # the plan waypoint each knot belongs to (approach: the first; inserted: the next one)
        eff = index.copy()
        eff[eff == -1] = 0
        for i in range(len(eff) - 1, -1, -1):
            if eff[i] == -2:
                eff[i] = eff[i + 1]

        tc = cfg.timing
        labels = np.array([f"plan {i}" if i >= 0 else (f"approach {k}" if i == -1 else
                                                        f"before plan {eff[k]}")
                           for k, i in enumerate(index)], dtype=object)
        main, report = time_parameterize(
            times, ik.q, vel_limits=tc.velocity_scaling * panda.DQ_MAX,
            acc_limits=tc.acceleration_scaling * panda.DDQ_MAX,
            stops=[k for k, _ in events], mode=tc.mode, max_stretch=tc.max_stretch,
            labels=labels)
        main.times = main.times - main.times[0]
        self._check_dense(main, "the timed trajectory")
        move = trapezoid_move(home, ik.q[0], tc.move_to_start_velocity_scaling * panda.DQ_MAX,
                              tc.acceleration_scaling * panda.DDQ_MAX)
        self._check_dense(move, "the move to the start")
        p_move, _ = self.kin.fk_batch(move.positions)
        low = p_move[:, 2] - cfg.workspace.table_height < cfg.workspace.min_tcp_height
        if low.any():
            raise WorkspaceError(
                "the joint move from the home configuration to the pre-approach pose would take "
                f"the TCP below {cfg.workspace.min_tcp_height} m above the table; raise "
                "timing.approach_height or start from another home configuration")
        n_obj = 2 if (action and _num_objects(action) == 2) else 1
        objs = [o if isinstance(o, ObjectSpec) else ObjectSpec(*map(float, o))
                for o in (objects or [])]
        while len(objs) < n_obj:
            objs.append(ObjectSpec(cfg.sim.object_height, cfg.sim.object_radius))
        xplan = ExecutionPlan(
            action=action or "", object_pose=path.object_pose, table_height=path.table_height,
            objects=objs, tcp=TcpPath(times, pos, quat, path.openings[eff], action=path.action,
                                      object_pose=path.object_pose,
                                      table_height=path.table_height, flipped=flip),
            plan_index=index, ik=ik, move_to_start=move, main=main, gripper_events=events,
            timing=report, home=home, warnings=warnings)
        if collisions:
            report = check_collisions(xplan, cfg)
            xplan.collisions = report.to_dict()
            xplan.warnings.extend(report.warnings)
        return xplan

    def _check_dense(self, traj: JointTrajectory, what: str, dt: float = 0.01) -> None:
        """Sample the spline: positions inside the datasheet limits, velocities within limits."""
        if len(traj) < 2:
            return
        ts = np.arange(traj.times[0], traj.times[-1], dt)
        qs = np.array([traj.sample(t)[0] for t in ts])
        vs = np.array([traj.sample(t)[1] for t in ts])
        out = (qs < panda.Q_MIN) | (qs > panda.Q_MAX)
        if out.any():
            k, j = np.argwhere(out)[0]
            raise LimitError(
                f"{what} leaves the joint limits: {panda.ARM_JOINT_NAMES[j]} = {qs[k, j]:.3f} "
                f"rad at t = {ts[k]:.2f} s, limits [{panda.Q_MIN[j]}, {panda.Q_MAX[j]}] rad")
        fast = np.abs(vs) > panda.DQ_MAX
        if fast.any():
            k, j = np.argwhere(fast)[0]
            raise LimitError(
                f"{what} exceeds the joint velocity limit: {panda.ARM_JOINT_NAMES[j]} "
                f"{vs[k, j]:.2f} rad/s at t = {ts[k]:.2f} s, limit {panda.DQ_MAX[j]} rad/s")


def _num_objects(action: str) -> int:
    from real2sim_core.actions import get_action

    try:
        return get_action(action).num_objects
    except Exception:  # noqa: BLE001 - unknown names are refused elsewhere
        return 1
