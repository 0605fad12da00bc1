"""The ``real2sim`` command line: one CLI whose subcommands come from all packages.

Each package registers subcommands through the ``real2sim.commands`` entry-point group; the
entry point is a function ``register(subparsers)`` that adds its parser(s) and sets
``func=callable(args) -> int``. Errors the stack raises on purpose
(:class:`~real2sim_core.errors.Real2SimError`) are printed as one line, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from . import __version__
from .errors import Real2SimError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="real2sim",
        description="Real2Sim: from human videos to Panda skills "
        "(estimate -> train -> rollout -> execute).",
    )
    parser.add_argument("--version", action="version", version=f"real2sim {__version__}")
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except Real2SimError as e:
        print(f"real2sim {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"real2sim {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
