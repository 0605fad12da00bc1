"""Reading and writing the stack's text files with errors a user can act on.

Every CSV/JSON/YAML the stack reads (state CSVs, annotations, plans, configs, start states,
policy metadata) goes through :func:`read_text`, so a binary or non-UTF-8 file is refused with
one line naming the file and the offending byte instead of a ``UnicodeDecodeError`` traceback.
:func:`check_writable_dir` and :func:`check_writable_file` let a command check its ``--out``
before it spends minutes computing what it cannot write.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import InputError

__all__ = ["read_text", "read_json", "check_writable_dir", "check_writable_file"]


def read_text(path, what: str = "file", error: type[InputError] = InputError) -> str:
    """The content of a UTF-8 text file (a UTF-8 byte-order mark is accepted).

    Args:
        path: the file.
        what: what the file should be, for the message (e.g. ``"state CSV"``).
        error: the :class:`~real2sim_core.errors.InputError` subclass to raise.

    Raises:
        error: the file is missing or unreadable, holds NUL bytes (a binary file) or is not
            valid UTF-8; the message names the file, the byte offset and what to pass.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder; pass the {what} itself") from None
    except OSError as e:
        raise error(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise error(f"{path}: binary data (a NUL byte at offset {nul}), not a text {what}; "
                    f"pass the {what} as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start:e.start + 1].hex()
        raise error(f"{path}: not UTF-8 text (byte 0x{bad} at offset {e.start}); save the "
                    f"{what} as UTF-8 and pass it again") from None


def read_json(path, what: str = "JSON file", error: type[InputError] = InputError):
    """Parse a UTF-8 JSON file; refuses binary/non-UTF-8 content and invalid JSON with the
    file, line and column (see :func:`read_text`)."""
    text = read_text(path, what, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
                    f"pass a {what}") from None


def check_writable_dir(path, what: str = "--out") -> Path:
    """Create folder ``path`` (with its parents) and prove a file can be written in it.

    Call it before a long computation whose results go there.

    Raises:
        InputError: the folder cannot be created or written (names the folder, the reason
            and what to do).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write_probe_", dir=path)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise InputError(f"{what} {path}: a file of that name exists where a folder is "
                         "needed; pass a folder path") from None
    except OSError as e:
        raise InputError(f"{what} {path}: cannot write there ({e.strerror or e}); pass a "
                         "folder you can write to") from None
    return path


def check_writable_file(path, what: str = "--out") -> Path:
    """Check that file ``path`` can be written (its folder is created); nothing is left behind
    when the file did not exist.

    Raises:
        InputError: the file's folder cannot be created/written, or the path is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {path}: is a folder; pass a file path")
    check_writable_dir(path.parent, what=f"{what} {path}: its folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{what} {path}: the file exists and is not writable; pass another "
                         "file or change its permissions")
    return path
