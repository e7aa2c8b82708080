"""Command line: `game serve`, `game bot`, `game loadtest`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _serve(args: argparse.Namespace) -> int:
    from game.server.run import serve
    from game.server.settings import Settings

    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "db": args.db}.items()
                 if v is not None}
    serve(Settings(**overrides))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="game", description="Turn-based game server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (settings also from GAME_*)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--db", help="SQLite file, or :memory: (default: GAME_DB or a user dir)")
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
