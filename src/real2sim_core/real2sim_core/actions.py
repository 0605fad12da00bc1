"""The nine actions of the paper (METHOD section 10) as one registry."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownNameError

__all__ = ["ActionSpec", "ACTIONS", "get_action", "action_names"]


@dataclass(frozen=True)
class ActionSpec:
    """One manipulation action.

    Attributes:
        name: registry name, snake_case (e.g. ``"push_left_to_right"``).
        template_id: Something-Something v2 template id.
        num_objects: 1 (push, pull, pick up) or 2 (put actions; object 0 stays on the table,
            object 1 is carried by the hand).
        kind: ``"push"``, ``"pull"``, ``"pick_up"`` or ``"put"``.
        direction: for push/pull, +1 (left to right, +x) or -1 (right to left); else 0.
        relation: for put actions, ``"behind"``, ``"in_front_of"``, ``"next_to"`` or ``"onto"``.
        label: the human-readable template text.
    """

    name: str
    template_id: int
    num_objects: int
    kind: str
    direction: int = 0
    relation: str = ""
    label: str = ""

    @property
    def carries_object(self) -> bool:
        """Whether the hand picks the manipulated object up and carries it (pick up, put);
        a push or pull only moves it along the table."""
        return self.kind in ("pick_up", "put")

    @property
    def x_mirror(self) -> str:
        """The action that a horizontally flipped video of this one shows (x -> -x in the
        aligned frame): the opposite direction for a push or pull, the action itself for the
        others, whose labels say nothing of left or right."""
        if not self.direction:
            return self.name
        return next(a.name for a in ACTIONS.values()
                    if a.kind == self.kind and a.direction == -self.direction)

    @property
    def manipulated_object(self) -> int:
        """Index (state-model numbering) of the object the hand moves: the last object."""
        return self.num_objects - 1


ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in (
        ActionSpec("pull_left_to_right", 86, 1, "pull", +1,
                   label="Pulling something from left to right"),
        ActionSpec("pull_right_to_left", 87, 1, "pull", -1,
                   label="Pulling something from right to left"),
        ActionSpec("push_left_to_right", 93, 1, "push", +1,
                   label="Pushing something from left to right"),
        ActionSpec("push_right_to_left", 94, 1, "push", -1,
                   label="Pushing something from right to left"),
        ActionSpec("pick_up", 47, 1, "pick_up", label="Picking something up"),
        ActionSpec("put_behind", 104, 2, "put", relation="behind",
                   label="Putting something behind something"),
        ActionSpec("put_in_front_of", 105, 2, "put", relation="in_front_of",
                   label="Putting something in front of something"),
        ActionSpec("put_next_to", 107, 2, "put", relation="next_to",
                   label="Putting something next to something"),
        ActionSpec("put_onto", 112, 2, "put", relation="onto",
                   label="Putting something onto something"),
    )
}


def action_names() -> list[str]:
    """Registry names of all actions, in the paper's order."""
    return list(ACTIONS)


def get_action(name) -> ActionSpec:
    """Look an action up by registry name, spaced name ("push left to right") or template id.

    Raises:
        UnknownNameError: listing the known names.
    """
    if isinstance(name, ActionSpec):
        return name
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    if key in ACTIONS:
        return ACTIONS[key]
    for spec in ACTIONS.values():
        if key == str(spec.template_id):
            return spec
    raise UnknownNameError("action", str(name), ACTIONS)
