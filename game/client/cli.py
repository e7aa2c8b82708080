"""`game bot`: play N games with a bot against a server, with a running score.

    game bot ws://127.0.0.1:8000/ws --bot hard --games 10 --vs-bot medium
    game bot ws://127.0.0.1:8000/ws --bot mybots.py:Greedy --games 5 --queue
    game bot ws://127.0.0.1:8000/ws --bot random --games 3 --room ABC123
    game bot ws://127.0.0.1:8000/ws --bot mybots.py:Greedy --ladder

`--ladder` plays rated quick matches as a bot program until stopped (Ctrl-C), with
the rating after each game (see game.client.ladder).

`--bot` is a built-in level (random, easy, medium, hard), run locally, or
`module:Class` / `path/to/file.py:Class` naming a :class:`game.client.Bot` subclass.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from game.client.bot import Bot, GameResult, Mode, QuickMatch, RoomCode, Score, VsBot, run_games
from game.client.errors import ClientClosed, ServerError

BUILTIN_LEVELS = ("random", "easy", "medium", "hard")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the server's WebSocket endpoint, e.g. ws://127.0.0.1:8000/ws")
    parser.add_argument("--bot", default="random",
                        help="random|easy|medium|hard (built-in, run locally) or "
                             "module:Class or file.py:Class (default: random)")
    parser.add_argument("--games", type=int, default=None,
                        help="how many games (default 1; with --ladder: until stopped)")
    parser.add_argument("--game", default="connect4", help="tictactoe or connect4 (default)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--queue", action="store_true",
                      help="quick match against the next player waiting (the default)")
    mode.add_argument("--room", metavar="CODE",
                      help="join this private room ('new' opens one and prints its code); "
                           "later games are rematches")
    mode.add_argument("--vs-bot", metavar="LEVEL", choices=BUILTIN_LEVELS,
                      help="play the server's built-in bot at LEVEL")
    mode.add_argument("--ladder", action="store_true",
                      help="rated quick matches as a bot program, again and again until "
                           "stopped (Ctrl-C: after this game; twice: resign it)")
    parser.add_argument("--codec", choices=("json", "msgpack"), default="json")
    parser.add_argument("--name", help="player name (default: the bot's)")
    parser.add_argument("--time-budget", type=float, default=1.0,
                        help="seconds per move for the built-in hard bot (default 1)")


def load_bot(spec: str, time_budget: float | None = None) -> Bot:
    """A bot from `--bot`: a built-in level, `module:Class` or `file.py:Class`."""
    if spec in BUILTIN_LEVELS:
        from game.client.builtin import BuiltinBot

        return BuiltinBot(spec, time_budget=time_budget)
    where, _, attr = spec.partition(":")
    if not where or not attr:
        raise ValueError(f"--bot {spec!r}: expected a level ({', '.join(BUILTIN_LEVELS)}) "
                         "or module:Class")
    if where.endswith(".py"):
        path = Path(where).resolve()
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"cannot load {where}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")
        module = importlib.import_module(where)
    target: Any = getattr(module, attr)
    bot = target() if isinstance(target, type) else target
    if not callable(getattr(bot, "choose", None)):
        raise ValueError(f"{spec} has no choose(view) method")
    if not isinstance(bot, Bot):
        raise ValueError(f"{spec} is not a game.client.Bot")
    return bot


def _mode(args: argparse.Namespace) -> Mode:
    if args.vs_bot:
        return VsBot(args.vs_bot)
    if args.room:
        return RoomCode(None if args.room.lower() == "new" else args.room)
    return QuickMatch()


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(highlight=False, soft_wrap=True)
    try:
        bot = load_bot(args.bot, args.time_budget)
    except (ImportError, AttributeError, ValueError, OSError) as exc:
        console.print(f"error: {exc}", style="red")
        return 2
    if args.games is not None and args.games < 1:
        console.print("error: --games must be at least 1", style="red")
        return 2
    if args.ladder:
        from game.client.ladder import run_ladder

        return run_ladder(args, bot, console)
    args.games = args.games or 1
    mode = _mode(args)
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[score]}"), TimeElapsedColumn(), console=console,
    )
    task = progress.add_task("connecting", total=args.games, score=str(Score()))

    def on_status(text: str) -> None:
        progress.update(task, description=text)
        if text.startswith("room "):
            progress.console.print(text)

    def on_result(index: int, result: GameResult, score: Score) -> None:
        how = "" if result.reason == "draw" else f" by {result.reason}"
        progress.console.print(
            f"game {index + 1}/{args.games}: {result.outcome}{how} as seat {result.seat} "
            f"in {len(result.moves)} moves vs {result.opponent}")
        progress.update(task, advance=1, score=str(score))

    score = Score()

    async def main() -> Score:
        return await run_games(
            bot, args.url, games=args.games, game=args.game, mode=mode, codec=args.codec,
            name=args.name, on_result=on_result, on_status=on_status, score=score,
        )

    code = 0
    with progress:
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            code = 130
        except (OSError, ClientClosed, ServerError, TimeoutError) as exc:
            progress.console.print(f"error: {type(exc).__name__}: {exc}", style="red")
            code = 1
        progress.update(task, description="done" if code == 0 else "stopped")
    console.print(f"Final score after {score.played} of {args.games} games: {score}")
    return code

