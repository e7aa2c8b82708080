"""Built-in bots for every registered game (:mod:`game.games`), from ``random`` to ``hard``.

>>> from game.bots import get_bot, choose_move
>>> from game.rules import get_rules
>>> bot = get_bot("tictactoe", "hard", seed=1)
>>> bot.choose(get_rules("tictactoe").replay([0, 4, 8])) in (1, 3, 5, 7)  # a corner loses
True
>>> choose_move("connect4", "medium", [3, 2, 3, 2, 3], seed=7)  # block the column
3

Levels (:data:`LEVELS`): ``random`` plays uniformly at random; ``easy`` wins in one
and sometimes blocks; ``medium`` always wins in one and blocks the opponent's win in
one; ``hard`` is each game's own (perfect at tic-tac-toe; at connect-four exact when
the position can be solved within its time budget and a deep heuristic search
otherwise; an alpha-beta search at othello).  Each game says which levels it has and
makes its bots (:attr:`game.games.GameDefinition.bots`); the weaker levels of
tic-tac-toe and connect-four are the shared ones of :mod:`game.bots.simple`.

Importing this package is cheap: the engines are pure Python, imported with their game's
first bot, and build their tables on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

from game.bots.base import DEFAULT_TIME_BUDGET, LEVELS, Bot, UnknownLevel
from game.games import get_game
from game.rules import State, get_rules

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
    return get_game(game).levels


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
    definition = get_game(game)
    if level not in LEVELS:
        raise UnknownLevel(level)
    if definition.bots is None or level not in definition.levels:
        raise NoBot(definition.name, level, definition.levels)
    return definition.bots(definition.name, level, seed, time_budget)


def solve(state: State) -> int:
    """The exact value of ``state`` for the side to move under perfect play, in the
    scale of its game's solver (:attr:`game.games.GameDefinition.solve`):

    * connect-four: Pascal Pons' score: ``22 - stones the winner played`` when the side
      to move wins, ``0`` for a draw, ``stones the winner played - 22`` when it loses.
    * tic-tac-toe: ``+1`` win, ``0`` draw, ``-1`` loss.

    A finished game is scored for the seat that would move next (a loss if anyone won).
    Unbounded in time: solving an early connect-four position can take very long.

    Raises:
        TypeError: not a :class:`~game.rules.State`, or a game without an exact solver
            (othello).
    """
    if not isinstance(state, State):
        raise TypeError(f"solve takes a game position, not a {type(state).__name__}")
    definition = get_game(state.rules.name)
    if definition.solve is None:
        raise TypeError(f"cannot solve a {type(state).__name__}: {definition.name} has no "
                        "exact solver")
    return definition.solve(state)


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
