"""Perfect tic-tac-toe, checked exhaustively against every possible opponent line."""

from __future__ import annotations

from functools import cache

import pytest

from game.bots import get_bot
from game.rules import State, get_rules

RULES = get_rules("tictactoe")


@cache
def reference(state: State) -> int:
    """Independent depth-adjusted negamax: (10 - final ply) for a win of the side to move."""
    if state.outcome is not None:
        return 0 if state.outcome.winner is None else -(10 - state.ply)
    return max(-reference(state.apply(m)) for m in state.legal_moves())


@pytest.mark.parametrize("seat", [0, 1])
def test_hard_never_loses_and_plays_perfectly(seat: int) -> None:
    bot = get_bot("tictactoe", "hard", seed=seat)
    results = {"win": 0, "draw": 0, "loss": 0}
    decisions = 0

    def walk(state: State) -> None:
        nonlocal decisions
        if state.outcome is not None:
            winner = state.outcome.winner
            results["draw" if winner is None else "win" if winner == seat else "loss"] += 1
            return
        if state.to_move == seat:
            move = bot.choose(state)
            decisions += 1
            # The fastest win, else a draw, else the slowest loss.
            assert -reference(state.apply(move)) == reference(state)
            walk(state.apply(move))
        else:
            for move in state.legal_moves():
                walk(state.apply(move))

    walk(RULES.initial())
    assert results["loss"] == 0
    assert results["win"] > 0 and results["draw"] > 0
    assert decisions > 50  # the bot was really consulted along every line


def test_hard_takes_the_fastest_win() -> None:
    # X can win at once (cell 2) or set up a slower win; it must win at once.
    state = RULES.replay([0, 3, 1, 4])
    assert get_bot("tictactoe", "hard", seed=0).choose(state) == 2


def test_hard_blocks_and_delays() -> None:
    # O to move after X threatens 0-4-8: blocking is the only move that does not lose.
    state = RULES.replay([0, 1, 4])
    assert get_bot("tictactoe", "hard", seed=0).choose(state) == 8


def test_hard_against_itself_draws() -> None:
    for seed in range(5):
        a, b = get_bot("tictactoe", "hard", seed=seed), get_bot("tictactoe", "hard", seed=seed + 9)
        state = RULES.initial()
        while state.outcome is None:
            state = state.apply((a if state.to_move == 0 else b).choose(state))
        assert state.outcome.winner is None


@pytest.mark.parametrize("level", ["easy", "medium"])
def test_weaker_levels_lose_to_hard(level: str) -> None:
    """Sanity check that the levels differ: hard never loses and wins some games."""
    wins = 0
    for seed in range(40):
        hard, other = get_bot("tictactoe", "hard", seed=seed), get_bot("tictactoe", level, seed)
        state = RULES.initial()
        while state.outcome is None:
            state = state.apply((hard if state.to_move == 0 else other).choose(state))
        assert state.outcome.winner != 1
        wins += state.outcome.winner == 0
    assert wins > 0
