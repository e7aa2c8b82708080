"""Othello in the registries of game.rules and game.bots: its own rules and bots, a
clear error for what it lacks, never another game's bot."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from game.bots import LEVELS, NoBot, UnknownLevel, choose_move, get_bot, levels_of, solve
from game.bots.simple import move_weights
from game.games import get_game, register
from game.games.othello import GAME
from game.games.othello import bots as othello_bots
from game.games.othello.fixtures import TWO_PASSES
from game.games.othello.rules import OTHELLO
from game.rules import GAMES, UnknownGame, get_rules


def test_othello_is_registered_once_with_its_own_rules() -> None:
    assert GAMES.count("othello") == 1
    assert get_rules("othello") is OTHELLO
    assert get_rules("tictactoe").name == "tictactoe" and get_rules("connect4").cols == 7


def test_a_game_package_imported_first_does_not_break_the_registry() -> None:
    """The registry loads a game package on first use: importing the package before
    game.rules must not be a circular import."""
    code = ("import game.games.othello.bots; from game.rules import get_rules; "
            "print(get_rules('othello').title)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "Othello", done.stderr


@pytest.mark.parametrize("level", LEVELS)
def test_othello_bots_are_its_own(level: str) -> None:
    bot = get_bot("othello", level, seed=1, time_budget=0.05)
    assert type(bot).__module__ == othello_bots.__name__
    assert bot.choose(OTHELLO.initial()) in OTHELLO.initial().legal_moves()
    assert levels_of("othello") == LEVELS


def test_choose_move_takes_a_record_with_passes() -> None:
    record = TWO_PASSES.record[:59]  # up to black's pass: white to move again
    assert record[-1] is None
    move = choose_move("othello", "medium", record, seed=2)
    assert move in OTHELLO.replay(record).legal_moves()


def test_unknown_games_and_levels_are_clear_errors() -> None:
    with pytest.raises(UnknownGame, match="othello"):
        get_bot("gomoku", "hard")
    with pytest.raises(UnknownLevel):
        get_bot("othello", "grandmaster")


def test_a_level_a_game_lacks_is_refused_not_replaced() -> None:
    assert get_game("othello") is GAME
    try:
        register(dataclasses.replace(GAME, levels=("random",)), replace=True)
        with pytest.raises(NoBot, match="othello has no 'hard' bot; its levels: random"):
            get_bot("othello", "hard")
        register(dataclasses.replace(GAME, bots=None, levels=()), replace=True)
        with pytest.raises(NoBot, match="no built-in bots"):
            get_bot("othello", "random")
        assert levels_of("othello") == ()
    finally:
        register(GAME, replace=True)
    assert get_game("othello") is GAME and levels_of("othello") == LEVELS


def test_othello_has_no_exact_solver_and_its_own_centre() -> None:
    with pytest.raises(TypeError, match="OthelloState: othello has no exact solver"):
        solve(OTHELLO.initial())
    weights = move_weights("othello")  # by ring: only the shared levels would use them
    assert len(weights) == 64 and weights[27] == weights[36] == 4 > weights[18] == 3
    assert weights[0] == weights[7] == weights[63] == weights[3] == 1
