"""The ``real2sim`` command line: one CLI whose subcommands come from all packages.

Each package registers subcommands through the ``real2sim.commands`` entry-point group; the
entry point is a function ``register(subparsers)`` that adds its parser(s) and sets
``func=callable(args) -> int``. Errors the stack raises on purpose
(:class:`~real2sim_core.errors.Real2SimError`) are printed as one line, exit code 2; a file
that cannot be read or written (``OSError``) also gets one line, exit code 2; any other
exception prints one line with its type and message and a hint, exit code 1. ``--debug`` (or
the environment variable ``REAL2SIM_DEBUG=1``) prints the full traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from importlib.metadata import entry_points

from . import __version__
from .errors import Real2SimError

__all__ = ["main", "build_parser", "DEBUG_ENV"]

DEBUG_ENV = "REAL2SIM_DEBUG"
"""Environment variable: set to 1 to get tracebacks instead of one-line errors."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="real2sim",
        description="Real2Sim: from human videos to Panda skills "
        "(estimate -> train -> rollout -> execute).",
    )
    parser.add_argument("--version", action="version", version=f"real2sim {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"print the full traceback of an error (also: {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    eps = sorted(entry_points(group="real2sim.commands"), key=lambda e: e.name)
    for ep in eps:
        try:
            register = ep.load()
        except Exception as e:  # noqa: BLE001 - a broken plugin must not hide the others
            p = sub.add_parser(ep.name, help=f"(unavailable: {type(e).__name__}: {e})")
            p.set_defaults(func=_unavailable(ep.name, e))
            continue
        register(sub)
    return parser


def _unavailable(name, err):
    def run(_args):
        print(f"real2sim {name}: cannot load this command ({type(err).__name__}: {err}); "
              "run `real2sim doctor` and re-run the setup (make setup).", file=sys.stderr)
        return 2

    return run


def _debug_wanted(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in (
        "", "0", "false", "no")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = _debug_wanted(args)
    name = f"real2sim {args.command}"
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Real2SimError as e:
        if debug:
            traceback.print_exc()
        print(f"{name}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:  # a file the command reads or writes: say which and why
        if debug:
            traceback.print_exc()
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"{name}: error: {where}{e.strerror or _one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug, not bad input: short message + hint
        if debug:
            traceback.print_exc()
        print(f"{name}: internal error: {type(e).__name__}: {_one_line(e)[:300]} (this is a "
              f"bug, not your input: re-run with --debug or {DEBUG_ENV}=1 for the traceback "
              "and report it)", file=sys.stderr)
        return 1
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
