"""The registry of games (game.games): one definition per game, found in game/games/ or
named by GAME_EXTRA_GAMES, checked when built; and each registered game through the
core with its fixtures."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys

import pytest

from game.games import (
    FinishedGame,
    GameDefinition,
    Sentences,
    all_games,
    get_game,
    load,
    parse_specs,
)
from game.games.tictactoe import GAME as TICTACTOE
from game.rules import GAMES
from tests.games import checks
from tests.support import ROOT

FINISHED = [(game, fixture) for game in all_games() for fixture in game.fixtures.finished]


@pytest.mark.parametrize(("game", "fixture"), FINISHED,
                         ids=[f"{g.name}-{f.name}" for g, f in FINISHED])
def test_each_fixture_game_through_the_core(game: GameDefinition,
                                            fixture: FinishedGame) -> None:
    checks.check_finished_through_the_core(game, fixture)


@pytest.mark.parametrize("game", all_games(), ids=lambda g: g.name)
def test_each_game_says_what_a_client_needs(game: GameDefinition) -> None:
    checks.check_metadata(game)


def test_the_built_in_games_are_the_packages_of_game_games() -> None:
    packages = {path.name for path in (ROOT / "game" / "games").iterdir()
                if (path / "__init__.py").exists()}
    assert packages == {"tictactoe", "connect4", "othello"} <= set(GAMES)
    for name in packages:
        assert get_game(name) is importlib.import_module(f"game.games.{name}").GAME
    assert [game.order for game in all_games()] == sorted(game.order for game in all_games())


def test_extra_games_names() -> None:
    assert parse_specs("") == [] and parse_specs(" , ") == []
    assert parse_specs("a.b, c.d:GAME") == ["a.b", "c.d:GAME"]
    assert parse_specs('["a.b", " c "]') == ["a.b", "c"]
    with pytest.raises(ValueError, match="a list of module names"):
        parse_specs('[1, 2]')
    with pytest.raises(ValueError, match="no_such_module"):
        load("tests.games.no_such_module")
    with pytest.raises(ValueError, match="has no GameDefinition called RULES"):
        load("game.games.tictactoe:RULES")
    assert load("game.games.tictactoe") is TICTACTOE  # registered already: no change


def test_a_definition_is_checked_when_built() -> None:
    def rebuilt(**changes: object) -> GameDefinition:
        return dataclasses.replace(TICTACTOE, **changes)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="two seat labels"):
        rebuilt(seats=("X",))
    with pytest.raises(ValueError, match="'cell' or 'column'"):
        rebuilt(move="piece")
    with pytest.raises(ValueError, match="9 cell names, not 2"):
        rebuilt(cells=("a", "b"))
    with pytest.raises(ValueError, match="9 move weights"):
        rebuilt(move_weights=(1, 2, 3))
    with pytest.raises(ValueError, match="without a bot factory"):
        rebuilt(bots=None)
    with pytest.raises(ValueError, match="need a finished game"):
        rebuilt(fixtures=dataclasses.replace(TICTACTOE.fixtures, finished=()))
    with pytest.raises(TypeError, match="Rules instance"):
        rebuilt(rules="tictactoe")
    with pytest.raises(ValueError, match="may use only"):
        Sentences("{mover} took {square}.", None, {})
    with pytest.raises(ValueError, match=r"line: .* may use only"):
        Sentences("{mover} moved.", None, {"line": "{winner} by {margin}"})
    assert rebuilt(bots=None, levels=()).levels == ()


def test_another_process_loads_the_extra_games_from_its_environment() -> None:
    """What a server's bot worker does: GAME_EXTRA_GAMES alone makes the game known."""
    code = ("from game.bots import choose_move; from game.rules import GAMES; "
            "print(list(GAMES), choose_move('gomoku', 'medium', [0, 9, 1, 10, 2, 11, 3, 12]))")
    env = {**os.environ, "GAME_EXTRA_GAMES": "tests.games.gomoku"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['tictactoe',", "'connect4',", "'othello',", "'gomoku']", "4"]
