"""`mame` command: each pipeline stage as a subcommand, for use outside Snakemake.

Bad input ends with exit status 2 (usage) or 1 (a file that cannot be processed) and one line
saying why; tracebacks are for bugs, not for users' files. Each subcommand's parser sits beside its
handler, grouped as the library is: data_commands, model_commands, tool_commands.
"""

from __future__ import annotations

import argparse
import logging
import sys

from mame.cli import data_commands, model_commands, paint_commands, tool_commands

log = logging.getLogger("mame")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mame", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (data_commands, model_commands, paint_commands, tool_commands):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from mame.logs import quiet_library_notices

    quiet_library_notices()
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"mame {args.command}: {err}", file=sys.stderr)
        return 1
