"""Damped-least-squares IK of the Panda TCP and tracking of a whole Cartesian path.

One DLS iteration (all in ``panda_link0``)::

    e   = [p* - p ; orientation error]                  (6,), clipped per iteration
    dq  = Jw^T (Jw Jw^T + lambda^2 I)^-1 e              task step
        + (I - Jw^+ Jw) z                               null-space step
    z   = k (q_neutral - q) + limit repulsion           posture toward neutral, away from limits

``Jw`` is the Jacobian with the columns of joints locked at a limit removed: a step that would
leave ``[q_min + margin, q_max - margin]`` clamps that joint at the bound and re-solves with the
remaining joints (so the limit is respected without distorting the task direction). Each
waypoint starts from the previous waypoint's solution (continuity); the first one, and any
waypoint that does not converge from its predecessor, also tries random restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from real2sim_core import frames

from . import panda
from .config import IKConfig
from .kinematics import PandaKinematics

__all__ = ["IKSolution", "IKSolver", "PathTrackingResult", "track_path", "rotation_angle"]


def rotation_angle(R_a, R_b) -> np.ndarray:
    """Angle (rad) of the rotation between rotation matrices ``(..., 3, 3)``."""
    tr = np.einsum("...ij,...ij->...", np.asarray(R_a), np.asarray(R_b))  # trace(R_a^T R_b)
    return np.arccos(np.clip((tr - 1.0) / 2.0, -1.0, 1.0))


@dataclass
class IKSolution:
    """One IK result: joints ``q`` ``(7,)`` rad, errors (m, rad), iterations, convergence."""

    q: np.ndarray
    position_error: float
    orientation_error: float
    iterations: int
    converged: bool


class IKSolver:
    """DLS IK for the Panda TCP with joint limits and a null-space posture.

    Args:
        kinematics: the FK/Jacobian model.
        config: tolerances, gains and limits.
        q_min, q_max: joint limits, rad (default: the datasheet limits).
        q_neutral: the posture the null space pulls toward, rad (default: ``Q_READY``).
    """

    def __init__(self, kinematics: PandaKinematics | None = None, config: IKConfig | None = None,
                 q_min=None, q_max=None, q_neutral=None):
        self.kin = kinematics or PandaKinematics()
        self.cfg = config or IKConfig()
        q_min = panda.Q_MIN if q_min is None else np.asarray(q_min, dtype=float)
        q_max = panda.Q_MAX if q_max is None else np.asarray(q_max, dtype=float)
        self.lo = q_min + self.cfg.limit_margin
        self.hi = q_max - self.cfg.limit_margin
        self.q_neutral = np.clip(panda.Q_READY if q_neutral is None else
                                 np.asarray(q_neutral, dtype=float), self.lo, self.hi)
        self._tol_p = self.cfg.position_tolerance
        self._tol_r = self.cfg.orientation_tolerance

    def errors(self, q, p_target, R_target) -> tuple[float, float]:
        """TCP position (m) and orientation (rad) error of ``q`` w.r.t. a target pose."""
        _, _, R, p = self.kin.joint_frames(q)
        return float(np.linalg.norm(p_target - p)), float(rotation_angle(R, R_target))

    def _nullspace_target(self, q) -> np.ndarray:
        cfg = self.cfg
        z = cfg.nullspace_gain * (self.q_neutral - q)
        if cfg.limit_buffer > 0:
            d_lo = q - self.lo
            d_hi = self.hi - q
            push = 0.1 * np.clip((cfg.limit_buffer - d_lo) / cfg.limit_buffer, 0, 1)
            pull = 0.1 * np.clip((cfg.limit_buffer - d_hi) / cfg.limit_buffer, 0, 1)
            z = z + push - pull
        return z

    def _damping2(self, J) -> float:
        """Adaptive DLS damping: none far from singularities, up to ``damping**2`` near them."""
        eps = 0.04
        smin = np.linalg.svd(J, compute_uv=False)[-1]
        if smin >= eps:
            return 1e-10
        return self.cfg.damping**2 * (1.0 - (smin / eps) ** 2) + 1e-10

    def solve(self, p_target, R_target, q_seed, nullspace: bool = True) -> IKSolution:
        """Solve for one TCP pose.

        Args:
            p_target: ``(3,)`` TCP position in ``panda_link0``, m.
            R_target: ``(3, 3)`` TCP rotation in ``panda_link0``.
            q_seed: ``(7,)`` start configuration, rad (clipped into the limits).
            nullspace: apply the posture/limit-avoidance null-space term.
        """
        cfg = self.cfg
        p_target = np.asarray(p_target, dtype=float)
        R_target = np.asarray(R_target, dtype=float)
        q = np.clip(np.asarray(q_seed, dtype=float), self.lo, self.hi)
        goal_p = self._tol_p * cfg.convergence_fraction
        goal_r = self._tol_r * cfg.convergence_fraction
        eye6 = np.eye(6)
        eye7 = np.eye(7)
        it = 0
        for it in range(cfg.max_iterations + 1):  # noqa: B007 - `it` is reported
            J, R, p = self.kin.jacobian(q)
            e_p = p_target - p
            ang = float(rotation_angle(R, R_target))
            ep_norm = float(np.linalg.norm(e_p))
            if ep_norm < goal_p and ang < goal_r:
                break
            if it == cfg.max_iterations:
                break
            if ang > 1.0:  # far: exact log map; near: the (cheaper) cross-product form
                e_r = frames.matrix_to_rotvec(R_target @ R.T)
            else:
                e_r = 0.5 * (np.cross(R[:, 0], R_target[:, 0]) + np.cross(R[:, 1], R_target[:, 1])
                             + np.cross(R[:, 2], R_target[:, 2]))
                n = np.linalg.norm(e_r)  # |e_r| = sin(angle): rescale to the angle
                if n > 1e-12:
                    e_r = e_r * (ang / n)
            if ep_norm > cfg.max_step_position:
                e_p = e_p * (cfg.max_step_position / ep_norm)
            if ang > cfg.max_step_rotation:
                e_r = e_r * (cfg.max_step_rotation / ang)
            e = np.concatenate([e_p, e_r])
            # the posture step is taken once per solve (first iteration): repeated damped
            # null-space steps would leak into the task and stall the convergence
            z = self._nullspace_target(q) if (nullspace and it == 0) else None
            locked = np.zeros(7, dtype=bool)
            for _ in range(8):
                Jw = J.copy()
                Jw[:, locked] = 0.0
                lam2 = self._damping2(Jw)
                Jpinv = Jw.T @ np.linalg.inv(Jw @ Jw.T + lam2 * eye6)  # (7, 6) damped pinv
                dq = Jpinv @ e
                if z is not None:
                    dq = dq + (eye7 - Jpinv @ Jw) @ np.where(locked, 0.0, z)
                dq[locked] = 0.0
                q_new = q + dq
                out = (~locked) & ((q_new < self.lo) | (q_new > self.hi))
                if not out.any():
                    break
                # move the offending joints onto their bound, lock them, re-solve the rest
                q = np.where(out, np.clip(q_new, self.lo, self.hi), q)
                locked |= out
                J, R, p = self.kin.jacobian(q)
                e_p = p_target - p
                if np.linalg.norm(e_p) > cfg.max_step_position:
                    e_p = e_p * (cfg.max_step_position / np.linalg.norm(e_p))
                e = np.concatenate([e_p, e[3:]])
            q = np.clip(q_new, self.lo, self.hi)
        ep, er = self.errors(q, p_target, R_target)
        return IKSolution(q, ep, er, it, ep <= self._tol_p and er <= self._tol_r)

    def solve_with_restarts(self, p_target, R_target, seeds, rng: np.random.Generator,
                            restarts: int | None = None, prefer=None) -> IKSolution:
        """Try ``seeds`` then ``restarts`` random configurations; keep the best solution.

        Among converged solutions the one closest to ``prefer`` (default the first seed) wins,
        with a penalty for joints near their limits; otherwise the smallest error.
        """
        restarts = self.cfg.restarts if restarts is None else restarts
        seeds = [np.asarray(s, dtype=float) for s in seeds]
        seeds += [rng.uniform(self.lo, self.hi) for _ in range(restarts)]
        prefer = seeds[0] if prefer is None else np.asarray(prefer, dtype=float)
        best, best_score = None, np.inf
        for k, s in enumerate(seeds):
            sol = self.solve(p_target, R_target, s)
            if sol.converged:
                margin = np.minimum(sol.q - self.lo, self.hi - sol.q).min()
                score = np.abs(sol.q - prefer).max() + 2.0 * max(0.0, 0.2 - margin)
            else:
                score = (100.0 + sol.position_error / self._tol_p
                         + sol.orientation_error / self._tol_r)
            if score < best_score:
                best, best_score = sol, score
            if sol.converged and k < len(seeds) - restarts and margin > 0.2:
                break  # a given seed converged comfortably: no need for random restarts
        return best


@dataclass
class PathTrackingResult:
    """IK of a whole path (shapes: ``T`` waypoints).

    Attributes:
        q: ``(T, 7)`` joint positions, rad.
        position_errors: ``(T,)`` TCP position error, m.
        orientation_errors: ``(T,)`` TCP orientation error, rad.
        iterations: ``(T,)`` DLS iterations.
        converged: ``(T,)`` within the tolerances.
        joint_steps: ``(T,)`` largest joint change from the previous waypoint, rad (0 first).
        interpolation_deviation: ``(T,)`` TCP deviation (m) of the joint-space midpoint between
            waypoint k-1 and k from the Cartesian midpoint (0 first).
        restarted: ``(T,)`` waypoints that needed restarts (continuity may be broken there).
    """

    q: np.ndarray
    position_errors: np.ndarray
    orientation_errors: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    joint_steps: np.ndarray
    interpolation_deviation: np.ndarray
    restarted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def min_limit_margin(self) -> float:
        """Smallest distance of any joint to its datasheet limit over the path, rad."""
        return float(np.minimum(self.q - panda.Q_MIN, panda.Q_MAX - self.q).min())

    def summary(self) -> dict:
        """Plain-data statistics (m, deg, rad)."""
        return {
            "waypoints": int(len(self.q)),
            "converged": int(self.converged.sum()),
            "position_error_max_mm": float(self.position_errors.max() * 1e3),
            "position_error_mean_mm": float(self.position_errors.mean() * 1e3),
            "orientation_error_max_deg": float(np.degrees(self.orientation_errors.max())),
            "orientation_error_mean_deg": float(np.degrees(self.orientation_errors.mean())),
            "iterations_mean": float(self.iterations.mean()),
            "max_joint_step_rad": float(self.joint_steps.max()),
            "max_interpolation_deviation_mm": float(self.interpolation_deviation.max() * 1e3),
            "restarted_waypoints": [int(i) for i in np.flatnonzero(self.restarted)],
            "min_joint_limit_margin_rad": self.min_limit_margin,
        }


def track_path(solver: IKSolver, positions, quats, q_start=None, rng=None,
               max_failed_restarts: int = 3) -> PathTrackingResult:
    """IK of every waypoint of a TCP path, warm-started from the previous one.

    Args:
        solver: the IK solver.
        positions: ``(T, 3)`` TCP positions in ``panda_link0``, m.
        quats: ``(T, 4)`` TCP orientations (x, y, z, w) in ``panda_link0``.
        q_start: ``(7,)`` preferred configuration for the first waypoint (e.g. the robot's
            current one), rad; default the neutral posture.
        rng: random generator of the restarts (default seeded from the config).
        max_failed_restarts: after this many waypoints that restarts could not solve, the
            remaining ones are only warm-started (the path is refused anyway; this bounds the
            time spent on hopeless plans).
    """
    P = np.asarray(positions, dtype=float)
    Rs = frames.quat_to_matrix(np.asarray(quats, dtype=float))
    n = len(P)
    rng = rng or np.random.default_rng(solver.cfg.seed)
    q0 = solver.q_neutral if q_start is None else np.asarray(q_start, dtype=float)
    qs = np.zeros((n, 7))
    pe = np.zeros(n)
    oe = np.zeros(n)
    its = np.zeros(n, dtype=int)
    conv = np.zeros(n, dtype=bool)
    restarted = np.zeros(n, dtype=bool)
    failed_restarts = 0  # after a few hopeless waypoints, stop spending restarts on the rest
    for k in range(n):
        if k == 0:
            sol = solver.solve_with_restarts(P[0], Rs[0], [q0, solver.q_neutral], rng)
        else:
            sol = solver.solve(P[k], Rs[k], qs[k - 1])
            if not sol.converged and failed_restarts < max_failed_restarts:
                restarted[k] = True
                near = [qs[k - 1] + rng.normal(0, 0.1, 7) for _ in range(4)]
                sol = solver.solve_with_restarts(P[k], Rs[k], [qs[k - 1], *near], rng,
                                                 prefer=qs[k - 1])
                failed_restarts += 0 if sol.converged else 1
        qs[k], pe[k], oe[k], its[k], conv[k] = (sol.q, sol.position_error,
                                                 sol.orientation_error, sol.iterations,
                                                 sol.converged)
    steps = np.zeros(n)
    dev = np.zeros(n)
    if n > 1:
        steps[1:] = np.abs(np.diff(qs, axis=0)).max(axis=1)
        mid_p, _ = solver.kin.fk_batch(0.5 * (qs[1:] + qs[:-1]))
        dev[1:] = np.linalg.norm(mid_p - 0.5 * (P[1:] + P[:-1]), axis=1)
    return PathTrackingResult(qs, pe, oe, its, conv, steps, dev, restarted)
