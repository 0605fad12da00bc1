"""An installed (non-editable) build finds its configs, models and data without the checkout.

The five Python packages are built from src/ and installed, not in editable mode, into a fresh
virtual environment in a temporary folder; its third-party dependencies come from the project's
environment through a path entry (a plain ``.pth`` line: the project's editable installs there
are not activated). Python then runs in that environment, in a folder outside the checkout, with
no ``REAL2SIM_*`` override: every package must be imported from the environment and every
resource found in its ``share/`` directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from real2sim_core import resources
from tests.conftest import REPO

PACKAGES = ("real2sim_core", "real2sim_perception", "real2sim_policy", "panda_executor",
            "real2sim_bringup")

PROBE = r"""
import json, sys
from pathlib import Path
import real2sim_core, real2sim_perception, real2sim_policy, panda_executor, real2sim_bringup
from real2sim_core import resources
from real2sim_core.config import config_dir
from panda_executor.config import load_executor_config
from real2sim_perception.config import load_perception_config
from real2sim_policy.benchmark import resolve_spec
from real2sim_policy.config import load_policy_config
from real2sim_bringup import launch_common

out = {
    "modules": {m.__name__: m.__file__ for m in (real2sim_core, real2sim_perception,
                real2sim_policy, panda_executor, real2sim_bringup, launch_common)},
    "source_root": str(resources.source_root()),
    "dirs": {k: str(resources.resource_dir(k)) for k in resources.RESOURCE_KINDS},
    "config_dir": str(config_dir()),
    "easy": str(resolve_spec("easy")),
    "model": str(resources.resource_file("models", "push_left_to_right", "policy.zip")),
    "executor_backend": load_executor_config("executor.yaml").backend,
    "perception": type(load_perception_config()).__name__,
    "policy": type(load_policy_config()).__name__,
}
print(json.dumps(out))
"""


def _make_env(root: Path) -> Path:
    """A bare venv whose site-packages also sees the project's third-party packages."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    py = root / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    deps = Path(sysconfig.get_paths()["purelib"])
    (Path(site.stdout.strip()) / "project_deps.pth").write_text(f"{deps}\n")
    return py


def test_installed_packages_find_configs_models_and_data(tmp_path):
    env = tmp_path / "venv"
    py = _make_env(env)
    # setuptools builds in each source folder (src/<pkg>/build/): remove what this test made
    made = [d for d in (REPO / "src" / p / "build" for p in PACKAGES) if not d.exists()]
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--no-build-isolation", "--no-compile", "--ignore-installed",
                        "--prefix", str(env), *[str(REPO / "src" / p) for p in PACKAGES]],
                       check=True, capture_output=True, cwd=tmp_path)
    finally:
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
    run_env = {k: v for k, v in os.environ.items()
               if k not in resources.RESOURCE_KINDS.values() and k != "PYTHONPATH"}
    work = tmp_path / "elsewhere"
    work.mkdir()
    res = subprocess.run([str(py), "-c", PROBE], cwd=work, env=run_env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    for name, file in got["modules"].items():
        assert Path(file).is_relative_to(env), f"{name} imported from {file}, not the install"
    assert got["source_root"] == "None"
    share = env / "share" / "real2sim_core"
    assert got["dirs"] == {k: str(share / k) for k in resources.RESOURCE_KINDS}
    assert got["config_dir"] == str(share / "config")
    assert got["easy"] == str(share / "data" / "benchmark" / "benchmark_easy.csv")
    assert got["model"] == str(share / "models" / "push_left_to_right" / "policy.zip")
    assert got["executor_backend"] == "sim"
    assert (got["perception"], got["policy"]) == ("PerceptionConfig", "PolicyPackageConfig")
    bringup = env / "share" / "real2sim_bringup"
    for rel in ("launch/sim_demo.launch.py", "launch/gazebo_demo.launch.py",
                "launch/panda_real.launch.py", "config/executor.yaml", "config/real2sim.rviz"):
        assert (bringup / rel).is_file(), rel
