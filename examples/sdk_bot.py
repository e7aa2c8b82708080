"""A bot written with the Python SDK (game.client): wins when it can, blocks when it must,
and otherwise prefers the middle of the board.

    python examples/sdk_bot.py ws://127.0.0.1:8000/ws [GAMES] [LEVEL]

plays GAMES (default 2) games of connect-four against the server's LEVEL bot (default
``easy``) and prints each result and the final score. The same class runs under the
command line runner too:

    game bot ws://127.0.0.1:8000/ws --bot examples/sdk_bot.py:GreedyBot --games 10 --queue
"""

from __future__ import annotations

import asyncio
import random
import sys

from game.client import Bot, GameResult, Score, View, VsBot, run_games
from game.rules import get_rules


class GreedyBot(Bot):
    name = "greedy-sdk"

    def choose(self, view: View) -> int:
        state = get_rules(view["game"]).replay(view["moves"])
        for seat in (view["you"], 1 - view["you"]):  # my win first, then block theirs
            wins = state.winning_moves(seat)
            if wins:
                return int(wins[0])
        cols = state.rules.cols

        def off_centre(move: int) -> float:
            return abs(move % cols - (cols - 1) / 2)

        best = min(off_centre(move) for move in view["legal"])
        return int(random.choice([m for m in view["legal"] if off_centre(m) == best]))

    def on_start(self, match: str, view: View) -> None:
        opponent = view["players"][1 - view["you"]]["name"]
        print(f"match {match}: I am seat {view['you']} against {opponent}")

    def on_end(self, match: str, view: View) -> None:
        print(f"match {match}: over, result {view['result']}")


def main() -> None:
    url = sys.argv[1]
    games = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    level = sys.argv[3] if len(sys.argv) > 3 else "easy"

    def report(index: int, result: GameResult, score: Score) -> None:
        print(f"game {index + 1}: {result.outcome} by {result.reason} -> {score}")

    score = asyncio.run(run_games(GreedyBot(), url, games=games, game="connect4",
                                  mode=VsBot(level), on_result=report))
    print(f"final: {score}")


if __name__ == "__main__":
    main()
