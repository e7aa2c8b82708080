"""The shared rules interface: registry, errors, immutability, hashing, pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

from game.rules import (
    GAMES,
    REASONS,
    Connect4State,
    IllegalMove,
    Outcome,
    Rules,
    State,
    TicTacToeState,
    UnknownGame,
    get_rules,
)

# The placement games these shared tests were written for; othello (captures, passes,
# a non-empty start) has its own in tests/games/othello.
PLACEMENT_GAMES = ("tictactoe", "connect4")


def test_registry() -> None:
    assert GAMES[:2] == PLACEMENT_GAMES and "othello" in GAMES
    ttt, c4 = get_rules("tictactoe"), get_rules("connect4")
    assert isinstance(ttt, Rules) and isinstance(c4, Rules)
    assert (ttt.name, ttt.title, ttt.rows, ttt.cols) == ("tictactoe", "Tic-tac-toe", 3, 3)
    assert (c4.name, c4.title, c4.rows, c4.cols) == ("connect4", "Connect Four", 6, 7)
    assert get_rules("connect4") is c4
    assert isinstance(ttt.initial(), TicTacToeState)
    assert isinstance(c4.initial(), Connect4State)


@pytest.mark.parametrize("name", ["chess", "", "Connect4", 3, None])
def test_unknown_game(name: object) -> None:
    with pytest.raises(UnknownGame) as info:
        get_rules(name)  # type: ignore[arg-type]
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert "tictactoe" in message and "connect4" in message
    assert repr(name) in message


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
def test_initial_state(game: str) -> None:
    rules = get_rules(game)
    s = rules.initial()
    assert s.to_move == 0
    assert s.ply == 0
    assert s.outcome is None and not s.is_over
    assert s.board() == [None] * (rules.rows * rules.cols)
    assert s.rules is rules
    assert s.legal_moves() == tuple(range(9 if game == "tictactoe" else 7))
    # board() returns a fresh list: mutating it cannot change the state
    b = s.board()
    b[0] = 1
    assert s.board()[0] is None


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
def test_states_are_immutable(game: str) -> None:
    s = get_rules(game).replay([1, 2])
    before = s.board()
    for attr in ("to_move", "ply", "outcome", "_ply", "new_attr"):
        with pytest.raises(AttributeError):
            setattr(s, attr, 5)
    with pytest.raises(AttributeError):
        del s._ply
    with pytest.raises(AttributeError):
        s.__dict__  # noqa: B018
    s.apply(0)
    assert s.board() == before and s.ply == 2


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
def test_pickle_and_copy(game: str) -> None:
    rules = get_rules(game)
    s = rules.replay([0, 1, 2])
    for clone in (pickle.loads(pickle.dumps(s)), copy.copy(s), copy.deepcopy(s)):
        assert clone == s and hash(clone) == hash(s)
        assert clone.board() == s.board() and clone.to_move == s.to_move
    assert pickle.loads(pickle.dumps(rules)) is rules


def test_order_independence_tictactoe() -> None:
    rules = get_rules("tictactoe")
    a = rules.replay([0, 4, 8, 2])
    b = rules.replay([8, 2, 0, 4])
    c = rules.replay([0, 2, 8, 4])
    assert a == b == c and hash(a) == hash(b) == hash(c)
    assert a != rules.replay([4, 0, 8, 2])  # X and O swapped
    assert a != rules.replay([0, 4, 8])
    assert len({a, b, c}) == 1


def test_order_independence_connect4() -> None:
    rules = get_rules("connect4")
    a = rules.replay([3, 3, 2, 4, 1])
    b = rules.replay([3, 4, 2, 3, 1])
    assert a == b and hash(a) == hash(b)
    assert a != rules.replay([3, 3, 1, 4, 2, 5])
    assert a != rules.replay([4, 3, 3, 2, 1])  # same cells, other colours
    assert len({a, b, rules.replay([2, 4, 3, 3, 1])}) == 1
    # a finished game too
    w1 = rules.replay([0, 6, 1, 6, 2, 5, 3])
    w2 = rules.replay([2, 5, 1, 6, 0, 6, 3])
    assert w1 == w2 and hash(w1) == hash(w2) and w1.outcome == w2.outcome


def test_states_of_different_games_differ() -> None:
    assert get_rules("tictactoe").initial() != get_rules("connect4").initial()


ILLEGAL = [
    ("tictactoe", [], True, "not_an_int"),
    ("tictactoe", [], False, "not_an_int"),
    ("tictactoe", [], "4", "not_an_int"),
    ("tictactoe", [], 4.0, "not_an_int"),
    ("tictactoe", [], None, "not_an_int"),
    ("tictactoe", [], -1, "out_of_range"),
    ("tictactoe", [], 9, "out_of_range"),
    ("tictactoe", [4], 4, "occupied"),
    ("tictactoe", [4, 0], 0, "occupied"),
    ("tictactoe", [0, 3, 1, 4, 2], 5, "game_over"),
    ("tictactoe", [0, 1, 2, 4, 3, 5, 7, 6, 8], 0, "game_over"),
    ("connect4", [], True, "not_an_int"),
    ("connect4", [], "3", "not_an_int"),
    ("connect4", [], 3.5, "not_an_int"),
    ("connect4", [], -1, "out_of_range"),
    ("connect4", [], 7, "out_of_range"),
    ("connect4", [2] * 6, 2, "column_full"),
    ("connect4", [0, 1, 0, 1, 0, 1, 0], 2, "game_over"),
]


@pytest.mark.parametrize(("game", "moves", "move", "reason"), ILLEGAL)
def test_illegal_moves(game: str, moves: list[int], move: object, reason: str) -> None:
    state = get_rules(game).replay(moves)
    with pytest.raises(IllegalMove) as info:
        state.apply(move)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, ValueError)
    assert err.reason == reason and reason in REASONS
    assert err.move is move
    assert repr(move) in str(err) and reason in str(err)
    if isinstance(move, int) and not isinstance(move, bool) and reason != "game_over":
        assert move not in state.legal_moves()


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
def test_replay_rejects_an_illegal_move(game: str) -> None:
    with pytest.raises(IllegalMove) as info:
        get_rules(game).replay([0, 0] if game == "tictactoe" else [0] * 7)
    assert info.value.reason == ("occupied" if game == "tictactoe" else "column_full")


def test_int_subclass_is_accepted() -> None:
    import enum

    class Cell(enum.IntEnum):
        CENTRE = 4

    s = get_rules("tictactoe").initial().apply(Cell.CENTRE)
    assert s.board()[4] == 0
    assert s == get_rules("tictactoe").replay([4])


def test_outcome_is_frozen() -> None:
    o = Outcome(0, (1, 2, 3))
    with pytest.raises(AttributeError):
        o.winner = 1  # type: ignore[misc]
    assert o == Outcome(0, (1, 2, 3)) and hash(o) == hash(Outcome(0, (1, 2, 3)))
    assert Outcome(None).line == ()


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
def test_to_move_alternates_and_is_none_when_over(game: str) -> None:
    s: State = get_rules(game).initial()
    seen = []
    while not s.is_over:
        seen.append(s.to_move)
        s = s.apply(s.legal_moves()[0])
    assert seen == [i % 2 for i in range(len(seen))]
    assert s.to_move is None and s.legal_moves() == () and s.winning_moves() == ()
    assert s.outcome is not None


def test_str_renders_the_board() -> None:
    s = get_rules("tictactoe").replay([0, 4])
    assert str(s) == "X..\n.O.\n..."
    s4 = get_rules("connect4").replay([3, 3])
    assert str(s4).splitlines()[-2:] == ["...O...", "...X..."]
