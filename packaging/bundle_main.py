"""Entry point of the PyInstaller bundle: the `gic` command line, opening the viewer by default.

A bundle is started by a double-click (no arguments) or by a file manager handing it a file
(`gic FILE.gic`), so both cases mean `gic view [FILE]`; anything else is the ordinary command line.
"""
from __future__ import annotations

import sys


def bundle_argv(argv: list[str], commands: set[str]) -> list[str]:
    """The argv the bundle hands to `gic`: `view` added when no subcommand is named."""
    if not argv:
        return ["view"]
    first = argv[0]
    if first in commands or first.startswith("-"):
        return argv
    return ["view", *argv]  # a file to open (Windows/Linux file association, `open -a` on macOS)


def main() -> int:
    from gic.cli import main as cli

    parser = cli.build_parser([])
    commands = set()
    for action in parser._subparsers._group_actions:  # noqa: SLF001 - argparse keeps them here
        commands.update(getattr(action, "choices", {}) or {})
    return cli.main(bundle_argv(sys.argv[1:], commands))


if __name__ == "__main__":
    sys.exit(main())
