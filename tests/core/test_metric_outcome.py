"""MetricResult verdicts as an enum: callers branch on ``outcome``, never on the reason text."""

from __future__ import annotations

import pytest
from real2sim_core.metrics import MetricResult, Outcome


@pytest.mark.parametrize("hand_ok,object_ok,outcome,failed", [
    (True, True, Outcome.SUCCEEDED, ""),
    (False, True, Outcome.HAND_FAILED, "hand: azimuth 120 deg FAIL"),
    (True, False, Outcome.OBJECT_FAILED, "object: final x = +0.010 m FAIL"),
    (False, False, Outcome.BOTH_FAILED,
     "hand: azimuth 120 deg FAIL; object: final x = +0.010 m FAIL"),
])
def test_outcome_and_failed_reason(hand_ok, object_ok, outcome, failed):
    res = MetricResult("push_left_to_right", hand_ok, object_ok,
                       "azimuth 120 deg" + ("" if hand_ok else " FAIL"),
                       "final x = +0.010 m" + ("" if object_ok else " FAIL"))
    assert res.outcome is outcome and res.success == (outcome is Outcome.SUCCEEDED)
    assert res.failed_reason == failed
    d = res.to_dict()
    assert d["outcome"] == outcome.value and d["failed_reason"] == failed


def test_rollout_error_outcome():
    res = MetricResult("pick_up", True, True, "ok", "ok").failed("episode terminated at step 4")
    assert res.outcome is Outcome.ROLLOUT_ERROR
    assert res.failed_reason == "rollout error: episode terminated at step 4"
    assert res.to_dict()["outcome"] == "rollout error"
