"""The HTML report of a demo/pipeline run directory (see :mod:`real2sim_bringup.demo`)."""

from __future__ import annotations

import json
from pathlib import Path

from .report import ReportInputs, write_report

__all__ = ["write_pipeline_report"]

_MEDIA = (".gif", ".png", ".mp4", ".webm", ".jpg")


def _media(root: Path, sub: str) -> list[str]:
    d = root / sub
    if not d.is_dir():
        return [f"{sub}/ (no outputs)"]
    return [str(p.relative_to(root)) for p in sorted(d.rglob("*")) if p.suffix in _MEDIA]


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_pipeline_report(run_dir, summary: dict) -> Path:
    """Write ``<run_dir>/report.html`` from the run's artefacts and its summary dict."""
    run_dir = Path(run_dir)
    results = []
    for e in summary.get("estimates", []):
        est = _json(run_dir / "estimates" / e["video_id"] / "summary.json")
        row = {"fitted": e["success"], "message": e["message"]}
        for k in ("fit_ok", "phase", "timing", "final_losses"):
            if k in est:
                row[k] = est[k]
        results.append((f"Estimate of video {e['video_id']}", row))
    if "rollout" in summary:
        results.append(("Policy rollout (simulation)", summary["rollout"]))
    if "execution" in summary:
        ex = dict(summary["execution"])
        ex.update({k: v for k, v in _json(run_dir / "execution" / "summary.json").items()
                   if k in ("ik", "limits", "action_check", "gripper_commands")})
        results.append(("Execution on the simulated Panda", ex))
    if "bag_topics" in summary:
        results.append(("Recorded topics (rosbag2 MCAP: bag/)", summary["bag_topics"]))
    inputs = ReportInputs(
        title=f"Real2Sim run: {summary.get('action', '')}",
        action=summary.get("action", ""),
        sections=[("Estimates: rendered silhouettes over input masks, top views",
                   _media(run_dir, "estimates")),
                  ("Policy rollout", _media(run_dir, "rollout")),
                  ("Executed Panda motion", _media(run_dir, "execution"))],
        results=results,
        notes=[f"videos: {', '.join(summary.get('videos', []))}",
               f"wall time: {summary.get('wall_time_s', '?')} s",
               f"ROS_DOMAIN_ID {summary.get('ros_domain_id', '?')}"],
    )
    return write_report(inputs, run_dir / "report.html")
