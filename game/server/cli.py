"""`game serve`: start the server."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="interface to bind (GAME_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (GAME_PORT, default 8000)")
    parser.add_argument("--db", help="SQLite file, or :memory: (GAME_DB; default in the user "
                                     "data dir)")


def run(args: argparse.Namespace) -> int:
    from game.server.run import serve
    from game.server.settings import Settings

    overrides = {key: value for key, value in
                 {"host": args.host, "port": args.port, "db": args.db}.items()
                 if value is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        sys.stderr.write(f"game serve: invalid settings\n{describe(exc)}\n")
        return 2
    serve(settings)
    return 0


def describe(exc: ValidationError) -> str:
    """One line per invalid setting, named as its environment variable."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        name = "GAME_" + "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "\n".join(lines)
