"""The shared rules interface, for every registered game: the registry, errors,
immutability, hashing, pickling, and each game's fixtures (finished games, refused
moves). A game's own rules are tested in tests/games/<name>/."""

from __future__ import annotations

import pytest

from game.games import FinishedGame, GameDefinition, IllegalCase, all_games, get_game, names
from game.rules import GAMES, REASONS, IllegalMove, Outcome, Rules, UnknownGame, get_rules
from tests.games import checks

DEFINITIONS = all_games()
FINISHED = [(game, fixture) for game in DEFINITIONS for fixture in game.fixtures.finished]
ILLEGAL = [(game, case) for game in DEFINITIONS for case in game.fixtures.illegal]


def by_name(game: GameDefinition) -> str:
    return game.name


def test_registry() -> None:
    assert tuple(GAMES) == names() == tuple(game.name for game in DEFINITIONS)
    assert GAMES[:3] == ("tictactoe", "connect4", "othello")  # the built-in games, in order
    assert len(GAMES) == len(set(GAMES)) and GAMES.count("othello") == 1
    for game in DEFINITIONS:
        rules = get_rules(game.name)
        assert isinstance(rules, Rules) and rules is game.rules is get_game(game.name).rules
        assert (rules.rows, rules.cols) > (0, 0) and rules.title
    ttt, c4 = get_rules("tictactoe"), get_rules("connect4")
    assert (ttt.name, ttt.title, ttt.rows, ttt.cols) == ("tictactoe", "Tic-tac-toe", 3, 3)
    assert (c4.name, c4.title, c4.rows, c4.cols) == ("connect4", "Connect Four", 6, 7)


@pytest.mark.parametrize("name", ["chess", "", "Connect4", 3, None, ["othello"]])
def test_unknown_game(name: object) -> None:
    with pytest.raises(UnknownGame) as info:
        get_rules(name)  # type: ignore[arg-type]
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert all(game in message for game in GAMES)
    assert repr(name) in message


@pytest.mark.parametrize("game", DEFINITIONS, ids=by_name)
def test_initial_state(game: GameDefinition) -> None:
    checks.check_initial_state(game)


@pytest.mark.parametrize("game", DEFINITIONS, ids=by_name)
def test_states_are_immutable_and_picklable(game: GameDefinition) -> None:
    checks.check_immutable_and_picklable(game)


@pytest.mark.parametrize(("game", "fixture"), FINISHED,
                         ids=[f"{g.name}-{f.name}" for g, f in FINISHED])
def test_finished_games(game: GameDefinition, fixture: FinishedGame) -> None:
    checks.check_finished_game(game, fixture)


@pytest.mark.parametrize(("game", "case"), ILLEGAL,
                         ids=[f"{g.name}-{len(c.before)}-{c.move!r}" for g, c in ILLEGAL])
def test_illegal_moves(game: GameDefinition, case: IllegalCase) -> None:
    checks.check_illegal(game, case)


@pytest.mark.parametrize("game", DEFINITIONS, ids=by_name)
def test_every_illegal_reason_has_a_fixture(game: GameDefinition) -> None:
    checks.check_illegal_reasons_are_covered(game)


def test_the_built_in_reasons() -> None:
    assert REASONS == ("occupied", "column_full", "out_of_range", "not_an_int", "game_over")
    with pytest.raises(IllegalMove) as info:
        get_rules("tictactoe").replay([4, 4])
    assert info.value.reason == "occupied" and "illegal move 4" in str(info.value)


def test_outcome_is_frozen() -> None:
    o = Outcome(0, (1, 2, 3))
    with pytest.raises(AttributeError):
        o.winner = 1  # type: ignore[misc]
    assert o == Outcome(0, (1, 2, 3)) and hash(o) == hash(Outcome(0, (1, 2, 3)))
    assert Outcome(None).line == () and Outcome(None).score is None
