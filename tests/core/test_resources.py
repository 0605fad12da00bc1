"""The repository stands on its own: data, configs and models are found inside it (or in an
installed share directory), nothing reads a folder beside the checkout."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from real2sim_core.errors import InputError

from real2sim_core import resources
from tests.conftest import OUTSIDE_OPENS, REPO, outside_repo


def test_bundled_data_is_inside_the_repository():
    data = resources.data_dir()
    assert data.resolve() == (REPO / "data").resolve()
    for rel in ("benchmark/benchmark_easy.csv", "benchmark/benchmark_hard.csv",
                "something_else/annotations.json", "something_else/videos.csv", "README.md"):
        assert (data / rel).is_file(), rel
    with open(data / "benchmark" / "benchmark_hard.csv") as f:
        assert sum(1 for _ in f) == 1001  # header + the paper's 1000 start states


def test_benchmark_specs_resolve_to_bundled_files():
    from real2sim_policy.benchmark import resolve_spec

    for spec in ("easy", "hard"):
        p = resolve_spec(spec)
        assert p.is_relative_to(REPO / "data"), p


def test_environment_override_and_clear_error(tmp_path, monkeypatch):
    (tmp_path / "benchmark").mkdir()
    (tmp_path / "benchmark" / "benchmark_easy.csv").write_text("hazi\n0\n")
    monkeypatch.setenv("REAL2SIM_DATA", str(tmp_path))
    assert resources.data_dir() == tmp_path
    assert resources.resource_file("data", "benchmark", "benchmark_easy.csv").is_file()
    with pytest.raises(InputError, match=r"benchmark_hard\.csv not found in .*REAL2SIM_DATA"):
        resources.resource_file("data", "benchmark", "benchmark_hard.csv")
    monkeypatch.setenv("REAL2SIM_DATA", str(tmp_path / "missing"))
    with pytest.raises(InputError, match="cannot find the data/ directory.*REAL2SIM_DATA"):
        resources.data_dir()


def test_installed_share_directory_is_used_without_a_source_checkout(tmp_path, monkeypatch):
    share = tmp_path / "share" / "real2sim_core"
    for kind in resources.RESOURCE_KINDS:
        (share / kind).mkdir(parents=True)
    monkeypatch.setattr(resources, "source_root", lambda: None)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    for kind in resources.RESOURCE_KINDS:
        monkeypatch.delenv(resources.RESOURCE_KINDS[kind], raising=False)
        assert resources.resource_dir(kind) == share / kind


def test_setup_installs_every_resource_into_share():
    out = subprocess.run([sys.executable, "-c", (
        "import runpy, setuptools, sys; captured = {}\n"
        "setuptools.setup = lambda **kw: captured.update(kw)\n"
        "sys.argv = ['setup.py']\n"
        "runpy.run_path('setup.py', run_name='__main__')\n"
        "print('\\n'.join(d for d, _ in captured['data_files']))")],
        cwd=REPO / "src" / "real2sim_core", capture_output=True, text=True, check=True)
    dirs = set(out.stdout.split())
    for needed in ("share/real2sim_core/data/benchmark", "share/real2sim_core/data/something_else",
                   "share/real2sim_core/config", "share/real2sim_core/examples/push_left_to_right",
                   "share/real2sim_core/models/push_left_to_right"):
        assert needed in dirs, (needed, sorted(dirs))


def test_the_guard_sees_a_sibling_folder(tmp_path, monkeypatch):
    import tests.conftest as guard

    monkeypatch.setattr(guard, "_PRE_EXISTING",
                        guard._PRE_EXISTING | {"__real2sim_guard_probe__.txt"})
    repo = tmp_path / "clone"
    assert outside_repo(tmp_path / "sibling" / "data" / "x.csv", repo)
    assert outside_repo(str(repo) + "_other/file", repo)
    assert not outside_repo(repo / "data" / "x.csv", repo)
    assert not outside_repo("/usr/lib/python3/x.py", repo)
    before = len(OUTSIDE_OPENS)
    probe = REPO.parent / "__real2sim_guard_probe__.txt"
    try:
        open(probe).close()  # noqa: SIM115 - the open itself is what is audited
    except OSError:
        pass
    assert len(OUTSIDE_OPENS) == before + 1 and "__real2sim_guard_probe__" in OUTSIDE_OPENS[-1]
    del OUTSIDE_OPENS[before:]  # the probe is this test's own, not a violation


_SIBLING = re.compile(r"\.\./shared|\"shared\"\s*/|parent\s*/\s*\"shared|shared/data|"
                      r"\.\./\.\./\.\./shared")


def test_no_file_refers_to_a_folder_beside_the_checkout():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    files = tracked.stdout.split() if tracked.returncode == 0 else [
        str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file()]
    offenders = []
    for rel in files:
        if not rel.endswith((".py", ".sh", ".md", ".yaml", ".toml", ".cfg", ".txt", ".xml",
                             "Makefile", "Dockerfile", "run")) or rel.startswith("data/"):
            continue
        if rel == "tests/core/test_resources.py":
            continue
        text = (REPO / rel).read_text(errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            if _SIBLING.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_non_editable_install_finds_its_resources(tmp_path):
    """A real (non-editable) build of real2sim_core, installed into a fresh prefix, finds the
    data, configs, models and examples in its own share directory, not in this checkout."""
    prefix = tmp_path / "prefix"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-compile", "--ignore-installed",
                    "--prefix", str(prefix),
                    str(REPO / "src" / "real2sim_core")], check=True, capture_output=True)
    site = next(prefix.glob("lib/python*/site-packages"))
    code = ("from real2sim_core import resources as r\n"
            "print(r.source_root())\n"
            "for k in r.RESOURCE_KINDS: print(r.resource_dir(k))\n"
            "from real2sim_core.config import config_dir; print(config_dir())")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in resources.RESOURCE_KINDS.values()}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "None"
    share = prefix / "share" / "real2sim_core"
    assert out[1:] == [str(share / k) for k in resources.RESOURCE_KINDS] + [str(share / "config")]
    assert (share / "data" / "benchmark" / "benchmark_hard.csv").is_file()
    assert (share / "models" / "push_left_to_right" / "policy.zip").is_file()
