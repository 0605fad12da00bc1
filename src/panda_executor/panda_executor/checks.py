"""Checks of a plan before anything moves: the gripper opening, and collisions of the arm.

* :func:`check_openings`: a plan's finger opening must lie within
  :data:`real2sim_core.plan.MAX_PLAN_OPENING` per finger (the gripper world's finger travel,
  the widest a plan can ask for; the Franka hand itself opens
  :data:`panda_executor.panda.MAX_FINGER_WIDTH` in all, which the quantized *open* command
  uses). Anything wider is not a plan of this stack (e.g. a width given in cm or mm) and is
  refused instead of being executed as "open".
* :func:`check_collisions`: the Panda's collision model (pybullet_data's URDF, no dynamics:
  joint states are set, not simulated) is placed at every knot of the timed trajectory and
  tested against the table and object 0 standing at the object pose:

  - a link reaching more than :data:`TABLE_TOLERANCE` below the table is reported in
    :attr:`CollisionReport.warnings` (printed before any motion and kept in summary.json), not
    refused: the shipped push policies' plans turn the hand up after the push and take the
    Panda's wrist below the table plane, which the simulated Panda still executes;
  - nothing may touch object 0 during the move to the start and the approach (the gripper
    arrives from above; the object has not been reached yet);
  - from the first plan waypoint on, object 0 stays where it stands until the gripper touches
    its side (the contact normal is more horizontal than vertical: a push or a grasp that can
    move it). Until then an arm link touching it collides, and the gripper may not press
    more than :data:`PRESS_TOLERANCE` into its top (the table holds it: the arm would be
    blocked). After a side contact the object may move, so its initial pose is no longer
    checked.

  Object 1 of the put actions starts in the gripper and is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from real2sim_core.plan import MAX_PLAN_OPENING

from . import panda
from .errors import CollisionError, LimitError
from .transform import format_indices

__all__ = ["check_openings", "check_collisions", "CollisionReport", "TABLE_TOLERANCE",
           "OBJECT_TOLERANCE", "PRESS_TOLERANCE"]

TABLE_TOLERANCE = 0.01
"""How far a link may reach into the table plane before it is reported, m (the convex hulls of
pybullet_data's collision meshes are a few mm larger than the links)."""
OBJECT_TOLERANCE = 0.002
"""Penetration below which a link only grazes the object, m."""
PRESS_TOLERANCE = 0.01
"""How far the gripper may press into the top of an object that cannot move away, m."""

_FINGER_LINKS = frozenset(panda.PYBULLET_FINGER_JOINT_INDICES)
_GRIPPER_LINKS = _FINGER_LINKS | {panda.PYBULLET_HAND_LINK_INDEX}


def check_openings(openings) -> None:
    """Refuse plan waypoints whose finger opening exceeds :data:`MAX_PLAN_OPENING`.

    Args:
        openings: ``(T,)`` per-finger opening of each plan waypoint, m.

    Raises:
        LimitError: naming the waypoints, the largest opening and the limits.
    """
    o = np.asarray(openings, dtype=float)
    wide = o > MAX_PLAN_OPENING + 1e-9
    if wide.any():
        raise LimitError(
            f"plan waypoint(s) {format_indices(np.flatnonzero(wide))} open each finger "
            f"{o.max():.3f} m from the centre ({2 * o.max():.3f} m wide); a plan may open each "
            f"finger at most {MAX_PLAN_OPENING} m and the Franka hand opens "
            f"{panda.MAX_FINGER_WIDTH} m in all: the plan is refused before any motion "
            "(check its units: metres per finger)")


@dataclass
class CollisionReport:
    """What :func:`check_collisions` found (all distances m, knots of the main trajectory).

    Attributes:
        first_contact_knot: the knot where the gripper first touches object 0 (-1: never).
        min_table_clearance: the lowest signed distance of a link to the table, m (inf: none
            came within 5 cm).
        knots_checked: how many configurations were tested.
        warnings: links below the table (see the module docstring).
    """

    first_contact_knot: int
    min_table_clearance: float
    knots_checked: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"first_contact_knot": self.first_contact_knot,
                "min_table_clearance_m": (round(self.min_table_clearance, 4)
                                          if np.isfinite(self.min_table_clearance) else None),
                "knots_checked": self.knots_checked}


def _link_name(i: int) -> str:
    if i in _FINGER_LINKS:
        return "a finger"
    if i == panda.PYBULLET_HAND_LINK_INDEX:
        return "the hand"
    return f"panda_link{i + 1}"


def check_collisions(xplan, config, move_step: int = 5) -> CollisionReport:
    """Test the arm against the table and object 0 at every knot of ``xplan`` (see above).

    Args:
        xplan: the :class:`~panda_executor.executor.ExecutionPlan`.
        config: the :class:`~panda_executor.config.ExecutorConfig` (gripper widths).
        move_step: test every n-th knot of the move to the start (a slow joint move).

    Returns:
        The :class:`CollisionReport`.

    Raises:
        CollisionError: naming the link, the obstacle, the knot (plan waypoint or approach) and
            the penetration.
    """
    import pybullet as p
    import pybullet_data

    cid = p.connect(p.DIRECT)
    try:
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=cid)
        th = xplan.table_height
        plane = p.loadURDF("plane.urdf", [0, 0, th], physicsClientId=cid)
        robot = p.loadURDF(panda.urdf_path(), [0, 0, 0], useFixedBase=True,
                           physicsClientId=cid)
        pose = xplan.object_pose
        o0 = xplan.objects[0]
        col = p.createCollisionShape(p.GEOM_CYLINDER, radius=o0.radius, height=o0.height,
                                     physicsClientId=cid)
        obj = p.createMultiBody(0.0, col, -1, [pose.x, pose.y, th + o0.height / 2],
                                physicsClientId=cid)
        num_links = p.getNumJoints(robot, physicsClientId=cid)
        arm_links = [i for i in range(num_links) if i not in _GRIPPER_LINKS]

        def place(q, width):
            for j, v in zip(panda.PYBULLET_ARM_JOINT_INDICES, q):
                p.resetJointState(robot, j, float(v), physicsClientId=cid)
            for j in panda.PYBULLET_FINGER_JOINT_INDICES:
                p.resetJointState(robot, j, width / 2, physicsClientId=cid)
            p.performCollisionDetection(physicsClientId=cid)

        def deepest(body, links, margin):
            """(link, signed distance, contact normal on ``body``) of the deepest contact."""
            worst = None
            for link in links:
                for c in p.getClosestPoints(robot, body, margin, linkIndexA=link,
                                            physicsClientId=cid):
                    if worst is None or c[8] < worst[1]:
                        worst = (link, c[8], c[7])
            return worst

        def where(k: int) -> str:
            i = int(xplan.plan_index[k])
            if i >= 0:
                return f"plan waypoint {i}"
            if i == -1:
                return f"approach point {k} (above plan waypoint 0)"
            nxt = xplan.plan_index[k:][xplan.plan_index[k:] >= 0]
            return f"the path into plan waypoint {int(nxt[0]) if len(nxt) else '?'}"

        gcfg = config.gripper
        widths = np.full(len(xplan.main), gcfg.open_width)
        events = sorted(xplan.gripper_events, key=lambda e: e[0])
        for k, cmd in events:
            goal = cmd.goal
            widths[k:] = getattr(goal, "width", gcfg.open_width)
        w_start = widths[0] if len(widths) else gcfg.open_width
        min_table, graze = np.inf, (0, 0)
        checked = 0
        all_links = list(range(num_links))
        move = xplan.move_to_start.positions
        for k in list(range(0, len(move), move_step)) + [len(move) - 1]:
            place(move[k], w_start)
            checked += 1
            hit = deepest(obj, all_links, 0.0)
            if hit is not None and hit[1] < -OBJECT_TOLERANCE:
                raise CollisionError(
                    f"collision before the plan starts: {_link_name(hit[0])} goes "
                    f"{-hit[1] * 1e3:.0f} mm into object 0 during the move from the home "
                    "configuration to the pre-approach pose; move the object or the start "
                    "of the plan")
        first_contact = -1
        on_top = None
        for k in range(len(xplan.main)):
            place(xplan.main.positions[k], widths[k])
            checked += 1
            low = deepest(plane, all_links, 0.05)
            if low is not None:
                if low[1] < min_table:
                    min_table, graze = low[1], (k, low[0])
            if first_contact >= 0:
                continue
            approach = xplan.plan_index[k] == -1
            hit = deepest(obj, all_links if approach else arm_links, 0.0)
            if hit is not None and hit[1] < -OBJECT_TOLERANCE:
                raise CollisionError(
                    f"collision with object 0 at {where(k)}: {_link_name(hit[0])} goes "
                    f"{-hit[1] * 1e3:.0f} mm into the object at its pose "
                    f"({pose.x:.3f}, {pose.y:.3f}) m "
                    + ("while the gripper comes down to the plan's start" if approach else
                       "before the gripper has touched it")
                    + "; the plan is refused before any motion (check --object-pose and the "
                    "object size against the plan)")
            if approach:
                continue
            touch = deepest(obj, sorted(_GRIPPER_LINKS), 0.0)
            if touch is None:
                on_top = None
                continue
            if on_top is None:  # the first knot of a contact: which face is touched
                on_top = abs(touch[2][2]) >= 0.7  # (deeper, the normal points to the nearest
            if not on_top:                         # face, not the one touched)
                first_contact = k  # a side contact: the object can move from here on
            elif touch[1] < -PRESS_TOLERANCE:
                raise CollisionError(
                    f"collision with object 0 at {where(k)}: {_link_name(touch[0])} presses "
                    f"{-touch[1] * 1e3:.0f} mm into its top (the table holds it; the arm "
                    f"would be blocked); the gripper opens {panda.MAX_FINGER_WIDTH} m, the "
                    f"object is {2 * o0.radius:.3f} m wide. The plan is refused before any "
                    "motion")
        warnings = []
        if min_table < -TABLE_TOLERANCE:
            warnings.append(
                f"collision with the table: {_link_name(graze[1])} reaches "
                f"{-min_table * 1e3:.0f} mm below the table surface at {where(graze[0])} "
                "(the Panda's collision model); on a real table the arm stops there")
        return CollisionReport(first_contact, float(min_table), checked, warnings)
    finally:
        p.disconnect(physicsClientId=cid)
