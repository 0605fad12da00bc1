"""Where a result came from: the git commit of the code that produced it.

Training runs record it in ``policy.json`` next to the exact command, so that a shipped policy
can be reproduced from its commit and command (``scripts/train_models.sh``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["MAX_DIRTY_PATHS", "git_revision"]

# how many modified paths a record lists (a regenerated results tree can touch hundreds)
MAX_DIRTY_PATHS = 50


def _git(args, cwd: Path) -> str | None:
    """stdout of ``git args`` in ``cwd`` with trailing whitespace removed (leading whitespace
    is meaningful in porcelain output), or None when git fails."""
    try:
        out = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                             timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.rstrip() if out.returncode == 0 else None


def git_revision(path=None) -> dict:
    """The git state of the checkout holding ``path`` (default: this package's source).

    Returns:
        ``{"commit": <40 hex>, "dirty": bool, "dirty_paths": [...]}`` where ``dirty`` says that
        tracked files differ from the commit and ``dirty_paths`` names them (the first
        ``MAX_DIRTY_PATHS``, repository-relative, sorted), so that a reader can tell a changed
        source file from a regenerated result; ``{"commit": None, "why": ...}`` outside a git
        checkout (an installed package) or without git.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    if where.is_file():
        where = where.parent
    sha = _git(["rev-parse", "HEAD"], where)
    if not sha:
        return {"commit": None, "why": f"{where} is not in a git checkout (or git is missing)"}
    status = _git(["-c", "core.quotePath=false", "status", "--porcelain",
                   "--untracked-files=no"], where)
    # porcelain v1: two status letters, a space, the path ("old -> new" for a rename)
    paths = sorted(line[3:].split(" -> ")[-1] for line in (status or "").splitlines() if line)
    return {"commit": sha, "dirty": bool(paths), "dirty_paths": paths[:MAX_DIRTY_PATHS]}
