"""Where a result came from: the git commit of the code that produced it.

Training runs record it in ``policy.json`` next to the exact command, so that a shipped policy
can be reproduced from its commit and command (``scripts/train_models.sh``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["git_revision"]


def _git(args, cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                             timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_revision(path=None) -> dict:
    """The git state of the checkout holding ``path`` (default: this package's source).

    Returns:
        ``{"commit": <40 hex>, "dirty": bool}`` where ``dirty`` says that tracked files differ
        from the commit; ``{"commit": None, "why": ...}`` outside a git checkout (an installed
        package) or without git.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    if where.is_file():
        where = where.parent
    sha = _git(["rev-parse", "HEAD"], where)
    if not sha:
        return {"commit": None, "why": f"{where} is not in a git checkout (or git is missing)"}
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return {"commit": sha, "dirty": bool(status)}
