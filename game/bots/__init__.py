"""Built-in bots for every game in :mod:`game.rules`, from ``random`` to ``hard``.

>>> from game.bots import get_bot, choose_move
>>> from game.rules import get_rules
>>> bot = get_bot("tictactoe", "hard", seed=1)
>>> bot.choose(get_rules("tictactoe").replay([0, 4, 8])) in (1, 3, 5, 7)  # a corner loses
True
>>> choose_move("connect4", "medium", [3, 2, 3, 2, 3], seed=7)  # block the column
3

Levels (:data:`LEVELS`): ``random`` plays uniformly at random; ``easy`` wins in one
and sometimes blocks; ``medium`` always wins in one and blocks the opponent's win in
one; ``hard`` is perfect at tic-tac-toe and, at connect-four, exact when the position
can be solved within its time budget and a deep heuristic search otherwise.

Importing this package is cheap: the engines are pure Python and build their tables on
first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from game.bots.base import DEFAULT_TIME_BUDGET, LEVELS, Bot, UnknownLevel
from game.rules import Connect4State, State, TicTacToeState, get_rules

__all__ = [
    "DEFAULT_TIME_BUDGET",
    "LEVELS",
    "Bot",
    "NoBot",
    "UnknownLevel",
    "choose_move",
    "get_bot",
    "levels_of",
    "solve",
]


def _builtin_bot(
    game: str, level: str, seed: int | None, time_budget: float | None
) -> Bot:
    """Tic-tac-toe and connect-four: the shared weaker levels and each game's ``hard``."""
    if level != "hard":
        from game.bots.simple import EasyBot, MediumBot, RandomBot

        cls = {"random": RandomBot, "easy": EasyBot, "medium": MediumBot}[level]
        return cls(game, seed)
    if game == "tictactoe":
        from game.bots.tictactoe import PerfectTicTacToe

        return PerfectTicTacToe(seed)
    from game.bots.connect4 import HardConnect4

    return HardConnect4(seed, time_budget)


def _othello_bot(game: str, level: str, seed: int | None, time_budget: float | None) -> Bot:
    from game.games.othello.bots import get_bot as othello_bot

    return othello_bot(level, seed, time_budget)


BotFactory = Callable[[str, str, "int | None", "float | None"], Bot]

_FACTORIES: Final[dict[str, tuple[BotFactory, tuple[str, ...]]]] = {
    "tictactoe": (_builtin_bot, LEVELS),
    "connect4": (_builtin_bot, LEVELS),
    "othello": (_othello_bot, LEVELS),
}
"""Each game's bot factory ``(game, level, seed, time_budget) -> Bot`` and the levels
it has: the one place a game's bots are registered."""


class NoBot(ValueError):
    """The game has no built-in bot at this level (or no bots at all)."""

    def __init__(self, game: str, level: str, levels: Sequence[str]) -> None:
        self.game = game
        self.level = level
        has = f"its levels: {', '.join(levels)}" if levels else "it has no built-in bots"
        super().__init__(f"{game} has no {level!r} bot; {has}")


def levels_of(game: str) -> tuple[str, ...]:
    """The built-in bot levels ``game`` has, weakest first (``()`` if none).

    Raises:
        game.rules.UnknownGame: unknown game.
    """
    name = get_rules(game).name
    entry = _FACTORIES.get(name)
    return () if entry is None else entry[1]


def get_bot(
    game: str, level: str, seed: int | None = None, time_budget: float | None = None
) -> Bot:
    """A new bot for ``game`` at ``level`` (one of :data:`LEVELS`), the game's own.

    Args:
        game: a name from :data:`game.rules.GAMES`.
        level: ``"random"``, ``"easy"``, ``"medium"`` or ``"hard"`` (see :func:`levels_of`).
        seed: seeds the bot's private ``random.Random``; the same seed gives the same
            choices (a ``hard`` bot with a time budget also depends on how far its
            timed search gets).
        time_budget: seconds per move for the searching ``hard`` bots (connect-four,
            othello; default :data:`DEFAULT_TIME_BUDGET`); the others ignore it.

    Raises:
        game.rules.UnknownGame: unknown game (a ``KeyError`` and a ``ValueError``).
        UnknownLevel: unknown level (a ``ValueError``) whose message lists the levels.
        NoBot: a known level this game has no bot for (a ``ValueError``).
    """
    rules = get_rules(game)
    if level not in LEVELS:
        raise UnknownLevel(level)
    factory, levels = _FACTORIES.get(rules.name, (None, ()))
    if factory is None or level not in levels:
        raise NoBot(rules.name, level, levels)
    return factory(rules.name, level, seed, time_budget)


def solve(state: State) -> int:
    """The exact value of ``state`` for the side to move under perfect play.

    * connect-four: Pascal Pons' score: ``22 - stones the winner played`` when the side
      to move wins, ``0`` for a draw, ``stones the winner played - 22`` when it loses.
    * tic-tac-toe: ``+1`` win, ``0`` draw, ``-1`` loss.

    A finished game is scored for the seat that would move next (a loss if anyone won).
    Unbounded in time: solving an early connect-four position can take very long.

    Raises:
        TypeError: any other game (othello has no exact solver).
    """
    if isinstance(state, Connect4State):
        from game.bots.connect4 import solve_exact

        return solve_exact(state)
    if isinstance(state, TicTacToeState):
        from game.bots.tictactoe import minimax_value

        return minimax_value(state)
    raise TypeError(f"cannot solve a {type(state).__name__}: only tic-tac-toe and "
                    "connect-four have an exact solver")


_bots: dict[tuple[str, str, float | None], Bot] = {}


def choose_move(
    game: str,
    level: str,
    moves: Sequence[int | None],
    seed: int | None = None,
    time_budget: float | None = None,
) -> int:
    """Replay ``moves`` and return the bot's move: made to run in a worker process.

    A plain top-level function of picklable arguments, for ``ProcessPoolExecutor``.
    With a ``seed`` the answer depends only on the arguments (a fresh generator each
    call; vary the seed per move, e.g. with the ply); the connect-four ``hard`` bot
    reuses its process-wide tables across calls, which only makes it faster.

    Raises:
        game.rules.IllegalMove: ``moves`` is not a legal game.
        ValueError: unknown game or level, or the game is already over.
    """
    # A pass (None in a record) is implied by the position: replay the moves alone.
    state = get_rules(game).replay([m for m in moves if m is not None])
    if seed is None:
        key = (game, level, time_budget)
        bot = _bots.get(key)
        if bot is None:
            bot = _bots[key] = get_bot(game, level, None, time_budget)
    else:
        bot = get_bot(game, level, seed, time_budget)
    return bot.choose(state)
