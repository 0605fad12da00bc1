"""Several detectors as one: e.g. Mask R-CNN masks + 100DOH contact states (the paper's pair),
or mediapipe hands + objects from a detection file.

Each member contributes the instances whose role it is asked for; a member's hand instances
that carry a contact state but are not kept pass that state (and the 100DOH offset) to the
kept hand instance they overlap most (box IoU, or the fraction of the donor box inside the kept
box -- a 100DOH hand box sits inside a COCO person box -- at least ``contact_iou``).
"""

from __future__ import annotations

import numpy as np

from ..errors import PerceptionInputError
from .base import Detector, Instance
from .masks import box_iou_matrix

__all__ = ["CombinedDetector"]


class CombinedDetector(Detector):
    """Union of member detectors' instances, by role, with contact transfer between hands.

    Args:
        detectors: the member backends, in priority order.
        roles: per member, the roles it contributes (default: all roles for the first
            member, none for the others, i.e. the others only contribute contact states).
        contact_iou: minimum box IoU to transfer a contact state onto a kept hand.
    """

    name = "combined"

    def __init__(self, detectors: list[Detector], roles: list[tuple[str, ...]] | None = None,
                 contact_iou: float = 0.3):
        if not detectors:
            raise PerceptionInputError("CombinedDetector needs at least one detector")
        self.detectors = list(detectors)
        all_roles = ("hand", "object", "ignore")
        self.roles = [tuple(r) for r in roles] if roles else \
            [all_roles] + [()] * (len(detectors) - 1)
        self.contact_iou = float(contact_iou)
        hand_src = next((d for d, r in zip(self.detectors, self.roles) if "hand" in r), None)
        self.hand_covers_forearm = bool(hand_src and hand_src.hand_covers_forearm)
        self.reports_contact = any(d.reports_contact for d in self.detectors)

    def detect(self, frame, *, index=0, source_index=None, timestamp=0.0) -> list[Instance]:
        kept: list[Instance] = []
        donors: list[Instance] = []
        for det, roles in zip(self.detectors, self.roles):
            for inst in det.detect(frame, index=index, source_index=source_index,
                                   timestamp=timestamp):
                if inst.role in roles:
                    kept.append(inst)
                elif inst.role == "hand" and inst.contact is not None:
                    donors.append(inst)
        hands = [d for d in kept if d.role == "hand"]
        if donors and hands:
            # a hand box lies inside a person (hand + arm) mask's box: measure the overlap as
            # the larger of IoU and the fraction of the donor box covered
            a = np.array([d.box for d in donors])
            b = np.array([h.box for h in hands])
            iou = box_iou_matrix(a, b)
            inter = iou * 0
            for i in range(len(a)):
                for j in range(len(b)):
                    w = min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0])
                    h = min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1])
                    area = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1])
                    inter[i, j] = max(w, 0) * max(h, 0) / area if area > 0 else 0.0
            match = np.maximum(iou, inter)
            for i, donor in enumerate(donors):
                j = int(np.argmax(match[i]))
                if match[i, j] >= self.contact_iou and hands[j].contact is None:
                    hands[j].contact = donor.contact
                    if hands[j].offset is None:
                        hands[j].offset = donor.offset
        return kept

    def close(self) -> None:
        for d in self.detectors:
            d.close()
