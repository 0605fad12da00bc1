"""git_revision: the commit, whether tracked files differ, and which."""

import shutil
import subprocess

import pytest
from real2sim_core.provenance import MAX_DIRTY_PATHS, git_revision

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "r.json").write_text("{}\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    return tmp_path


def test_a_clean_checkout_records_its_commit_and_no_changed_path(repo):
    rev = git_revision(repo / "src" / "a.py")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert rev == {"commit": head, "dirty": False, "dirty_paths": []}


def test_changed_tracked_files_are_named_untracked_ones_are_not(repo):
    (repo / "results" / "r.json").write_text('{"rate": 0.5}\n')
    (repo / "src" / "a.py").write_text("x = 2\n")
    (repo / "src" / "new.py").write_text("untracked\n")
    rev = git_revision(repo)
    assert rev["dirty"] is True
    assert rev["dirty_paths"] == ["results/r.json", "src/a.py"]


def test_the_list_is_bounded(repo):
    for i in range(MAX_DIRTY_PATHS + 5):
        (repo / "results" / f"f{i:03d}.txt").write_text("a\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "many")
    for i in range(MAX_DIRTY_PATHS + 5):
        (repo / "results" / f"f{i:03d}.txt").write_text("b\n")
    rev = git_revision(repo)
    assert rev["dirty"] is True and len(rev["dirty_paths"]) == MAX_DIRTY_PATHS


def test_outside_a_checkout_it_says_why(tmp_path):
    rev = git_revision(tmp_path)
    assert rev["commit"] is None and str(tmp_path) in rev["why"]
