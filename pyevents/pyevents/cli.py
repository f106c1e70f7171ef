"""The ``pyevents`` command line (``python3 -m pyevents`` or the ``pyevents`` script).

Subcommands:

``keygen DIR NAME [--force]``
    write a CURVE key pair as ZeroMQ certificate files ``DIR/NAME.key``
    (public: give it to the application) and ``DIR/NAME.key_secret`` (both
    keys: keep it private, mode 0600), and print the public key and both
    paths.  See docs/security.md.

A subcommand is an ``_add_<name>(subparsers)`` function, listed in
:data:`_SUBCOMMANDS`, that adds its parser and sets ``command`` to a function
``(args) -> exit status``.  :func:`main` returns the exit status: 0 success,
1 failure (the reason on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional, Sequence, Tuple

from .security import write_certificates

__all__ = ["main", "build_parser"]

_SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _cmd_keygen(args: argparse.Namespace) -> int:
    try:
        public_key, public_file, secret_file = write_certificates(args.dir, args.name, overwrite=args.force)
    except FileExistsError:
        raise
    except OSError as e:
        raise OSError(f"cannot write the key files in {args.dir!r}: {e.strerror or e}") from None
    sys.stdout.write(
        f"public key:  {public_key}\n"
        f"public file: {public_file}  (give it to the application)\n"
        f"secret file: {secret_file}  (keep it private)\n"
    )
    return 0


def _add_keygen(subparsers: _SubParsers) -> None:  # type: ignore[valid-type]
    parser = subparsers.add_parser(  # type: ignore[attr-defined]
        "keygen",
        help="write a CURVE key pair as ZeroMQ certificate files",
        description="Write a new CURVE key pair as ZeroMQ certificate files: DIR/NAME.key (the public key; "
                    "give it to the application) and DIR/NAME.key_secret (both keys; keep it private). Make one "
                    "pair for the application and one per plugin; a plugin then runs with "
                    "EVENT_ENGINE_SERVER_KEY=DIR/APP.key EVENT_ENGINE_CLIENT_KEY=DIR/NAME.key_secret "
                    "(docs/security.md).",
    )
    parser.add_argument("dir", metavar="DIR", help="directory for the two files (created if missing)")
    parser.add_argument("name", metavar="NAME", help="base name of the files, e.g. engine or pyplugin")
    parser.add_argument("--force", action="store_true", help="replace existing key files of that name")
    parser.set_defaults(command=_cmd_keygen)


#: Every subcommand, in the order ``--help`` lists them.
_SUBCOMMANDS: Tuple[Callable[..., None], ...] = (_add_keygen,)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="pyevents",
        description="Tools for event_engine applications and their external plugins.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command_name")
    subparsers.required = True
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    try:
        return int(args.command(args))
    except ValueError as e:  # a bad argument value
        parser.error(f"{args.command_name}: {e}")  # exits with status 2
    except (OSError, RuntimeError) as e:
        sys.stderr.write(f"pyevents {args.command_name}: error: {e}\n")
        return 1
    return 2  # not reached: parser.error() exits
