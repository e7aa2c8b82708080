"""Command line: `game serve`, `game bot`, `game watch`, `game loadtest`, `game backup`.

Each sub-command lives in its own module exposing `add_arguments(parser)` and
`run(args) -> int`, imported only when that sub-command is used.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "serve": ("game.server.cli", "run the server (every setting also from GAME_*)"),
    "bot": ("game.client.cli", "run a bot against a server for N games"),
    "watch": ("game.client.watch", "watch live matches from a terminal"),
    "loadtest": ("game.loadtest.cli", "load-test a server: throughput, latency, memory"),
    "backup": ("game.server.backup", "copy the SQLite database safely while the server runs"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="game", description="Turn-based game server")
    commands = parser.add_subparsers(dest="command", required=True)
    wanted = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        if name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
