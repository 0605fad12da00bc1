"""The ``real2sim`` entry point turns every error into one line and an exit code (traceback only
with --debug / REAL2SIM_DEBUG=1), and the text readers refuse binary and non-UTF-8 files."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from real2sim_core.errors import InputError, TrajectoryFormatError
from real2sim_core.textio import check_writable_dir, check_writable_file, read_json, read_text
from real2sim_core.trajectory import StateTrajectory

from real2sim_core import cli


def _parser_raising(exc):
    def build():
        p = argparse.ArgumentParser(prog="real2sim")
        p.add_argument("--debug", action="store_true")
        sub = p.add_subparsers(dest="command")
        c = sub.add_parser("boom")

        def run(_args):
            raise exc

        c.set_defaults(func=run)
        return p

    return build


@pytest.mark.parametrize("exc, rc, expected", [
    (InputError("bad thing\n  on two lines"), 2, "real2sim boom: error: bad thing on two lines"),
    (FileNotFoundError(2, "No such file or directory", "/x/y.csv"), 2,
     "real2sim boom: error: /x/y.csv: No such file or directory"),
    (RuntimeError("kaputt"), 1, "real2sim boom: internal error: RuntimeError: kaputt (this is a "
                                "bug, not your input: re-run with --debug or REAL2SIM_DEBUG=1"),
    (ZeroDivisionError(), 1, "internal error: ZeroDivisionError: ZeroDivisionError"),
])
def test_errors_become_one_line(monkeypatch, capsys, exc, rc, expected):
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    assert cli.main(["boom"]) == rc
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_debug_flag_and_env_print_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(cli, "build_parser", _parser_raising(RuntimeError("kaputt")))
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert cli.main(["--debug", "boom"]) == 1
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert cli.main(["boom"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_real_cli_on_a_binary_state_csv_prints_one_line(tmp_path):
    bad = tmp_path / "states.csv"
    bad.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")  # a zip renamed to .csv
    exe = Path(sys.executable).with_name("real2sim")
    r = subprocess.run([str(exe), "evaluate-states", "--action", "push_left_to_right",
                        str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert f"{bad}: binary data (a NUL byte at offset 5), not a text state CSV" in r.stderr


def test_state_csv_in_latin1_is_named(tmp_path):
    p = tmp_path / "states.csv"
    p.write_bytes("# video_id: caf\u00e9\ncdis,cazi\n".encode("latin-1"))
    with pytest.raises(TrajectoryFormatError, match=r"states.csv: not UTF-8 text \(byte 0xe9 at "
                                                    r"offset 15\)"):
        StateTrajectory.from_csv(p)


def test_text_readers(tmp_path):
    p = tmp_path / "a.json"
    p.write_bytes(b"\xef\xbb\xbf" + '{"a": "\u00e9"}'.encode())  # UTF-8 with a BOM: fine
    assert read_json(p) == {"a": "\u00e9"}
    with pytest.raises(InputError, match="no such plan file"):
        read_text(tmp_path / "missing.json", "plan file")
    with pytest.raises(InputError, match="is a folder; pass the plan file itself"):
        read_text(tmp_path, "plan file")
    p.write_text('{"a": 1,}')
    with pytest.raises(InputError, match=r"not valid JSON \(Expecting property name enclosed in "
                                         r"double quotes at line 1, column 9\)"):
        read_json(p)


def test_writable_checks(tmp_path):
    assert check_writable_dir(tmp_path / "new" / "deeper").is_dir()
    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write there"):
        check_writable_dir(blocker / "out")
    with pytest.raises(InputError, match="is a folder; pass a file path"):
        check_writable_file(tmp_path)
    assert check_writable_file(tmp_path / "new" / "plan.json") == tmp_path / "new" / "plan.json"
    assert not (tmp_path / "new" / "plan.json").exists()
