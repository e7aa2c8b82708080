"""Tic-tac-toe rules, checked by exhaustive enumeration through the public API."""

from __future__ import annotations

from collections import Counter

from game.rules import State, get_rules

RULES = get_rules("tictactoe")
LINES = [
    (0, 1, 2), (3, 4, 5), (6, 7, 8),
    (0, 3, 6), (1, 4, 7), (2, 5, 8),
    (0, 4, 8), (2, 4, 6),
]  # fmt: skip


def _reference_outcome(board: list[int | None]) -> tuple[int | None, tuple[int, ...]] | None:
    """Independent winner check on a plain list."""
    cells: set[int] = set()
    winner = None
    for line in LINES:
        marks = {board[c] for c in line}
        if len(marks) == 1 and None not in marks:
            winner = board[line[0]]
            cells.update(line)
    if winner is not None:
        return winner, tuple(sorted(cells))
    if None not in board:
        return None, ()
    return None


def test_complete_games() -> None:
    """255,168 games: 131,184 won by X, 77,904 by O, 46,080 drawn."""
    results: Counter[int | None] = Counter()

    def walk(state: State) -> None:
        if state.outcome is not None:
            results[state.outcome.winner] += 1
            return
        for move in state.legal_moves():
            walk(state.apply(move))

    walk(RULES.initial())
    assert sum(results.values()) == 255_168
    assert results == {0: 131_184, 1: 77_904, None: 46_080}


def test_reachable_positions() -> None:
    """5,478 distinct reachable positions, 958 of them terminal; checked cell by cell."""
    seen: set[State] = set()
    frontier = [RULES.initial()]
    seen.add(frontier[0])
    while frontier:
        state = frontier.pop()
        board = state.board()
        expected = _reference_outcome(board)
        if expected is None:
            assert state.outcome is None
            assert state.legal_moves() == tuple(i for i, c in enumerate(board) if c is None)
            assert state.to_move == board.count(None) % 2 ^ 1
        else:
            assert state.outcome is not None
            assert (state.outcome.winner, state.outcome.line) == expected
            assert state.legal_moves() == () and state.to_move is None
        assert state.ply == 9 - board.count(None)
        for move in state.legal_moves():
            child = state.apply(move)
            assert child.board()[move] == state.to_move
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    assert len(seen) == 5_478
    assert sum(s.outcome is not None for s in seen) == 958


def test_double_line_is_the_union() -> None:
    # X completes row 0 and column 0 with its last mark in the corner.
    s = RULES.replay([1, 4, 2, 5, 3, 7, 6, 8, 0])
    assert s.outcome is not None
    assert s.outcome.winner == 0
    assert s.outcome.line == (0, 1, 2, 3, 6)


def test_second_player_wins() -> None:
    s = RULES.replay([0, 4, 1, 2, 8, 6])
    assert s.outcome is not None
    assert (s.outcome.winner, s.outcome.line) == (1, (2, 4, 6))


def test_winning_moves() -> None:
    s = RULES.replay([0, 4, 1, 8])  # X threatens 2, O threatens nothing yet
    assert s.winning_moves() == (2,)
    assert s.winning_moves(0) == (2,)
    assert s.winning_moves(1) == ()
    s = s.apply(6)  # X threatens 2 and 3
    assert s.winning_moves(0) == (2, 3)
    assert s.winning_moves() == ()  # O to move has no winning move


def test_the_start_and_the_turns() -> None:
    s = RULES.initial()
    assert s.board() == [None] * 9 and s.legal_moves() == tuple(range(9))
    seen = []
    while not s.is_over:
        seen.append(s.to_move)
        s = s.apply(s.legal_moves()[0])
    assert seen == [i % 2 for i in range(len(seen))]  # no passes: seats alternate


def test_order_independence() -> None:
    a = RULES.replay([0, 4, 8, 2])
    b = RULES.replay([8, 2, 0, 4])
    c = RULES.replay([0, 2, 8, 4])
    assert a == b == c and hash(a) == hash(b) == hash(c)
    assert a != RULES.replay([4, 0, 8, 2])  # X and O swapped
    assert a != RULES.replay([0, 4, 8])
    assert len({a, b, c}) == 1


def test_int_subclass_is_accepted() -> None:
    import enum

    class Cell(enum.IntEnum):
        CENTRE = 4

    s = RULES.initial().apply(Cell.CENTRE)
    assert s.board()[4] == 0
    assert s == RULES.replay([4])


def test_str_renders_the_board() -> None:
    assert str(RULES.replay([0, 4])) == "X..\n.O.\n..."
