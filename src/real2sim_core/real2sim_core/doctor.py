"""``real2sim doctor``: which components are available here, and why not.

Exit code 0 when every *required* component works, 1 otherwise. Optional backends (pytorch3d,
detectron2, mediapipe, moveit_py, launch_ros, tf2_ros) are reported but never fail the check.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Check", "run_checks", "register", "CHECKS"]


@dataclass
class Check:
    name: str
    required: bool
    probe: Callable[[], str]  # returns a version/detail string, raises when unavailable
    hint: str = ""


def _version(module: str) -> Callable[[], str]:
    def probe():
        m = importlib.import_module(module)
        return str(getattr(m, "__version__", "") or "ok")

    return probe


def _torch() -> str:
    import torch

    v = torch.__version__
    if not v.startswith("2.13.0"):
        raise RuntimeError(f"torch {v} installed, the project pins 2.13.0")
    cuda = "yes" if torch.cuda.is_available() else "no"
    return f"{v}, {torch.get_num_threads()} threads, cuda={cuda}"


def _pybullet() -> str:
    import pybullet
    import pybullet_data

    cid = pybullet.connect(pybullet.DIRECT)
    try:
        path = os.path.join(pybullet_data.getDataPath(), "franka_panda", "panda.urdf")
        if not os.path.isfile(path):
            raise RuntimeError(f"pybullet_data has no {path}")
    finally:
        pybullet.disconnect(cid)
    return f"api {pybullet.getAPIVersion()}, franka_panda URDF present"


def _rclpy() -> str:
    from rclpy.utilities import get_rmw_implementation_identifier

    return f"rclpy ok, RMW {get_rmw_implementation_identifier()}"


def _interfaces() -> str:
    import real2sim_interfaces.action  # noqa: F401
    import real2sim_interfaces.msg
    import real2sim_interfaces.srv  # noqa: F401

    real2sim_interfaces.msg.StateTrajectory()
    return "msg, srv, action"


def _moveit() -> str:
    from moveit.planning import MoveItPy  # noqa: F401

    return "moveit_py"


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


CHECKS = [
    Check("numpy/scipy", True, _version("scipy")),
    Check("torch (CPU, pinned 2.13.0)", True, _torch, "run the setup: make setup"),
    Check("pybullet", True, _pybullet, "pip install pybullet"),
    Check("stable-baselines3", True, _version("stable_baselines3")),
    Check("gymnasium", True, _version("gymnasium")),
    Check("rclpy + RMW", True, _rclpy, "run the setup (installs ROS 2 Kilted wheels from PyPI)"),
    Check("real2sim_interfaces", True, _interfaces,
          "run the setup (colcon-builds src/real2sim_interfaces into .venv)"),
    Check("imageio-ffmpeg (MP4/GIF)", True, _ffmpeg),
    Check("rosbags (bag writing)", True, _version("rosbags")),
    Check("pytorch3d (renderer backend)", False, _version("pytorch3d"),
          "GPU machines / the Docker image; the built-in convex renderer is used otherwise"),
    Check("detectron2 (Mask R-CNN detector)", False, _version("detectron2"),
          "not on PyPI; use the Docker image or the precomputed/mediapipe backends"),
    Check("torchvision", False, _version("torchvision"), "no CPU wheel for torch 2.13 on PyPI"),
    Check("mediapipe (hand landmarker)", False, _version("mediapipe"),
          "pip install mediapipe; needs a local .task model file"),
    Check("moveit_py (MoveIt backend)", False, _moveit,
          "ROS 2 Jazzy with MoveIt (the Docker image)"),
    Check("launch_ros (ros2 launch)", False, _version("launch_ros"), "a ROS 2 distribution"),
    Check("tf2_ros (TF broadcasting)", False, _version("tf2_ros"), "a ROS 2 distribution"),
]


def run_checks(checks=None) -> list[tuple[Check, bool, str]]:
    """Run each probe; returns (check, ok, detail-or-reason) per component."""
    out = []
    for c in checks or CHECKS:
        try:
            detail = c.probe()
            out.append((c, True, detail))
        except Exception as e:  # noqa: BLE001 - the reason is the product here
            reason = f"{type(e).__name__}: {e}".splitlines()[0][:160]
            out.append((c, False, reason + (f"  [{c.hint}]" if c.hint else "")))
    return out


def _run(args) -> int:
    results = run_checks()
    width = max(len(c.name) for c, _, _ in results)
    print(f"real2sim doctor  (python {sys.version.split()[0]}, prefix {sys.prefix})")
    missing = []
    for c, ok, detail in results:
        tag = "ok     " if ok else ("MISSING" if c.required else "absent ")
        kind = "required" if c.required else "optional"
        print(f"  [{tag}] {c.name:<{width}}  {kind:<8}  {detail}")
        if c.required and not ok:
            missing.append(c.name)
    if missing:
        print(f"required component(s) missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    print("all required components available")
    return 0


def register(sub) -> None:
    p = sub.add_parser("doctor", help="report which components are available here and why not")
    p.set_defaults(func=_run)
