"""Test-only ROS interface packages: the upstream ``franka_msgs``, ``control_msgs`` and
``tf2_msgs`` definitions the executor talks to (``tests/fixtures/ros_interfaces``, see its
README), built by colcon into ``build/test_interfaces/install`` -- never into ``.venv``, never
shipped. The build is cached: it reruns only when a file of the fixtures changes (about 40 s on
the 2-core CI machine, 0 s afterwards).

:func:`interface_env` returns the environment a subprocess needs to import them (for the
executor node under test); :func:`import_path` does the same for this process.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "tests" / "fixtures" / "ros_interfaces"
BUILD = REPO / "build" / "test_interfaces"
INSTALL = BUILD / "install"
PACKAGES = ("franka_msgs", "control_msgs", "tf2_msgs")


def _hash() -> str:
    h = hashlib.sha256()
    for p in sorted(SOURCES.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(SOURCES)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _site_packages() -> Path:
    rel = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    return INSTALL / rel


def build() -> Path:
    """Build the fixtures (once per change of their files); returns the install prefix.
    Concurrent test processes wait for one build (a lock file)."""
    import fcntl

    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked()


def _build_locked() -> Path:
    stamp = BUILD / ".stamp"
    want = _hash()
    if stamp.is_file() and stamp.read_text() == want and _site_packages().is_dir():
        return INSTALL
    venv = Path(sys.prefix)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
               AMENT_PREFIX_PATH=str(venv), CMAKE_PREFIX_PATH=str(venv))
    BUILD.mkdir(parents=True, exist_ok=True)
    cmd = [str(venv / "bin" / "colcon"), "--log-base", str(BUILD / "log"), "build",
           "--base-paths", str(SOURCES), "--build-base", str(BUILD / "build"),
           "--install-base", str(INSTALL), "--merge-install",
           "--cmake-args", f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF",
           "--event-handlers", "console_stderr-", "status-"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=BUILD)
    if res.returncode != 0:
        raise RuntimeError(f"colcon build of the test interfaces failed:\n{res.stdout[-4000:]}"
                           f"\n{res.stderr[-4000:]}")
    stamp.write_text(want)
    return INSTALL


def interface_env(base: dict | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) plus the paths that make the fixtures importable."""
    build()
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_site_packages()), *filter(None, [env.get("PYTHONPATH")])])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        [str(INSTALL / "lib"), *filter(None, [env.get("LD_LIBRARY_PATH")])])
    return env


def import_path() -> None:
    """Make the fixtures importable in this process (their C libraries are found through the
    ``RPATH``-free typesupport modules via ``LD_LIBRARY_PATH``, so preload them)."""
    build()
    import ctypes

    sp = str(_site_packages())
    if sp not in sys.path:
        sys.path.insert(0, sp)
    for pkg in PACKAGES:
        for lib in sorted((INSTALL / "lib").glob(f"lib{pkg}__*.so")):
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
